//! The documents a debtor or a court receives, as data: who writes to whom, the invoices, the
//! penalties with their basis, the deadline, how to pay, who signs. Pure and in the customer's
//! language; the back office lays them out as PDF or HTML, the words are all chosen here.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::customer::CustomerKind;
use crate::dunning::ladder::{Channel, StepKind};
use crate::dunning::penalty;
pub use crate::dunning::template::Language;
use crate::dunning::wording::{self, Letter};
use crate::error::Result;
use crate::identity::{LegalDocument, iban_grouped};
use crate::money::Money;
use crate::payref::PaymentReference;
use crate::report::Statement;
use crate::shop::ShopSettings;

/// Days a formal notice gives from its date: eight days to pay once received, and a week for
/// the registered letter to arrive and be collected from the post office.
pub const NOTICE_DEADLINE_DAYS: i64 = 15;

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "4 décembre 2026", "1er août 2025", "4 December 2026".
pub fn long_date(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::Fr => {
            let day = if d.day() == 1 { "1er".to_owned() } else { d.day().to_string() };
            format!("{day} {} {}", MONTHS_FR[d.month0() as usize], d.year())
        }
        Language::En => format!("{} {} {}", d.day(), MONTHS_EN[d.month0() as usize], d.year()),
    }
}

/// "1 234,56" with a no-break space between thousands, whatever the language: the shop is French.
pub fn amount(m: Money) -> String {
    let minor = m.minor();
    let (units, cents) = (minor.unsigned_abs() / 100, minor.unsigned_abs() % 100);
    let digits = units.to_string();
    let mut grouped = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{grouped},{cents:02}")
}

/// "1 234,56 €".
pub fn euros(m: Money) -> String {
    format!("{}\u{a0}€", amount(m))
}

/// "12,40 %".
fn rate(pct: &str) -> String {
    format!("{}\u{a0}%", pct.replace('.', ","))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Reminder,
    FormalNotice,
    CourtFile,
}

/// A party's block: its name first, then one line each (address, registration numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub paid: Money,
    pub left: Money,
}

/// One period of interest on one invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltyRow {
    pub invoice: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub base: Money,
    /// Percent per year, as a decimal string ("12.40").
    pub rate_pct: String,
    pub interest: Money,
}

/// A reminder that went out before this document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earlier {
    pub on: NaiveDate,
    pub step: String,
    pub channel: String,
}

/// The court and form an order-to-pay request goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Court {
    pub court: String,
    pub cerfa: String,
}

/// One formal notice, reminder or court file, every word in the customer's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub kind: DocumentKind,
    pub language: Language,
    pub date: NaiveDate,
    /// The town it is written from, before the date ("Lyon, le 4 décembre 2026").
    pub place: String,
    pub creditor: Party,
    pub debtor: Party,
    pub debtor_kind: CustomerKind,
    /// "Qualité : commerçant (professionnel)", for the court file.
    pub debtor_status: String,
    pub subject: String,
    /// Above the subject of a formal notice: how it is sent.
    pub mention: Option<String>,
    pub salutation: String,
    pub intro: Vec<String>,
    pub invoices: Vec<InvoiceRow>,
    pub penalties: Vec<PenaltyRow>,
    pub principal: Money,
    pub interest: Money,
    pub indemnity: Money,
    pub total: Money,
    /// The articles the claim rests on, one sentence each; only those that apply to this debtor.
    pub legal_basis: Vec<String>,
    pub closing: Vec<String>,
    pub deadline: Option<NaiveDate>,
    pub payment_link: Option<String>,
    /// Grouped by four for reading.
    pub iban: Option<String>,
    /// The customer's reference, to quote on a transfer so it is matched to the account.
    pub payment_reference: PaymentReference,
    pub earlier: Vec<Earlier>,
    pub signatory: Option<String>,
    pub signatory_role: Option<String>,
    pub court: Option<Court>,
    /// What a court file lists as attached.
    pub attachments: Vec<String>,
}

