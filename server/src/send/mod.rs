//! Reminder transports: delivers one already-rendered reminder by email, SMS or printed letter and says whether a failure is worth retrying.
//!
//! Deciding what to send and when belongs to the caller; this module only knows how to hand a
//! message to the outside world and how to classify what went wrong.

mod document;
mod letter;
mod mail;
mod message;
mod pdf;
mod sms;

use std::path::PathBuf;

use chrono::Utc;
use serde::{Deserialize, Serialize};

pub use document::{court_file_pdf, email_html, formal_notice_pdf, statement_pdf};
pub use letter::pdf as letter_pdf;
pub use mail::{SmtpConfig, build_message};
pub use message::{Channel, Delivery, Outgoing, SendError};
pub use pdf::pdf_text;
pub use sms::SmsConfig;

/// The words a reminder goes out with on its channel, as its transport writes them: an SMS
/// cut to its segments, an email's or a letter's body followed by the amounts. The back
/// office shows them before they leave.
pub fn text_of(o: &Outgoing) -> String {
    match o.channel {
        Channel::Sms => sms::sms_text(&o.subject, &o.body),
        Channel::Email | Channel::Letter => mail::body_text(o),
    }
}

/// Which transports exist; read by the server from its configuration file or flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportConfig {
    /// Real mail relay. Takes precedence over `mail_dir` when both are set.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// Writes each email as an `.eml` file in this folder instead of sending it.
    #[serde(default)]
    pub mail_dir: Option<PathBuf>,
    #[serde(default)]
    pub sms: Option<SmsConfig>,
    /// PDFs are written here as `<reminder_id>.pdf`.
    pub letters_dir: PathBuf,
}

/// The configured transports, built once and shared by every send.
#[derive(Debug, Clone)]
pub struct Transports {
    mail: Option<mail::MailSender>,
    sms: Option<sms::SmsSender>,
    letters_dir: PathBuf,
}

impl Transports {
    /// Checks the configuration and creates the output folders.
    ///
    /// Errors are always [`SendError::Permanent`]: they describe a configuration to fix.
    pub fn new(cfg: TransportConfig) -> Result<Self, SendError> {
        let mail = match (cfg.smtp, cfg.mail_dir) {
            (Some(smtp), dir) => {
                if let Some(dir) = dir {
                    tracing::warn!(
                        mail_dir = %dir.display(),
                        "both smtp and mail_dir are configured: emails go through SMTP"
                    );
                }
                Some(mail::MailSender::smtp(&smtp)?)
            }
            (None, Some(dir)) => Some(mail::MailSender::folder(dir)?),
            (None, None) => None,
        };
        let sms = cfg.sms.map(sms::SmsSender::new).transpose()?;
        std::fs::create_dir_all(&cfg.letters_dir).map_err(|e| {
            SendError::Permanent(format!("cannot create letters folder {}: {e}", cfg.letters_dir.display()))
        })?;
        Ok(Transports { mail, sms, letters_dir: cfg.letters_dir })
    }

    /// Delivers one reminder on its channel.
    ///
    /// A channel without a configured transport fails permanently: silently retrying a reminder
    /// that can never leave would hide the missing configuration from the shop.
    pub async fn send(&self, o: &Outgoing) -> Result<Delivery, SendError> {
        let detail = match o.channel {
            Channel::Email => {
                let mail = self
                    .mail
                    .as_ref()
                    .ok_or_else(|| SendError::Permanent("no email transport configured".to_owned()))?;
                mail.send(o).await?
            }
            Channel::Sms => {
                let sms =
                    self.sms.as_ref().ok_or_else(|| SendError::Permanent("no SMS provider configured".to_owned()))?;
                sms.send(o).await?
            }
            Channel::Letter => letter::write(&self.letters_dir, o).await?,
        };
        tracing::info!(reminder = %o.reminder_id, channel = %o.channel, %detail, "reminder sent");
        Ok(Delivery { channel: o.channel, detail, at: Utc::now() })
    }
}
