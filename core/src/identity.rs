//! The shop's legal identity (name, form, SIRET, VAT number, registry, representative, IBAN),
//! which a formal notice and a court file must state, with the check keys of each number.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Who the shop is in law. Part of [`crate::ShopSettings`], so it reaches every device with them.
/// Empty fields are allowed while the owner fills them in; a document that needs one says which.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShopIdentity {
    /// The registered name ("dénomination sociale"), or the trader's own name.
    pub legal_name: String,
    /// SARL, SAS, EI...
    pub legal_form: String,
    /// 14 digits, spaces removed; its first 9 are the SIREN.
    pub siret: String,
    /// Intra-community VAT number, `FR` + 2-digit key + SIREN.
    pub vat_number: String,
    /// The town of the trade registry (RCS).
    pub rcs_city: String,
    /// The registered address, one line per line.
    pub address: String,
    pub representative: String,
    /// "gérant", "président"...
    pub representative_role: String,
    /// Upper case, spaces removed.
    pub iban: String,
}

/// The documents that state the shop's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalDocument {
    FormalNotice,
    CourtFile,
}

impl LegalDocument {
    pub fn as_str(self) -> &'static str {
        match self {
            LegalDocument::FormalNotice => "formal notice",
            LegalDocument::CourtFile => "court file",
        }
    }
}

impl ShopIdentity {
    /// Checks the keys of the numbers that are filled; empty ones are checked by [`Self::require`].
    pub fn validate(&self) -> Result<()> {
        if !self.siret.is_empty() {
            check_siret(&self.siret)?;
        }
        if !self.vat_number.is_empty() {
            check_vat(&self.vat_number, self.siren())?;
        }
        if !self.iban.is_empty() {
            check_iban(&self.iban)?;
        }
        Ok(())
    }

    /// Puts each number in its stored form (no spaces, upper case) and trims the words.
    pub fn normalised(mut self) -> ShopIdentity {
        self.siret = compact(&self.siret);
        self.vat_number = compact(&self.vat_number).to_ascii_uppercase();
        self.iban = compact(&self.iban).to_ascii_uppercase();
        for s in [
            &mut self.legal_name,
            &mut self.legal_form,
            &mut self.rcs_city,
            &mut self.address,
            &mut self.representative,
            &mut self.representative_role,
        ] {
            *s = s.trim().to_owned();
        }
        self
    }

    /// The SIREN, the SIRET's first 9 digits.
    pub fn siren(&self) -> Option<&str> {
        (self.siret.len() == 14).then(|| &self.siret[..9])
    }

    /// The fields `document` needs that are empty. A formal notice must name the creditor and a
    /// signatory; a court file (Code de procédure civile 1407) the creditor's full identity too.
    pub fn missing_for(&self, document: LegalDocument) -> Vec<&'static str> {
        let mut fields = vec![
            ("legal name", &self.legal_name),
            ("address", &self.address),
            ("SIRET", &self.siret),
            ("representative", &self.representative),
            ("representative role", &self.representative_role),
        ];
        if document == LegalDocument::CourtFile {
            fields.extend([("legal form", &self.legal_form), ("RCS city", &self.rcs_city)]);
        }
        fields.into_iter().filter(|(_, v)| v.trim().is_empty()).map(|(name, _)| name).collect()
    }

    /// A typed error naming every missing field, so the owner fixes them all at once.
    pub fn require(&self, document: LegalDocument) -> Result<()> {
        let missing = self.missing_for(document);
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::IdentityIncomplete { document: document.as_str(), missing })
    }
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').collect()
}

fn invalid(field: &'static str, reason: String) -> Error {
    Error::Invalid { field, reason }
}

/// The Luhn key: from the right, every second digit doubled (minus 9 past 9), sum divisible by 10.
fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum % 10 == 0
}

/// A SIRET is 14 digits whose SIREN (first 9) and whole both pass the Luhn key. La Poste's
/// establishments (SIREN 356 000 000) may use another key instead (digit sum divisible by 5).
pub fn check_siret(siret: &str) -> Result<()> {
    let s = compact(siret);
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("SIRET", format!("{siret:?}: 14 digits")));
    }
    if !luhn_ok(&s[..9]) {
        return Err(invalid("SIRET", format!("{siret:?}: the SIREN (first 9 digits) fails its check key")));
    }
    let whole_ok =
        luhn_ok(&s) || (&s[..9] == "356000000" && s.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0);
    if !whole_ok {
        return Err(invalid("SIRET", format!("{siret:?}: fails its check key (a digit is wrong)")));
    }
    Ok(())
}