/// The legal basis of interest and indemnity for a debtor kind: (interest, indemnity).
/// One function, so that a new kind of debtor adds one arm here.
pub fn legal_basis(kind: CustomerKind, lang: Language) -> (&'static str, Option<&'static str>) {
    match (kind, lang) {
        (CustomerKind::Business, Language::Fr) => (
            "Pénalités de retard dues de plein droit dès le lendemain de l'échéance, au taux de la Banque centrale européenne majoré de 10 points (article L441-10 du Code de commerce).",
            Some(
                "Indemnité forfaitaire pour frais de recouvrement de 40 € par facture payée en retard (articles L441-10 et D441-5 du Code de commerce).",
            ),
        ),
        (CustomerKind::Business, Language::En) => (
            "Late-payment interest due by law from the day after the due date, at the European Central Bank rate plus 10 points (article L441-10 of the French Commercial Code).",
            Some(
                "Fixed recovery indemnity of 40 € per invoice paid late (articles L441-10 and D441-5 of the French Commercial Code).",
            ),
        ),
        (CustomerKind::Consumer, Language::Fr) => {
            ("Intérêts au taux légal à compter de la mise en demeure (article 1231-6 du Code civil).", None)
        }
        (CustomerKind::Consumer, Language::En) => (
            "Interest at the French legal rate from the formal notice (article 1231-6 of the French Civil Code).",
            None,
        ),
        (CustomerKind::Public, Language::Fr) => (
            "Intérêts moratoires dus de plein droit dès le lendemain de l'échéance, au taux de la Banque centrale européenne en vigueur au premier jour du semestre où ils ont commencé à courir, majoré de 8 points (article R2192-31 du Code de la commande publique).",
            Some(
                "Indemnité forfaitaire pour frais de recouvrement de 40 € par facture payée en retard (article D2192-35 du Code de la commande publique).",
            ),
        ),
        (CustomerKind::Public, Language::En) => (
            "Late-payment interest due by law from the day after the due date, at the European Central Bank rate in force on the first day of the half-year in which it began, plus 8 points (article R2192-31 of the French Public Procurement Code).",
            Some(
                "Fixed recovery indemnity of 40 € per invoice paid late (article D2192-35 of the French Public Procurement Code).",
            ),
        ),
    }
}

/// The debtor's standing as a court file states it. Beside [`legal_basis`], so a new kind of
/// debtor adds its arm in both.
pub fn debtor_status(kind: CustomerKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (CustomerKind::Business, Language::Fr) => "Qualité : commerçant (professionnel)",
        (CustomerKind::Business, Language::En) => "Status: trader (business)",
        (CustomerKind::Consumer, Language::Fr) => "Qualité : particulier (consommateur)",
        (CustomerKind::Consumer, Language::En) => "Status: private individual (consumer)",
        (CustomerKind::Public, Language::Fr) => "Qualité : personne publique (acheteur public)",
        (CustomerKind::Public, Language::En) => "Status: public body (public buyer)",
    }
}

/// Where an order to pay is asked for, as `dunning::court` decides it (between traders the
/// commercial court, otherwise the judicial court), in the customer's language with its Cerfa.
fn court_for(kind: CustomerKind, lang: Language) -> Court {
    let which = crate::dunning::court::court_for(kind);
    let form = match lang {
        Language::Fr => format!("Cerfa n° {} (requête en injonction de payer)", which.cerfa()),
        Language::En => format!("Cerfa no. {} (request for an order to pay)", which.cerfa()),
    };
    let mut name = which.name(lang).to_owned();
    if let Some(first) = name.get(..1) {
        name = first.to_uppercase() + &name[1..];
    }
    Court { court: name, cerfa: form }
}

/// The town of an address: its last line without the postcode ("69002 Lyon" → "Lyon").
fn town(address: &str) -> String {
    let last = address.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or_default();
    let last = last.rsplit(',').next().unwrap_or(last).trim();
    last.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace()).to_owned()
}

pub(crate) fn lines(text: &str) -> Vec<String> {
    text.lines().flat_map(|l| l.split(',')).map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn channel_words(channel: Channel, lang: Language) -> &'static str {
    match (lang, channel) {
        (Language::Fr, Channel::Email) => "courriel",
        (Language::Fr, Channel::Sms) => "SMS",
        (Language::Fr, Channel::Letter) => "courrier",
        (Language::Fr, Channel::PhoneCall) => "appel téléphonique",
        (Language::Fr, Channel::Till) => "à la caisse",
        (Language::Fr, Channel::Document) => "dossier",
        (Language::En, Channel::Email) => "email",
        (Language::En, Channel::Sms) => "SMS",
        (Language::En, Channel::Letter) => "letter",
        (Language::En, Channel::PhoneCall) => "phone call",
        (Language::En, Channel::Till) => "at the till",
        (Language::En, Channel::Document) => "file",
    }
}

