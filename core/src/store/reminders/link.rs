//! A queued reminder's words with a payment link made for it at send time (a provider's
//! checkout page for exactly what it chases) in place of the shop's link template. The words
//! come from the same code as the queue's (`dunning::daily::refresh`); only the link differs,
//! so no text is ever patched after it was written.

use chrono::NaiveDate;
use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::dunning::daily::{self, Queued, Refresh};
use crate::dunning::ladder::Channel;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::reminders::{config, facts};

impl Store {
    /// The subject and body of reminder `id` as they read on `today` with `link` as its
    /// payment link. An error when the reminder no longer chases anything (it is cancelled at
    /// the next refresh) or cannot be written.
    pub fn reminder_words_with_link(&self, id: Uuid, link: &str, today: NaiveDate) -> Result<(String, String)> {
        self.read(|conn| {
            let row: Option<(i64, i64, i64, String)> = conn
                .prepare_cached("SELECT id, customer_id, level, channel FROM reminders WHERE uuid = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let (row, customer_id, level, channel) =
                row.ok_or_else(|| Error::NotFound { what: "reminder", id: id.to_string() })?;
            let mut config = config::load(conn)?;
            // A link made for this reminder: no placeholder in it to fill.
            config.shop.payment_url = Some(link.to_owned());
            let f = facts::gather(conn, customer_id, today)?;
            let queued =
                Queued { id: row, level: usize::try_from(level).unwrap_or(0), channel: Channel::parse(&channel)? };
            match daily::refresh(&f, &config, &queued, today)? {
                Refresh::Rewrite { rendered, .. } => Ok((rendered.subject, rendered.body)),
                _ => {
                    Err(Error::Invalid { field: "reminder", reason: format!("reminder {id} chases nothing any more") })
                }
            }
        })
    }
}
