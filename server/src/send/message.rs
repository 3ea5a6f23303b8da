//! What a transport is given and gives back: the rendered reminder, its channel, the proof of
//! delivery or why it failed, and the amount lines the email and the letter share.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a reminder reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Letter,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Letter => "letter",
        })
    }
}

/// One rendered reminder, ready to go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub reminder_id: uuid::Uuid,
    pub channel: Channel,
    /// Email address, phone number (E.164 or French national form such as `06 12 34 56 78`),
    /// or the multi-line postal address of a letter.
    pub recipient: String,
    pub customer_name: String,
    pub shop_name: String,
    /// The `From:` of emails and the sender printed on letters.
    pub shop_email: String,
    pub subject: String,
    /// Plain UTF-8 text.
    pub body: String,
    /// Decimal strings such as `"1234.50"`, in euros.
    pub amount_due: String,
    pub penalties: String,
    pub indemnity: String,
    /// Mise en demeure: stated in the letter heading and at the top of the email.
    pub formal_notice: bool,
    /// The day the reminder goes out, which a letter is dated: the caller's clock, not the
    /// transport's.
    pub date: chrono::NaiveDate,
    /// The reminder as a document, when the back office could build it: a formal notice is
    /// laid out from it, and an email shows its invoices as a table with a button to pay.
    #[serde(default)]
    pub document: Option<ardoise_core::document::Document>,
}

impl Outgoing {
    /// The same for every attempt to send this reminder, from any server process and after
    /// any restart: the reminder's own id. The email's `Message-ID` and the SMS provider's
    /// `Idempotency-Key` header carry it, so the receiving side can recognise a retry.
    pub fn idempotency_key(&self) -> String {
        self.reminder_id.to_string()
    }
}

/// Proof that a reminder left: what the transport gave back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: Channel,
    /// SMTP `Message-ID`, path of the `.eml` file, SMS provider id, or path of the PDF.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Why a reminder did not leave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Retrying the same reminder cannot help: bad address, rejected by the provider,
    /// channel not configured.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The other side was unreachable or busy: try again later.
    #[error("transient failure: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }

    pub fn message(&self) -> &str {
        match self {
            SendError::Permanent(m) | SendError::Transient(m) => m,
        }
    }
}

/// `"1234.5"` → `"1 234,50 €"` with no-break spaces, the way a French reader expects an amount.
///
/// Anything that is not a plain decimal is shown as given rather than guessed at.
pub(crate) fn format_eur(amount: &str) -> String {
    const NBSP: char = '\u{a0}';
    let raw = amount.trim();
    let (sign, digits) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        return format!("{raw}{NBSP}€");
    }
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(NBSP);
        }
        grouped.push(c);
    }
    let frac = format!("{frac:0<2}");
    format!("{sign}{grouped},{frac}{NBSP}€")
}

/// Empty or all-zero amounts are left out of the summaries: "pénalités : 0,00 €" only adds noise.
fn is_zero(amount: &str) -> bool {
    amount.trim().trim_start_matches(['-', '+']).chars().all(|c| c == '0' || c == '.')
}

/// The amount lines shared by the email and the letter, as `(label, formatted amount)`.
pub(crate) fn amount_lines(o: &Outgoing) -> Vec<(&'static str, String)> {
    let mut lines = vec![("Montant dû", format_eur(&o.amount_due))];
    if !is_zero(&o.penalties) {
        lines.push(("Pénalités de retard", format_eur(&o.penalties)));
    }
    if !is_zero(&o.indemnity) {
        lines.push(("Indemnité forfaitaire pour frais de recouvrement", format_eur(&o.indemnity)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_written_the_french_way() {
        assert_eq!(format_eur("1234.50"), "1\u{a0}234,50\u{a0}€");
        assert_eq!(format_eur("40"), "40,00\u{a0}€");
        assert_eq!(format_eur("1234567.5"), "1\u{a0}234\u{a0}567,50\u{a0}€");
        assert_eq!(format_eur("-12.345"), "-12,345\u{a0}€");
        assert_eq!(format_eur("abc"), "abc\u{a0}€");
    }

    #[test]
    fn zero_amounts_are_recognised() {
        assert!(is_zero("0.00"));
        assert!(is_zero(""));
        assert!(!is_zero("0.01"));
    }
}