/// The creditor's block: the legal identity where it is set, the shop's name and address otherwise.
pub(crate) fn creditor(shop: &ShopSettings, lang: Language) -> Party {
    let id = &shop.identity;
    let name = if id.legal_name.is_empty() { shop.shop_name.clone() } else { id.legal_name.clone() };
    let mut out = lines(if id.address.is_empty() { &shop.shop_address } else { &id.address });
    if !id.legal_form.is_empty() && !name.contains(&id.legal_form) {
        out.insert(0, id.legal_form.clone());
    }
    if let Some(siren) = id.siren() {
        out.push(format!("SIRET {} {} {} {}", &id.siret[..3], &id.siret[3..6], &id.siret[6..9], &id.siret[9..]));
        if !id.rcs_city.is_empty() {
            out.push(format!("RCS {} {} {} {}", id.rcs_city, &siren[..3], &siren[3..6], &siren[6..]));
        }
    }
    if !id.vat_number.is_empty() {
        let label = if lang == Language::Fr { "TVA" } else { "VAT" };
        out.push(format!("{label} {}", id.vat_number));
    }
    for contact in [&shop.shop_phone, &shop.shop_email] {
        if !contact.trim().is_empty() {
            out.push(contact.trim().to_owned());
        }
    }
    Party { name, lines: out }
}

