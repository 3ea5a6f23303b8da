//! The words of a reminder: its template's placeholders filled from the customer's overdue
//! invoices, the penalties the law allows with their periods, the reminders already sent and the
//! shop's details, in the customer's language. Pure: the store gathers what it reads.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use uuid::Uuid;

use super::ladder::{Channel, Step, StepKind};
use super::penalty::{self, PenaltyRequest, RateTables};
use super::run::DueInvoice;
use super::template::{Language, Template};
use crate::customer::{Customer, CustomerKind};
use crate::error::Result;
use crate::money::Money;
use crate::payref::PaymentReference;
use crate::shop::ShopSettings;

/// An earlier reminder of the customer's, as the history in a letter lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contacted {
    /// The reminder's row, so a reminder rewritten later never lists itself.
    pub id: i64,
    pub on: NaiveDate,
    pub step: String,
    pub channel: Channel,
}

/// Everything one reminder is written from.
#[derive(Clone, Copy, Debug)]
pub struct Letter<'a> {
    pub shop: &'a ShopSettings,
    pub rates: &'a RateTables,
    pub template: &'a Template,
    pub step: &'a Step,
    pub channel: Channel,
    pub customer: &'a Customer,
    pub invoices: &'a [DueInvoice],
    /// What was paid on each invoice, by business date (its allocations).
    pub payments: &'a HashMap<Uuid, Vec<(NaiveDate, Money)>>,
    /// The day the customer's first formal notice was sent, from which a consumer owes
    /// interest.
    pub notice_on: Option<NaiveDate>,
    /// The day insolvency proceedings opened against the customer: no indemnity is claimed.
    pub insolvent_since: Option<NaiveDate>,
    /// The customer's earlier reminders, oldest first; `myself` is left out of them.
    pub history: &'a [Contacted],
    pub myself: Option<i64>,
    pub today: NaiveDate,
}

/// The rendered content of a reminder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub amount_due: Money,
    pub penalties: Money,
    pub indemnity: Money,
    pub recipient: Option<String>,
}

fn channel_name(channel: Channel, lang: Language) -> &'static str {
    match (lang, channel) {
        (Language::Fr, Channel::Email) => "courriel",
        (Language::Fr, Channel::Sms) => "SMS",
        (Language::Fr, Channel::Letter) => "courrier",
        (Language::Fr, Channel::PhoneCall) => "appel téléphonique",
        (Language::Fr, Channel::Till) => "à la caisse",
        (Language::Fr, Channel::Document) => "dossier",
        (Language::En, Channel::PhoneCall) => "phone call",
        (Language::En, Channel::Till) => "at the till",
        (Language::En, other) => other.as_str(),
    }
}

fn fmt_money(m: Money, lang: Language) -> String {
    match lang {
        // A plain space between thousands: a no-break space would make an SMS cost double.
        Language::Fr => crate::document::amount(m).replace('\u{a0}', " "),
        Language::En => m.to_string(),
    }
}

fn fmt_date(d: NaiveDate, lang: Language) -> String {
    crate::document::long_date(d, lang)
}

/// Penalties on the invoices as the law allows today: business debtors from the due date,
/// consumers from the formal notice (if one was sent). Interest, indemnity, and one line per
/// period.
fn penalties(l: &Letter<'_>, lang: Language) -> Result<(Money, Money, Vec<String>)> {
    let (mut interest, mut indemnity, mut lines) = (Money::ZERO, Money::ZERO, Vec::new());
    for inv in l.invoices.iter().filter(|i| i.due_on < l.today) {
        let req = PenaltyRequest {
            amount: inv.amount,
            due_on: inv.due_on,
            until: l.today,
            debtor: l.customer.kind,
            notice_on: l.notice_on,
            payments: l.payments.get(&inv.entry).cloned().unwrap_or_default(),
            contract_rate_pct: l.shop.dunning.contract_rate_pct,
            insolvent: l.insolvent_since.is_some_and(|d| d <= l.today),
        };
        let p = penalty::compute(&req, l.rates)?;
        for period in &p.periods {
            let (base, interest) = (fmt_money(period.base, lang), fmt_money(period.interest, lang));
            lines.push(match lang {
                Language::Fr => format!(
                    "{} : du {} au {} ({} jours) sur {base} EUR à {} % = {interest} EUR",
                    inv.reference,
                    fmt_date(period.from, lang),
                    fmt_date(period.to, lang),
                    period.days,
                    period.rate_pct.to_string().replace('.', ",")
                ),
                Language::En => format!(
                    "{}: {} to {} ({} days) on {base} EUR at {} % = {interest} EUR",
                    inv.reference,
                    fmt_date(period.from, lang),
                    fmt_date(period.to, lang),
                    period.days,
                    period.rate_pct
                ),
            });
        }
        interest += p.interest;
        indemnity += p.indemnity;
    }
    Ok((interest, indemnity, lines))
}

