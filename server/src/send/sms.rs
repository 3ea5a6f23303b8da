//! SMS transport: posts the reminder text to a configurable HTTP SMS provider.
//!
//! The provider contract is deliberately small so that any gateway can be put behind it:
//! `POST <url>` with JSON `{"to", "from", "text"}`, an `Idempotency-Key` header (the same for
//! every attempt at one reminder, from any server process, so a provider that honours it sends
//! a retried reminder once) and an optional bearer token; a 2xx answer whose JSON carries an
//! `id` gives the delivery detail.

use std::fmt;
use std::time::Duration;

use ardoise_core::payref;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::message::{Outgoing, SendError};

/// How to reach the SMS provider.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// Alphanumeric sender shown on the phone; the shop name when absent. Networks cap it at
    /// 11 ASCII letters, digits or spaces, so it is cut down to that.
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default = "default_sms_timeout")]
    pub timeout_secs: u64,
}

fn default_sms_timeout() -> u64 {
    15
}

impl SmsConfig {
    pub fn new(url: impl Into<String>) -> Self {
        SmsConfig { url: url.into(), bearer_token: None, sender: None, timeout_secs: default_sms_timeout() }
    }
}

// The token must not end up in logs through `{:?}`.
impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("url", &self.url)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("sender", &self.sender)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub(super) struct SmsSender {
    client: reqwest::Client,
    url: reqwest::Url,
    bearer_token: Option<String>,
    sender: Option<String>,
}

#[derive(Serialize)]
struct ProviderRequest<'a> {
    to: &'a str,
    from: &'a str,
    text: &'a str,
}

impl SmsSender {
    pub(super) fn new(cfg: SmsConfig) -> Result<Self, SendError> {
        let url = reqwest::Url::parse(&cfg.url)
            .map_err(|e| SendError::Permanent(format!("invalid SMS provider URL: {e}")))?;
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("ardoise-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SendError::Permanent(format!("cannot build HTTP client: {e}")))?;
        Ok(SmsSender {
            client,
            url,
            bearer_token: cfg.bearer_token.filter(|t| !t.trim().is_empty()),
            sender: cfg.sender,
        })
    }

    /// Returns the provider's message id, or the HTTP status when it gave none.
    pub(super) async fn send(&self, o: &Outgoing) -> Result<String, SendError> {
        let to = normalize_phone(&o.recipient)?;
        let from = sender_id(self.sender.as_deref().unwrap_or(&o.shop_name));
        let text = sms_text(&o.subject, &o.body);
        let mut request = self
            .client
            .post(self.url.clone())
            .header("Idempotency-Key", o.idempotency_key())
            .json(&ProviderRequest { to: &to, from: &from, text: &text });
        if let Some(token) = &self.bearer_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(classify_reqwest)?;
        let status = response.status();
        // The body is read in every case: on failure it usually says why.
        let body = response.bytes().await.map_err(classify_reqwest)?;
        if status.is_success() {
            let id = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| match v.get("id")? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            return Ok(id.unwrap_or_else(|| format!("HTTP {}", status.as_u16())));
        }
        let message = format!("SMS provider answered {status}: {}", excerpt(&String::from_utf8_lossy(&body)));
        // 408 and 429 are the provider asking us to come back later, not a verdict on the message.
        if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(SendError::Permanent(message))
        } else {
            Err(SendError::Transient(message))
        }
    }
}

fn classify_reqwest(e: reqwest::Error) -> SendError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "unreachable"
    } else {
        "failed"
    };
    // Reqwest's Display hides the cause (refused, reset, DNS...), which is what an operator needs.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    SendError::Transient(format!("SMS provider {what}: {detail}"))
}

