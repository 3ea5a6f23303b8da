//! Reminder templates in French and English with `{placeholder}`s. A template naming an unknown
//! placeholder is refused when saved, never discovered when a reminder is sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Every placeholder a template may use, with what it becomes.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("customer_name", "the customer's name"),
    ("customer_ref", "the customer's reference"),
    ("customer_address", "the customer's postal address"),
    ("amount_due", "what is overdue now, in euros"),
    ("invoice_count", "how many invoices are overdue"),
    ("invoice_list", "one line per overdue invoice: number, date, due date, amount left"),
    ("oldest_due_date", "the due date of the oldest overdue invoice"),
    ("days_late", "days since that due date"),
    ("payment_link", "a link to pay online, built from the shop's URL template"),
    ("payment_reference", "the customer's payment reference (RF...) to quote on a bank transfer"),
    ("plan_offer", "a sentence offering a payment plan"),
    ("penalties", "late-payment interest the law allows so far"),
    ("indemnity", "the 40 EUR recovery indemnity per late invoice (businesses)"),
    ("total_with_penalties", "amount due plus penalties and indemnity"),
    ("penalty_details", "how the penalties were computed, period by period"),
    ("reminder_history", "the reminders already sent, with dates and channels"),
    ("shop_name", "the shop's name"),
    ("shop_phone", "the shop's phone"),
    ("shop_email", "the shop's email"),
    ("shop_address", "the shop's postal address"),
    ("today", "the date of the reminder"),
    ("court", "the court an order to pay goes to, chosen by the parties (court file)"),
    ("cerfa", "the number of the Cerfa request form for that court (court file)"),
];

/// The language a customer's reminders are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(s: &str) -> Result<Language> {
        match s {
            "fr" => Ok(Language::Fr),
            "en" => Ok(Language::En),
            _ => Err(Error::Invalid { field: "language", reason: format!("{s:?}: use fr or en") }),
        }
    }
}

/// One template in one language: a subject and body (email, letter, call sheet, file) and a
/// short text for SMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "ReminderTemplate"))]
pub struct Template {
    pub name: String,
    pub language: Language,
    pub subject: String,
    pub body: String,
    pub sms: String,
}

