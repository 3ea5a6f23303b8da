//! Till search keys: names folded to lower case without accents, phones to their digits.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// "Hélène" -> "helene": the cashier types without accents and in any case.
pub fn fold(s: &str) -> String {
    s.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold)
}

/// The digits of a phone number, and its national form (+33 6... -> 06...) so both prefixes find it.
fn phone_keys(phone: &str) -> Vec<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let mut keys = vec![digits.clone()];
    if let Some(rest) = digits.strip_prefix("33").filter(|_| phone.trim_start().starts_with('+')) {
        keys.push(format!("0{rest}"));
    }
    keys
}

/// Every key under which a customer is found: each word of the name, the reference, the phone.
pub fn keys(reference: &str, name: &str, phone: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = words(name).collect();
    keys.push(fold(reference));
    keys.extend(phone.map(phone_keys).unwrap_or_default());
    keys.sort();
    keys.dedup();
    keys
}

/// The prefixes a query must all match. A query made of a phone number's characters is one key.
pub fn query_prefixes(query: &str) -> Vec<String> {
    let q = query.trim();
    let phone_like = q.chars().filter(char::is_ascii_digit).count() >= 2
        && q.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if phone_like {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        return vec![digits];
    }
    // A reference such as "C-0042" is searched whole as well as word by word.
    let mut p: Vec<String> = words(q).collect();
    if p.len() > 1 && !q.contains(char::is_whitespace) {
        p = vec![fold(q)];
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Hélène DUPRÉ"), "helene dupre");
        assert_eq!(fold("Ærø Çà"), "ærø ca");
    }

    #[test]
    fn keys_cover_name_words_reference_and_phone() {
        let k = keys("C-042", "Hélène Dupré-Martin", Some("+33 6 12 34 56 78"));
        for want in ["helene", "dupre", "martin", "c-042", "33612345678", "0612345678"] {
            assert!(k.contains(&want.to_string()), "{want} missing from {k:?}");
        }
    }

    #[test]
    fn queries_split_into_prefixes() {
        assert_eq!(query_prefixes("hel dup"), vec!["hel", "dup"]);
        assert_eq!(query_prefixes("06 12 34"), vec!["061234"]);
        assert_eq!(query_prefixes("C-04"), vec!["c-04"]);
        assert_eq!(query_prefixes("  "), Vec::<String>::new());
    }
}