/// French VAT number: `FR`, a key of 2 digits = (12 + 3 × (SIREN mod 97)) mod 97, the SIREN.
/// It must be the shop's own SIREN when the SIRET is known.
pub fn check_vat(vat: &str, siren: Option<&str>) -> Result<()> {
    let v = compact(vat).to_ascii_uppercase();
    let bad = |why: &str| invalid("VAT number", format!("{vat:?}: {why}"));
    let Some(rest) = v.strip_prefix("FR") else { return Err(bad("a French number starts with FR")) };
    if rest.len() != 11 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("FR, a 2-digit key and the 9-digit SIREN"));
    }
    let (key, own) = rest.split_at(2);
    let n: u64 = own.parse().map_err(|_| bad("not a number"))?;
    let expected = (12 + 3 * (n % 97)) % 97;
    if key.parse::<u64>().ok() != Some(expected) {
        return Err(bad(&format!("the key should be {expected:02} for SIREN {own}")));
    }
    if let Some(siren) = siren
        && siren != own
    {
        return Err(bad(&format!("its SIREN {own} is not the SIRET's {siren}")));
    }
    Ok(())
}

/// ISO 13616: country, 2 check digits, account; moved 4 characters to the end, letters as
/// 10..35, the number mod 97 is 1. A French IBAN is 27 characters.
pub fn check_iban(iban: &str) -> Result<()> {
    let s = compact(iban).to_ascii_uppercase();
    let bad = |why: &str| invalid("IBAN", format!("{iban:?}: {why}"));
    if !(15..=34).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad("15 to 34 letters and digits"));
    }
    if !s.as_bytes()[..2].iter().all(u8::is_ascii_uppercase) || !s.as_bytes()[2..4].iter().all(u8::is_ascii_digit) {
        return Err(bad("a country code and 2 check digits first"));
    }
    if s.starts_with("FR") && s.len() != 27 {
        return Err(bad("a French IBAN has 27 characters"));
    }
    let mut rem: u32 = 0;
    for b in s[4..].bytes().chain(s[..4].bytes()) {
        let v = if b.is_ascii_digit() { u32::from(b - b'0') } else { u32::from(b - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    if rem != 1 {
        return Err(bad("fails its check digits (a character is wrong)"));
    }
    Ok(())
}

/// The IBAN in groups of four, as people read and type it.
pub fn iban_grouped(iban: &str) -> String {
    let chars: Vec<char> = iban.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// A complete identity whose numbers pass their checks (made up), for tests, benchmarks and the demo.
#[doc(hidden)]
pub fn sample() -> ShopIdentity {
    ShopIdentity {
        legal_name: "Épicerie du Marché SARL".into(),
        legal_form: "SARL".into(),
        siret: "73282932000074".into(),
        vat_number: "FR44732829320".into(),
        rcs_city: "Tarascon".into(),
        address: "12 place de la République\n13210 Saint-Rémy-de-Provence".into(),
        representative: "Claire Martin".into(),
        representative_role: "gérante".into(),
        iban: "FR7630006000011234567890189".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siret_keys() {
        check_siret("732 829 320 00074").unwrap();
        check_siret("35600000000048").unwrap();
        assert!(check_siret("73282932000075").unwrap_err().to_string().contains("check key"));
        assert!(check_siret("73282932100074").unwrap_err().to_string().contains("SIREN"));
        assert!(check_siret("7328293200007").is_err());
    }

    #[test]
    fn vat_keys() {
        check_vat("FR 44 732829320", Some("732829320")).unwrap();
        let e = check_vat("FR45732829320", None).unwrap_err().to_string();
        assert!(e.contains("should be 44"), "{e}");
        assert!(check_vat("FR44732829320", Some("552100554")).unwrap_err().to_string().contains("not the SIRET"));
        assert!(check_vat("DE123456789", None).is_err());
    }

    #[test]
    fn iban_check_digits() {
        check_iban("FR76 3000 6000 0112 3456 7890 189").unwrap();
        check_iban("GB82WEST12345698765432").unwrap();
        assert!(check_iban("FR7630006000011234567890188").unwrap_err().to_string().contains("check digits"));
        assert!(check_iban("FR763000600001123456789018").unwrap_err().to_string().contains("27"));
        assert_eq!(iban_grouped("FR7630006000011234567890189"), "FR76 3000 6000 0112 3456 7890 189");
    }

    #[test]
    fn documents_name_every_missing_field() {
        let full = sample();
        full.validate().unwrap();
        full.require(LegalDocument::CourtFile).unwrap();
        let partial = ShopIdentity { legal_form: String::new(), representative: String::new(), ..sample() };
        partial.require(LegalDocument::FormalNotice).unwrap_err();
        match partial.require(LegalDocument::CourtFile) {
            Err(Error::IdentityIncomplete { document, missing }) => {
                assert_eq!(document, "court file");
                assert_eq!(missing, ["representative", "legal form"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_are_stored_compact() {
        let id = ShopIdentity {
            siret: "732 829 320 00074".into(),
            iban: "fr76 3000 6000 0112 3456 7890 189".into(),
            ..sample()
        }
        .normalised();
        assert_eq!(id.siret, "73282932000074");
        assert_eq!(id.iban, "FR7630006000011234567890189");
        assert_eq!(id.siren(), Some("732829320"));
    }
}