/// Writes one reminder.
pub fn render(l: &Letter<'_>) -> Result<Rendered> {
    let lang = l.customer.language;
    let amount_due: Money = l.invoices.iter().map(|i| i.remaining).sum();
    let oldest = l.invoices.iter().map(|i| i.due_on).min().unwrap_or(l.today);
    let (interest, indemnity, details) = penalties(l, lang)?;
    let history: Vec<String> = l
        .history
        .iter()
        .filter(|h| Some(h.id) != l.myself)
        .map(|h| format!("- {} : {} ({})", fmt_date(h.on, lang), h.step, channel_name(h.channel, lang)))
        .collect();
    let shop = l.shop;
    let customer = l.customer;
    let mut v: BTreeMap<&str, String> = BTreeMap::new();
    v.insert("customer_name", customer.name.clone());
    v.insert("customer_ref", customer.reference.clone());
    v.insert("customer_address", customer.address.clone().unwrap_or_default());
    v.insert("amount_due", fmt_money(amount_due, lang));
    v.insert("invoice_count", l.invoices.len().to_string());
    let list: Vec<String> = l
        .invoices
        .iter()
        .map(|i| match lang {
            Language::Fr => format!(
                "- facture {} du {}, échue le {} : {} EUR restant sur {} EUR",
                i.reference,
                fmt_date(i.issued_on, lang),
                fmt_date(i.due_on, lang),
                fmt_money(i.remaining, lang),
                fmt_money(i.amount, lang)
            ),
            Language::En => format!(
                "- invoice {} of {}, due {}: {} EUR left of {} EUR",
                i.reference,
                fmt_date(i.issued_on, lang),
                fmt_date(i.due_on, lang),
                fmt_money(i.remaining, lang),
                fmt_money(i.amount, lang)
            ),
        })
        .collect();
    v.insert("invoice_list", list.join("\n"));
    v.insert("oldest_due_date", fmt_date(oldest, lang));
    v.insert("days_late", (l.today - oldest).num_days().max(0).to_string());
    // A formal notice claims penalties too: its link asks for what the letter asks for.
    let claimed = match l.step.kind {
        StepKind::Reminder => amount_due,
        StepKind::FormalNotice | StepKind::CourtFile => amount_due + interest + indemnity,
    };
    let link = shop.payment_link(customer, claimed);
    let link = link.unwrap_or_else(|| match lang {
        Language::Fr => "à la boutique".into(),
        Language::En => "at the shop".into(),
    });
    v.insert("payment_link", link);
    let reference = customer.payment_reference();
    v.insert("payment_reference", reference.to_string());
    v.insert(
        "plan_offer",
        match lang {
            Language::Fr => format!(
                "Si cela vous aide, nous pouvons convenir d'un paiement en plusieurs fois : appelez-nous au {}.",
                shop.shop_phone
            ),
            Language::En => format!("If it helps, we can agree on a payment plan: call us on {}.", shop.shop_phone),
        },
    );
    v.insert("penalties", fmt_money(interest, lang));
    v.insert("indemnity", fmt_money(indemnity, lang));
    v.insert("total_with_penalties", fmt_money(amount_due + interest + indemnity, lang));
    let no_penalty = match lang {
        Language::Fr => "Aucune pénalité de retard à ce jour.".to_owned(),
        Language::En => "No late-payment interest so far.".to_owned(),
    };
    v.insert("penalty_details", if details.is_empty() { no_penalty } else { details.join("\n") });
    let none = match lang {
        Language::Fr => "- aucune relance précédente".to_owned(),
        Language::En => "- no earlier reminder".to_owned(),
    };
    v.insert("reminder_history", if history.is_empty() { none } else { history.join("\n") });
    v.insert("shop_name", shop.shop_name.clone());
    v.insert("shop_phone", shop.shop_phone.clone());
    v.insert("shop_email", shop.shop_email.clone());
    v.insert("shop_address", shop.shop_address.clone());
    v.insert("today", fmt_date(l.today, lang));
    let court = super::court::court_for(customer.kind);
    v.insert("court", court.name(lang).to_owned());
    v.insert("cerfa", court.cerfa().to_owned());
    let tpl = l.template;
    let subject = Template::fill(&tpl.subject, &v)?;
    let text = if l.channel == Channel::Sms && !tpl.sms.is_empty() { &tpl.sms } else { &tpl.body };
    let mut body = Template::fill(text, &v)?;
    // Every reminder carries the reference, so a transfer it prompts can be matched: a shop's
    // own template that does not place it (or one saved before it existed) gets it at the end.
    // Not the court file: it is written for the court, the customer never reads it.
    if !text.contains("{payment_reference}") && l.step.kind != StepKind::CourtFile {
        body.push_str(&reference_line(&reference, l.channel, lang));
    }
    let recipient = match l.channel {
        Channel::Email => customer.email.clone(),
        Channel::Sms | Channel::PhoneCall => customer.phone.clone(),
        Channel::Letter => customer.address.clone(),
        Channel::Till | Channel::Document => None,
    };
    Ok(Rendered { subject, body, amount_due, penalties: interest, indemnity, recipient })
}