fn excerpt(s: &str) -> String {
    const MAX: usize = 200;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Turns what the till recorded into E.164. French national numbers get their country code,
/// overseas departments included since they do not share +33.
fn normalize_phone(raw: &str) -> Result<String, SendError> {
    let invalid = || SendError::Permanent(format!("invalid phone number {raw:?}"));
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '/' | '\u{a0}' | '\u{202f}'))
        .collect();
    let international = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(national) = compact.strip_prefix('0') {
        if national.len() != 9 || !national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        // Mobile ranges of the overseas departments (ARCEP numbering plan).
        let country = match &national[..3] {
            "690" | "691" => "590",
            "694" => "594",
            "696" | "697" => "596",
            "692" | "693" | "639" => "262",
            _ => "33",
        };
        format!("{country}{national}")
    } else {
        return Err(invalid());
    };
    if !(8..=15).contains(&international.len())
        || !international.bytes().all(|b| b.is_ascii_digit())
        || international.starts_with('0')
    {
        return Err(invalid());
    }
    Ok(format!("+{international}"))
}

/// Alphanumeric sender ids only carry 11 ASCII letters, digits or spaces; a phone number
/// (a shop answering SMS on its own line) is passed through in E.164.
fn sender_id(name: &str) -> String {
    if let Ok(number) = normalize_phone(name) {
        return number;
    }
    let ascii: String = name.nfkd().filter(|c| c.is_ascii_alphanumeric() || *c == ' ').collect();
    let id: String = ascii.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(11).collect();
    let id = id.trim_end().to_owned();
    if id.is_empty() { "Ardoise".to_owned() } else { id }
}