/// Builds a reminder, formal notice or court file from what its text is written from. `sent`
/// are the reminders that actually left before, with the day they left. A formal notice or a
/// court file needs the shop's identity: the error names what is missing.
pub fn build(l: &Letter<'_>, sent: &[(NaiveDate, String, Channel)]) -> Result<Document> {
    let kind = match l.step.kind {
        StepKind::Reminder => DocumentKind::Reminder,
        StepKind::FormalNotice => DocumentKind::FormalNotice,
        StepKind::CourtFile => DocumentKind::CourtFile,
    };
    match kind {
        DocumentKind::FormalNotice => l.shop.identity.require(LegalDocument::FormalNotice)?,
        DocumentKind::CourtFile => l.shop.identity.require(LegalDocument::CourtFile)?,
        DocumentKind::Reminder => {}
    }
    let lang = l.customer.language;
    let fr = lang == Language::Fr;
    let claims = kind != DocumentKind::Reminder;
    let mut invoices = Vec::new();
    let mut penalties = Vec::new();
    let (mut interest, mut indemnity) = (Money::ZERO, Money::ZERO);
    for inv in l.invoices {
        invoices.push(InvoiceRow {
            reference: inv.reference.clone(),
            issued_on: inv.issued_on,
            due_on: inv.due_on,
            amount: inv.amount,
            paid: inv.amount - inv.remaining,
            left: inv.remaining,
        });
        if !claims || inv.due_on >= l.today {
            continue;
        }
        let p = penalty::compute(
            &penalty::PenaltyRequest {
                amount: inv.amount,
                due_on: inv.due_on,
                until: l.today,
                debtor: l.customer.kind,
                notice_on: l.notice_on,
                payments: l.payments.get(&inv.entry).cloned().unwrap_or_default(),
                contract_rate_pct: l.shop.dunning.contract_rate_pct,
                insolvent: l.insolvent_since.is_some_and(|d| d <= l.today),
            },
            l.rates,
        )?;
        for period in p.periods.iter().filter(|p| p.interest.is_positive()) {
            penalties.push(PenaltyRow {
                invoice: inv.reference.clone(),
                from: period.from,
                to: period.to,
                days: period.days,
                base: period.base,
                rate_pct: period.rate_pct.to_string(),
                interest: period.interest,
            });
        }
        interest += p.interest;
        indemnity += p.indemnity;
    }
    let principal: Money = l.invoices.iter().map(|i| i.remaining).sum();
    let total = principal + interest + indemnity;
    let (interest_basis, indemnity_basis) = legal_basis(l.customer.kind, lang);
    let mut basis = Vec::new();
    if interest.is_positive() {
        basis.push(interest_basis.to_owned());
    }
    if let Some(b) = indemnity_basis.filter(|_| indemnity.is_positive()) {
        basis.push(b.to_owned());
    }
    let deadline = (kind == DocumentKind::FormalNotice).then(|| l.today + Duration::days(NOTICE_DEADLINE_DAYS));
    let payment_link = l.shop.payment_link(l.customer, if claims { total } else { principal });
    let iban = Some(&l.shop.identity.iban).filter(|i| !i.is_empty()).map(|i| iban_grouped(i));
    let creditor = creditor(l.shop, lang);
    let mut debtor = Party { name: l.customer.name.clone(), lines: lines(l.customer.address.as_deref().unwrap_or("")) };
    if kind == DocumentKind::CourtFile {
        debtor.lines.push(if fr {
            format!("Client n° {}", l.customer.reference)
        } else {
            format!("Customer no. {}", l.customer.reference)
        });
    }
    let earlier: Vec<Earlier> = sent
        .iter()
        .map(|(on, step, channel)| Earlier {
            on: *on,
            step: step.clone(),
            channel: channel_words(*channel, lang).to_owned(),
        })
        .collect();
    let d = |x: NaiveDate| long_date(x, lang);
    let place = town(if l.shop.identity.address.is_empty() { &l.shop.shop_address } else { &l.shop.identity.address });
    let (subject, mention, intro, closing) = match kind {
        DocumentKind::Reminder => {
            let subject = if fr { "Rappel : factures impayées" } else { "Reminder: unpaid invoices" };
            let intro = vec![if fr {
                "Sauf erreur de notre part, les factures suivantes restent à régler :".to_owned()
            } else {
                "Unless we are mistaken, the following invoices remain unpaid:".to_owned()
            }];
            (subject.to_owned(), None, intro, Vec::new())
        }
        DocumentKind::FormalNotice => {
            let subject = if fr { "Mise en demeure de payer" } else { "Formal notice to pay (mise en demeure)" };
            let mention = if fr {
                "Lettre recommandée avec accusé de réception"
            } else {
                "Registered letter with acknowledgement of receipt"
            };
            let intro = vec![match (fr, earlier.is_empty()) {
                (true, true) => "Les factures suivantes restent impayées à ce jour :".to_owned(),
                (true, false) => "Malgré nos relances, les factures suivantes restent impayées à ce jour :".to_owned(),
                (false, true) => "The following invoices remain unpaid to date:".to_owned(),
                (false, false) => "Despite our reminders, the following invoices remain unpaid to date:".to_owned(),
            }];
            let deadline = deadline.unwrap_or(l.today);
            let mut closing = Vec::new();
            closing.push(if fr {
                format!(
                    "Par la présente, nous vous mettons en demeure de nous régler la somme de {} au plus tard le {}.",
                    euros(total),
                    d(deadline)
                )
            } else {
                format!("We hereby give you formal notice to pay us {} by {} at the latest.", euros(total), d(deadline))
            });
            if interest.is_positive() || l.customer.kind == CustomerKind::Consumer {
                closing.push(if fr {
                    "Les intérêts de retard continuent de courir jusqu'au complet paiement.".to_owned()
                } else {
                    "Interest keeps running until payment in full.".to_owned()
                });
            }
            closing.push(if fr {
                "À défaut de paiement dans ce délai, nous saisirons la juridiction compétente d'une requête en injonction de payer, sans autre avis.".to_owned()
            } else {
                "Failing payment by that date, we will apply to the competent court for an order to pay (injonction de payer) without further notice.".to_owned()
            });
            (subject.to_owned(), Some(mention.to_owned()), intro, closing)
        }
        DocumentKind::CourtFile => {
            let subject = if fr {
                "Requête en injonction de payer : éléments du dossier"
            } else {
                "Request for an order to pay (injonction de payer): the file"
            };
            let intro = vec![if fr {
                "Le créancier demande qu'il soit enjoint au débiteur de payer la somme ci-dessous, dont le détail et le fondement suivent (article 1407 du Code de procédure civile).".to_owned()
            } else {
                "The creditor asks that the debtor be ordered to pay the sum below, itemised with its legal basis (article 1407 of the French Code of Civil Procedure).".to_owned()
            }];
            (subject.to_owned(), None, intro, Vec::new())
        }
    };
    let attachments = if kind == DocumentKind::CourtFile {
        let mut a: Vec<String> = invoices
            .iter()
            .map(|i| {
                if fr {
                    format!("Facture {} du {}", i.reference, d(i.issued_on))
                } else {
                    format!("Invoice {} of {}", i.reference, d(i.issued_on))
                }
            })
            .collect();
        for e in &earlier {
            a.push(if fr {
                format!("{} ({}) du {}", e.step, e.channel, d(e.on))
            } else {
                format!("{} ({}) of {}", e.step, e.channel, d(e.on))
            });
        }
        a.push(
            if fr {
                "Accusé de réception de la mise en demeure"
            } else {
                "Acknowledgement of receipt of the formal notice"
            }
            .to_owned(),
        );
        a.push(if fr { "Conditions générales de vente" } else { "Terms of sale" }.to_owned());
        a
    } else {
        Vec::new()
    };
    let id = &l.shop.identity;
    let signs = claims && !id.representative.is_empty();
    Ok(Document {
        kind,
        language: lang,
        date: l.today,
        place,
        creditor,
        debtor,
        debtor_kind: l.customer.kind,
        debtor_status: debtor_status(l.customer.kind, lang).to_owned(),
        subject,
        mention,
        salutation: if fr { "Madame, Monsieur," } else { "Dear Sir or Madam," }.to_owned(),
        intro,
        invoices,
        penalties,
        principal,
        interest,
        indemnity,
        total,
        legal_basis: basis,
        closing,
        deadline,
        payment_link,
        iban,
        payment_reference: l.customer.payment_reference(),
        earlier,
        signatory: signs.then(|| id.representative.clone()),
        signatory_role: signs.then(|| id.representative_role.clone()).filter(|r| !r.is_empty()),
        court: (kind == DocumentKind::CourtFile).then(|| court_for(l.customer.kind, lang)),
        attachments,
    })
}