/// The pieces of a template: literal text and placeholder names. `{{` and `}}` are braces.
fn parse(text: &str) -> Result<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{{") {
            out.push(Piece::Text("{"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            out.push(Piece::Text("}"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or_else(|| invalid(format!("unclosed {{ in {:?}", excerpt(rest))))?;
            let name = &r[..end];
            if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
                return Err(invalid(format!("unknown placeholder {{{name}}}")));
            }
            out.push(Piece::Var(name));
            rest = &r[end + 1..];
        } else if rest.starts_with('}') {
            return Err(invalid(format!("stray }} in {:?}", excerpt(rest))));
        } else {
            let end = rest.find(['{', '}']).unwrap_or(rest.len());
            out.push(Piece::Text(&rest[..end]));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn invalid(reason: String) -> Error {
    Error::Invalid { field: "template", reason }
}

fn excerpt(s: &str) -> String {
    s.chars().take(30).collect()
}

impl Template {
    /// Checks every part; called when a template is saved.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(invalid("a template needs a name".into()));
        }
        if self.body.trim().is_empty() {
            return Err(invalid(format!("template {:?} has an empty body", self.name)));
        }
        for part in [&self.subject, &self.body, &self.sms] {
            parse(part)?;
        }
        if self.sms.chars().count() > 480 {
            return Err(invalid(format!("template {:?}: the SMS text is longer than 480 characters", self.name)));
        }
        Ok(())
    }

    /// Fills a part of the template. Values missing from `values` become empty.
    pub fn fill(text: &str, values: &BTreeMap<&str, String>) -> Result<String> {
        Ok(parse(text)?
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_owned(),
                Piece::Var(v) => values.get(v).cloned().unwrap_or_default(),
            })
            .collect())
    }
}

/// The templates shipped with the library, in French and English, for the default ladder.
pub fn defaults() -> Vec<Template> {
    let t = |name: &str, language, subject: &str, body: &str, sms: &str| Template {
        name: name.into(),
        language,
        subject: subject.into(),
        body: body.into(),
        sms: sms.into(),
    };
    use Language::{En, Fr};
    vec![
        t(
            "courteous",
            Fr,
            "{shop_name} : petit rappel pour {amount_due} EUR",
            "Bonjour {customer_name},\n\nSauf erreur de notre part, le règlement suivant n'a pas encore été reçu :\n{invoice_list}\n\nMontant restant dû : {amount_due} EUR (échéance la plus ancienne le {oldest_due_date}).\n\nIl s'agit sans doute d'un oubli. Vous pouvez régler à la boutique, ou en ligne : {payment_link}\nRéférence de paiement à indiquer : {payment_reference}\nSi votre paiement s'est croisé avec ce message, merci de ne pas en tenir compte.\n\nUne question ? Appelez-nous au {shop_phone}.\n\nBien cordialement,\n{shop_name}",
            "{shop_name} : petit rappel, {amount_due} EUR restent à régler (échéance {oldest_due_date}). Paiement : {payment_link} Réf. {payment_reference} Questions : {shop_phone}",
        ),
        t(
            "courteous",
            En,
            "{shop_name}: a friendly reminder about {amount_due} EUR",
            "Hello {customer_name},\n\nUnless we are mistaken, we have not yet received payment for:\n{invoice_list}\n\nAmount outstanding: {amount_due} EUR (oldest due on {oldest_due_date}).\n\nThis is probably an oversight. You can pay at the shop or online: {payment_link}\nPayment reference to quote: {payment_reference}\nIf your payment crossed this message, please disregard it.\n\nAny question? Call us on {shop_phone}.\n\nKind regards,\n{shop_name}",
            "{shop_name}: friendly reminder, {amount_due} EUR outstanding (due {oldest_due_date}). Pay: {payment_link} Ref. {payment_reference} Questions: {shop_phone}",
        ),
        t(
            "second",
            Fr,
            "{shop_name} : second rappel, {amount_due} EUR en retard de {days_late} jours",
            "Bonjour {customer_name},\n\nMalgré notre premier rappel, les factures suivantes restent impayées :\n{invoice_list}\n\nMontant dû : {amount_due} EUR, en retard de {days_late} jours.\n\nMerci de régulariser sous 8 jours, à la boutique ou en ligne : {payment_link}\nRéférence de paiement à indiquer : {payment_reference}\n{plan_offer}\n\nSans règlement, nous devrons suspendre les achats sur compte et poursuivre le recouvrement.\nPour en parler : {shop_phone} ou {shop_email}.\n\nCordialement,\n{shop_name}",
            "{shop_name} : {amount_due} EUR impayés depuis {days_late} jours. Merci de régler sous 8 jours : {payment_link} (réf. {payment_reference}) ou appelez le {shop_phone}.",
        ),
        t(
            "second",
            En,
            "{shop_name}: second reminder, {amount_due} EUR {days_late} days late",
            "Hello {customer_name},\n\nDespite our first reminder, these invoices remain unpaid:\n{invoice_list}\n\nAmount due: {amount_due} EUR, {days_late} days late.\n\nPlease settle within 8 days, at the shop or online: {payment_link}\nPayment reference to quote: {payment_reference}\n{plan_offer}\n\nWithout payment we will have to suspend purchases on account and pursue collection.\nTo talk about it: {shop_phone} or {shop_email}.\n\nRegards,\n{shop_name}",
            "{shop_name}: {amount_due} EUR unpaid for {days_late} days. Please pay within 8 days: {payment_link} (ref. {payment_reference}) or call {shop_phone}.",
        ),
        t(
            "call",
            Fr,
            "Appeler {customer_name} ({customer_ref}) : {amount_due} EUR en retard",
            "À appeler : {customer_name} ({customer_ref})\nMontant dû : {amount_due} EUR, {invoice_count} facture(s), la plus ancienne échue le {oldest_due_date} ({days_late} jours).\n{invoice_list}\n\nDéjà envoyé :\n{reminder_history}\n\nÀ obtenir : une date et un montant de paiement (promesse), ou proposer un échéancier.\nNoter le résultat de l'appel : joint, pas de réponse, promesse.",
            "{shop_name} : nous avons essayé de vous joindre au sujet de {amount_due} EUR en retard. Merci de nous rappeler au {shop_phone}.",
        ),
        t(
            "call",
            En,
            "Call {customer_name} ({customer_ref}): {amount_due} EUR late",
            "To call: {customer_name} ({customer_ref})\nAmount due: {amount_due} EUR, {invoice_count} invoice(s), oldest due on {oldest_due_date} ({days_late} days).\n{invoice_list}\n\nAlready sent:\n{reminder_history}\n\nAim for: a payment date and amount (a promise), or offer a payment plan.\nRecord the outcome: reached, no answer, promise.",
            "{shop_name}: we tried to reach you about {amount_due} EUR overdue. Please call us back on {shop_phone}.",
        ),
        t(
            "formal_notice",
            Fr,
            "Mise en demeure de payer la somme de {total_with_penalties} EUR",
            "{shop_name}\n{shop_address}\n\n{customer_name}\n{customer_address}\n\nLe {today}\n\nLettre recommandée avec accusé de réception\n\nObjet : mise en demeure de payer\n\n{customer_name},\n\nMalgré nos relances :\n{reminder_history}\nles factures suivantes restent impayées :\n{invoice_list}\n\nPrincipal restant dû : {amount_due} EUR\nPénalités de retard : {penalties} EUR\nIndemnité forfaitaire pour frais de recouvrement : {indemnity} EUR\nTotal : {total_with_penalties} EUR\n\n{penalty_details}\n\nPar la présente, nous vous mettons en demeure de nous régler la somme de {total_with_penalties} EUR sous huit jours à compter de la réception de ce courrier. À défaut, nous saisirons la juridiction compétente d'une requête en injonction de payer, sans autre avis.\n\nVous pouvez régler à la boutique ou en ligne : {payment_link}\nRéférence de paiement à indiquer : {payment_reference}\n{plan_offer}\nPour tout échange : {shop_phone}, {shop_email}.\n\nVeuillez agréer nos salutations distinguées.\n\n{shop_name}",
            "{shop_name} : une mise en demeure de payer {total_with_penalties} EUR vous est adressée par courrier recommandé. Contact : {shop_phone}",
        ),
        t(
            "formal_notice",
            En,
            "Formal notice to pay {total_with_penalties} EUR",
            "{shop_name}\n{shop_address}\n\n{customer_name}\n{customer_address}\n\n{today}\n\nRegistered letter with acknowledgement of receipt\n\nSubject: formal notice to pay (mise en demeure)\n\n{customer_name},\n\nDespite our reminders:\n{reminder_history}\nthe following invoices remain unpaid:\n{invoice_list}\n\nPrincipal outstanding: {amount_due} EUR\nLate-payment interest: {penalties} EUR\nFixed recovery indemnity: {indemnity} EUR\nTotal: {total_with_penalties} EUR\n\n{penalty_details}\n\nWe hereby give you formal notice to pay {total_with_penalties} EUR within eight days of receiving this letter. Failing that, we will apply to the competent court for an order to pay (injonction de payer) without further notice.\n\nYou can pay at the shop or online: {payment_link}\nPayment reference to quote: {payment_reference}\n{plan_offer}\nTo reach us: {shop_phone}, {shop_email}.\n\nYours faithfully,\n\n{shop_name}",
            "{shop_name}: a formal notice to pay {total_with_penalties} EUR has been sent to you by registered letter. Contact: {shop_phone}",
        ),
        t(
            "court_file",
            Fr,
            "Dossier d'injonction de payer : {customer_name}, {total_with_penalties} EUR",
            "DOSSIER DE REQUÊTE EN INJONCTION DE PAYER\nPréparé le {today} par {shop_name} ({shop_address}, {shop_phone})\n\nDébiteur : {customer_name} ({customer_ref})\nAdresse : {customer_address}\n\nFactures impayées :\n{invoice_list}\n\nPrincipal : {amount_due} EUR\nPénalités de retard : {penalties} EUR\nIndemnité forfaitaire de recouvrement : {indemnity} EUR\nTotal réclamé : {total_with_penalties} EUR\n\nCalcul des pénalités :\n{penalty_details}\n\nRelances et mise en demeure :\n{reminder_history}\n\nPièces à joindre : les factures, la mise en demeure et son accusé de réception, les conditions de vente.\nÀ déposer au greffe du {court} (formulaire Cerfa {cerfa}).",
            "",
        ),
        t(
            "court_file",
            En,
            "Order-to-pay file: {customer_name}, {total_with_penalties} EUR",
            "FILE FOR AN ORDER TO PAY (INJONCTION DE PAYER)\nPrepared on {today} by {shop_name} ({shop_address}, {shop_phone})\n\nDebtor: {customer_name} ({customer_ref})\nAddress: {customer_address}\n\nUnpaid invoices:\n{invoice_list}\n\nPrincipal: {amount_due} EUR\nLate-payment interest: {penalties} EUR\nFixed recovery indemnity: {indemnity} EUR\nTotal claimed: {total_with_penalties} EUR\n\nPenalty calculation:\n{penalty_details}\n\nReminders and formal notice:\n{reminder_history}\n\nAttach: the invoices, the formal notice and its acknowledgement of receipt, the terms of sale.\nTo file with the clerk of the {court} (form Cerfa {cerfa}).",
            "",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_are_valid_in_both_languages() {
        let all = defaults();
        for t in &all {
            t.validate().unwrap_or_else(|e| panic!("{} {:?}: {e}", t.name, t.language));
        }
        for name in ["courteous", "second", "call", "formal_notice", "court_file"] {
            for lang in [Language::Fr, Language::En] {
                assert!(all.iter().any(|t| t.name == name && t.language == lang), "{name} {lang:?}");
            }
        }
    }

    #[test]
    fn unknown_placeholders_are_refused_when_saved() {
        let mut t = defaults().remove(0);
        t.body.push_str("{customer_nmae}");
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("unknown placeholder {customer_nmae}"), "{e}");
        t.body = "Hello {customer_name".into();
        assert!(t.validate().is_err());
        t.body = "Hello }".into();
        assert!(t.validate().is_err());
    }

    #[test]
    fn filling_replaces_placeholders_and_keeps_escaped_braces() {
        let mut v = BTreeMap::new();
        v.insert("customer_name", "Hélène".to_owned());
        v.insert("amount_due", "12.50".to_owned());
        let out = Template::fill("Bonjour {customer_name}, {{dû}} : {amount_due} EUR {shop_phone}.", &v).unwrap();
        assert_eq!(out, "Bonjour Hélène, {dû} : 12.50 EUR .");
    }
}