/// How many concatenated SMS a reminder may cost at most.
const MAX_SEGMENTS: usize = 3;
/// Per concatenated segment (the user data header eats the rest of the 140 bytes).
const GSM7_SEGMENT: usize = 153;
const UCS2_SEGMENT: usize = 67;

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Sent as escape + character, so they cost two septets.
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// Cost of `text` in units of its encoding, or `None` when it needs UCS-2.
fn gsm7_len(text: &str) -> Option<usize> {
    text.chars().try_fold(0, |n, c| {
        if GSM7_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM7_EXTENDED.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// Subject on the first line, then the body with its whitespace folded, cut to
/// [`MAX_SEGMENTS`] segments at a word boundary.
///
/// The limit depends on the encoding the network will pick: 459 septets when every character
/// is in the GSM 03.38 alphabet, otherwise 201 UTF-16 units (UCS-2). French text with â, ê,
/// î, ô, û or ç always falls in the second case; accents are kept rather than stripped because
/// a reminder must read correctly.
pub(super) fn sms_text(subject: &str, body: &str) -> String {
    let subject = fold_whitespace(subject);
    let body = fold_whitespace(body);
    let full = match (subject.is_empty(), body.is_empty()) {
        (false, false) => format!("{subject}\n{body}"),
        (true, _) => body,
        (false, true) => subject,
    };
    let (budget, ellipsis): (usize, &str) = match gsm7_len(&full) {
        Some(_) => (GSM7_SEGMENT * MAX_SEGMENTS, "..."),
        None => (UCS2_SEGMENT * MAX_SEGMENTS, "…"),
    };
    let cost = |s: &str| gsm7_len(s).unwrap_or_else(|| s.encode_utf16().count());
    if cost(&full) <= budget {
        return full;
    }
    let text = cut(&full, budget - cost(ellipsis), cost, ellipsis);
    // The payment reference is what lets the transfer this text prompts be matched to the
    // account: when the cut took it away, it goes at the end and the words before give way.
    let lost = payref::find_in(&full)
        .into_iter()
        .filter(|r| !payref::find_in(&text).contains(r))
        .max_by_key(|r| r.as_str().len());
    match lost {
        Some(reference) => {
            let tail = format!(" {reference}");
            format!("{}{tail}", cut(&full, budget - cost(ellipsis) - cost(&tail), cost, ellipsis))
        }
        None => text,
    }
}

/// `full` cut to `room` at a word boundary, with `ellipsis` after it.
fn cut(full: &str, room: usize, cost: impl Fn(&str) -> usize, ellipsis: &str) -> String {
    let mut end = 0;
    let mut used = 0;
    for (i, c) in full.char_indices() {
        let mut buf = [0; 4];
        let w = cost(c.encode_utf8(&mut buf));
        if used + w > room {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    let cut = &full[..end];
    // Back off to the last space unless that would throw away most of the text.
    let cut = match cut.rfind([' ', '\n']) {
        Some(i) if i > end / 2 => &cut[..i],
        _ => cut,
    };
    format!("{}{ellipsis}", cut.trim_end_matches([' ', ',', ';', ':', '\n']))
}

fn fold_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers_become_e164() {
        assert_eq!(normalize_phone("06 12 34 56 78").unwrap(), "+33612345678");
        assert_eq!(normalize_phone("07.12.34.56.78").unwrap(), "+33712345678");
        assert_eq!(normalize_phone("+33 6 12 34 56 78").unwrap(), "+33612345678");
        assert_eq!(normalize_phone("0033612345678").unwrap(), "+33612345678");
        assert_eq!(normalize_phone("0690 12 34 56").unwrap(), "+590690123456");
        assert_eq!(normalize_phone("0692123456").unwrap(), "+262692123456");
        assert!(normalize_phone("12345").unwrap_err().is_permanent());
        assert!(normalize_phone("06 12 34").is_err());
        assert!(normalize_phone("+33 6 12 AB 56 78").is_err());
    }

    #[test]
    fn sender_ids_are_short_ascii() {
        assert_eq!(sender_id("Épicerie du Marché"), "Epicerie du");
        assert_eq!(sender_id("Café"), "Cafe");
        assert_eq!(sender_id("★"), "Ardoise");
        assert_eq!(sender_id("06 12 34 56 78"), "+33612345678");
    }

    #[test]
    fn short_texts_are_kept_whole() {
        assert_eq!(sms_text("Rappel", "Bonjour,\n\nvous devez   12,00 €."), "Rappel\nBonjour, vous devez 12,00 €.");
    }

    #[test]
    fn long_gsm_texts_fit_three_segments() {
        let body = "mot ".repeat(300);
        let text = sms_text("Rappel", &body);
        assert!(gsm7_len(&text).unwrap() <= 459, "{}", text.len());
        assert!(text.ends_with("mot..."));
    }

    #[test]
    fn long_ucs2_texts_fit_three_segments() {
        let body = "Vous êtes prié de régler ".repeat(30);
        let text = sms_text("Relance", &body);
        assert!(gsm7_len(&text).is_none());
        assert!(text.encode_utf16().count() <= 201);
        assert!(text.ends_with('…'));
        assert!(!text.ends_with(" …"));
    }

    #[test]
    fn a_payment_reference_cut_off_goes_at_the_end() {
        let reference = ardoise_core::PaymentReference::for_customer(ardoise_core::Uuid::from_u128(1234567));
        for (body, limit) in [
            (format!("{} réf. {reference} merci", "Vous êtes prié de régler ".repeat(10)), 201),
            (format!("{} ref. {reference} thanks", "Please pay ".repeat(60)), 459),
        ] {
            let text = sms_text("Relance", &body);
            assert!(gsm7_len(&text).unwrap_or_else(|| text.encode_utf16().count()) <= limit, "{text}");
            assert!(text.ends_with(&format!(" {reference}")), "{text}");
            assert_eq!(payref::find_in(&text), vec![reference.clone()], "{text}");
        }
        // A reference that fits stays where the text put it.
        let body = format!("réf. {reference} {}", "Vous êtes prié de régler ".repeat(10));
        let text = sms_text("Relance", &body);
        assert!(text.starts_with(&format!("Relance\nréf. {reference} Vous")), "{text}");
        assert!(text.ends_with('…'), "{text}");
    }

    #[test]
    fn euro_costs_two_septets() {
        assert_eq!(gsm7_len("10 €"), Some(5));
        assert_eq!(gsm7_len("reçu"), None);
    }
}