/// A statement as a document: the creditor's block and the customer's, the rest is the statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDocument {
    pub language: Language,
    pub date: NaiveDate,
    pub creditor: Party,
    pub debtor: Party,
    /// The customer's reference, to quote on a transfer so it is matched to the account.
    pub payment_reference: PaymentReference,
    pub statement: Statement,
}

impl StatementDocument {
    pub fn payment_reference_line(&self) -> String {
        wording::quote_reference(&self.payment_reference, self.language)
    }
}

impl Document {
    /// "Lyon, le 4 décembre 2026" / "Lyon, 4 December 2026".
    pub fn place_and_date(&self) -> String {
        let date = long_date(self.date, self.language);
        match (self.place.is_empty(), self.language) {
            (true, Language::Fr) => format!("Le {date}"),
            (true, Language::En) => date,
            (false, Language::Fr) => format!("{}, le {date}", self.place),
            (false, Language::En) => format!("{}, {date}", self.place),
        }
    }

    /// "Référence de paiement à indiquer : RF.." / "Payment reference to quote: RF..", as every
    /// letter and statement prints it beside the ways to pay.
    pub fn payment_reference_line(&self) -> String {
        wording::quote_reference(&self.payment_reference, self.language)
    }

    /// The rate as printed: "12,40 %".
    pub fn rate(row: &PenaltyRow) -> String {
        rate(&row.rate_pct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_in_long_form() {
        assert_eq!(long_date(d("2026-12-04"), Language::Fr), "4 décembre 2026");
        assert_eq!(long_date(d("2025-08-01"), Language::Fr), "1er août 2025");
        assert_eq!(long_date(d("2026-12-04"), Language::En), "4 December 2026");
    }

    #[test]
    fn amounts_the_french_way() {
        assert_eq!(euros(Money::from_minor(123_456)), "1\u{a0}234,56\u{a0}€");
        assert_eq!(amount(Money::from_minor(123_456_789)), "1\u{a0}234\u{a0}567,89");
        assert_eq!(amount(Money::from_minor(5)), "0,05");
        assert_eq!(amount(Money::from_minor(-4_000)), "-40,00");
        assert_eq!(rate("12.40"), "12,40\u{a0}%");
    }

    #[test]
    fn the_town_comes_from_the_address() {
        assert_eq!(town("12 rue de la République\n69002 Lyon"), "Lyon");
        assert_eq!(town("12 place de la République, 13210 Saint-Rémy-de-Provence"), "Saint-Rémy-de-Provence");
    }

    #[test]
    fn the_court_follows_the_debtor() {
        assert!(court_for(CustomerKind::Business, Language::Fr).cerfa.contains("12946"));
        assert!(court_for(CustomerKind::Consumer, Language::Fr).cerfa.contains("12948"));
        assert!(legal_basis(CustomerKind::Consumer, Language::Fr).0.contains("1231-6"));
        assert!(legal_basis(CustomerKind::Business, Language::Fr).1.unwrap().contains("D441-5"));
    }
}
