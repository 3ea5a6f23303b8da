//! Email transport: builds the MIME message and hands it to an SMTP relay or drops it in a mail folder.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::message::{Outgoing, SendError, amount_lines};

/// How to reach the mail relay.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Defaults to 587 with STARTTLS, 25 without.
    #[serde(default)]
    pub port: Option<u16>,
    /// Without it the connection stays in clear text: only meant for a relay on loopback.
    #[serde(default = "default_true")]
    pub starttls: bool,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Per connection and per SMTP command.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_true() -> bool {
    true
}

fn default_smtp_timeout() -> u64 {
    30
}

impl SmtpConfig {
    /// A relay with the defaults a config file would get.
    pub fn new(host: impl Into<String>, port: u16, starttls: bool) -> Self {
        SmtpConfig {
            host: host.into(),
            port: Some(port),
            starttls,
            username: None,
            password: None,
            timeout_secs: default_smtp_timeout(),
        }
    }
}

// The password must not end up in logs through `{:?}`.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub(super) enum MailSender {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder { dir: PathBuf, transport: AsyncFileTransport<Tokio1Executor> },
}

impl MailSender {
    pub(super) fn smtp(cfg: &SmtpConfig) -> Result<Self, SendError> {
        let mut builder = if cfg.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| SendError::Permanent(format!("invalid SMTP relay {}: {e}", cfg.host)))?
        } else {
            if !is_loopback(&cfg.host) {
                tracing::warn!(
                    host = %cfg.host,
                    "SMTP without STARTTLS to a non-loopback host: mail and credentials travel in clear"
                );
            }
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
        };
        let port = cfg.port.unwrap_or(if cfg.starttls { 587 } else { 25 });
        builder = builder.port(port).timeout(Some(Duration::from_secs(cfg.timeout_secs.max(1))));
        match (&cfg.username, &cfg.password) {
            (Some(user), Some(pass)) => {
                builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(SendError::Permanent("SMTP username and password must be given together".to_owned()));
            }
        }
        Ok(MailSender::Smtp(builder.build()))
    }

    pub(super) fn folder(dir: PathBuf) -> Result<Self, SendError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| SendError::Permanent(format!("cannot create mail folder {}: {e}", dir.display())))?;
        let transport = AsyncFileTransport::<Tokio1Executor>::new(&dir);
        Ok(MailSender::Folder { dir, transport })
    }

    /// Returns the `Message-ID` for SMTP, the `.eml` path for the folder.
    pub(super) async fn send(&self, o: &Outgoing) -> Result<String, SendError> {
        let (message, message_id) = build_message(o)?;
        match self {
            MailSender::Smtp(transport) => {
                let response = transport.send(message).await.map_err(classify_smtp)?;
                tracing::debug!(
                    reminder = %o.reminder_id,
                    code = %response.code(),
                    reply = %response.message().collect::<Vec<_>>().join(" "),
                    "SMTP relay accepted the reminder"
                );
                Ok(message_id)
            }
            MailSender::Folder { dir, transport } => {
                // Only disk trouble can happen here, and a disk can be fixed.
                let id = transport
                    .send(message)
                    .await
                    .map_err(|e| SendError::Transient(format!("cannot write to {}: {e}", dir.display())))?;
                Ok(dir.join(format!("{id}.eml")).display().to_string())
            }
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Accepts a bare address, or `Name <address>` as people sometimes type it.
fn parse_address(raw: &str, what: &str) -> Result<Address, SendError> {
    let raw = raw.trim();
    raw.parse::<Address>()
        .or_else(|_| raw.parse::<Mailbox>().map(|m| m.email))
        .map_err(|e| SendError::Permanent(format!("invalid {what} email address {raw:?}: {e}")))
}

/// The email of a reminder, plain text and HTML; returns it with its `Message-ID`.
pub fn build_message(o: &Outgoing) -> Result<(Message, String), SendError> {
    let from_addr = parse_address(&o.shop_email, "shop")?;
    let to_addr = parse_address(&o.recipient, "recipient")?;
    // A retried send, by this process or another, is recognisable as the same message.
    let message_id = format!("<{}@{}>", o.idempotency_key(), from_addr.domain());
    let from = Mailbox::new(non_empty(&o.shop_name), from_addr);
    let to = Mailbox::new(non_empty(&o.customer_name), to_addr);
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(o.subject.trim())
        .message_id(Some(message_id.clone()))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(body_text(o), body_html(o)))
        .map_err(|e| SendError::Permanent(format!("cannot build email: {e}")))?;
    Ok((message, message_id))
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The rendered body followed by the amounts, which arrive as separate fields.
pub(super) fn body_text(o: &Outgoing) -> String {
    let mut text = String::new();
    if o.formal_notice {
        text.push_str("MISE EN DEMEURE\n\n");
    }
    text.push_str(o.body.trim_end());
    text.push_str("\n\n");
    for (label, amount) in amount_lines(o) {
        text.push_str(&format!("{label} : {amount}\n"));
    }
    text
}

fn body_html(o: &Outgoing) -> String {
    let mut body = String::new();
    if o.formal_notice {
        body.push_str("MISE EN DEMEURE\n\n");
    }
    body.push_str(o.body.trim_end());
    super::document::email_html(&body, &amount_lines(o), o.document.as_ref())
}

/// 5xx means the relay will never take this message, except when it is about our own
/// credentials: that is a configuration to fix, after which the reminder must still go.
fn classify_smtp(e: lettre::transport::smtp::Error) -> SendError {
    const AUTH_CODES: [u16; 4] = [530, 534, 535, 538];
    let code = e.status().map(u16::from);
    let message = format!("SMTP: {e}");
    if e.is_permanent() && !code.is_some_and(|c| AUTH_CODES.contains(&c)) {
        SendError::Permanent(message)
    } else {
        SendError::Transient(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.fr"));
    }

    #[test]
    fn addresses_accept_display_names() {
        assert_eq!(parse_address(" Jean <jean@example.fr> ", "x").unwrap().to_string(), "jean@example.fr");
        assert!(parse_address("pas une adresse", "x").unwrap_err().is_permanent());
    }
}