/// How every letter, email and statement asks for the reference on a transfer.
pub fn quote_reference(reference: &PaymentReference, lang: Language) -> String {
    match lang {
        Language::Fr => format!("Référence de paiement à indiquer : {reference}"),
        Language::En => format!("Payment reference to quote: {reference}"),
    }
}

/// The reference on a line of its own, or in a few words at the end of a text message.
fn reference_line(reference: &PaymentReference, channel: Channel, lang: Language) -> String {
    match (channel, lang) {
        (Channel::Sms, Language::Fr) => format!(" Réf. paiement : {reference}"),
        (Channel::Sms, Language::En) => format!(" Payment ref: {reference}"),
        _ => format!("\n\n{}", quote_reference(reference, lang)),
    }
}

/// What the shop must add before the back office can send a reminder through `channel`.
pub fn missing_recipient(channel: Channel, recipient: Option<&str>) -> Option<&'static str> {
    match channel {
        Channel::Letter if recipient.is_none() => {
            Some("no postal address: add the customer's address before the letter can go")
        }
        Channel::Email if recipient.is_none() => Some("no email address"),
        Channel::Sms | Channel::PhoneCall if recipient.is_none() => Some("no phone number"),
        _ => None,
    }
}

/// The fees a step adds to the account when it is queued: the step's own fee, and for a formal
/// notice the indemnity and interest when the shop charges them to this kind of debtor. A
/// consumer is never charged a step's fee, whatever the ladder says: recovery costs without an
/// enforceable title stay with the creditor (Code des procédures civiles d'exécution L111-8).
/// A public buyer follows the shop's setting for businesses.
pub fn fees(step: &Step, kind: CustomerKind, shop: &ShopSettings, rendered: &Rendered) -> Vec<(Money, String)> {
    let mut out = Vec::new();
    if let Some(fee) = step.fee.filter(|_| kind != CustomerKind::Consumer) {
        out.push((fee, format!("frais : {}", step.name)));
    }
    let fees_on = match kind {
        CustomerKind::Business | CustomerKind::Public => shop.dunning.penalty_fees_business,
        CustomerKind::Consumer => shop.dunning.penalty_fees_consumer,
    };
    let (indemnity_basis, interest) = match kind {
        CustomerKind::Public => ("D2192-35", "intérêts moratoires (R2192-31)"),
        CustomerKind::Business => ("D441-5", "pénalités de retard (L441-10)"),
        CustomerKind::Consumer => ("", "intérêts au taux légal (Code civil 1231-6)"),
    };
    if step.kind == StepKind::FormalNotice && fees_on {
        if rendered.indemnity.is_positive() {
            out.push((rendered.indemnity, format!("indemnité forfaitaire de recouvrement ({indemnity_basis})")));
        }
        if rendered.penalties.is_positive() {
            out.push((rendered.penalties, interest.to_owned()));
        }
    }
    out
}
