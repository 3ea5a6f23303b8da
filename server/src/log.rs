//! A shop's log as one unit of work at a time: appending a checked batch (a device's push, or
//! the server's own events) in one transaction with gapless shop sequences, reading it a page
//! at a time, and telling a device that read a history the log no longer holds. Reading never
//! writes: only the operator (`new-epoch`) changes a shop's epoch. Used by the API and the
//! reminder dispatcher alike; the SQL is in `db::*`, the event rules in `rules`.

use ardoise_core::sync::protocol::{ChangesResponse, Event, MAX_PAGE, PushResponse, Rejection};
use uuid::Uuid;

use crate::db::devices::Usage;
use crate::db::events::{Accepted, Refused};
use crate::db::{Db, devices, events, now_ms, shops};
use crate::error::{ApiError, Error, Result};
use crate::limits::Quota;
use crate::rules::{Checked, Known, Verdict, check_batch, references, verdict};
use crate::secret;

/// What an append did: the device's answer, and how many events were repeats.
#[derive(Debug)]
pub(crate) struct Appended {
    pub response: PushResponse,
    pub repeats: usize,
}

/// Refusal when the device row vanished or was revoked between authentication and use.
fn gone() -> Error {
    Error::Refused(ApiError::unauthorized())
}

/// Appends a batch `rules::check_batch` accepted (`checked` is what it returned), in one
/// transaction. `device_epoch` is the epoch a pushing device believes current; the server's
/// own events come without one, and without a quota.
pub(crate) async fn append(
    db: &Db,
    shop: Uuid,
    device: Uuid,
    device_epoch: Option<Uuid>,
    batch: &[Event],
    checked: &[Checked],
    quota: Option<Quota>,
) -> Result<Appended> {
    let mut tx = db.begin_write().await?;
    let (current, head) = shops::lock(&mut tx, shop).await?.ok_or_else(|| Error::not_found("shop", shop))?;
    if device_epoch.is_some_and(|epoch| epoch != current) {
        return Err(ApiError::epoch_changed(current).into());
    }
    let standing = devices::standing(&mut tx, shop, device).await?.ok_or_else(gone)?;
    if standing.revoked {
        return Err(gone());
    }
    let (mut expected, mut head) = (standing.expected_seq, head);
    let fresh = batch.iter().position(|e| e.seq >= expected).unwrap_or(batch.len());
    if let Some(first) = batch.get(fresh).filter(|e| e.seq > expected) {
        // Even when the device says this server acknowledged more (a restored backup, or a
        // forged `acked_through`), the answer is the same: it resends from `expected`, which
        // its outbox still holds. The shop's epoch is not this device's to change.
        return Err(ApiError::sequence_gap(expected, first.seq).into());
    }
    let (fresh_events, fresh_checked) = (&batch[fresh..], &checked[fresh..]);
    // One statement per kind of write for the whole batch, not per event: each statement is a
    // round trip to the database (a hop to sqlx's SQLite thread, a loopback exchange with
    // PostgreSQL), which cost far more than the SQL itself.
    let mut known = Known {
        taken: events::taken_ids(&mut tx, db.backend(), shop, fresh_events).await?,
        entries: events::entries(&mut tx, db.backend(), shop, &references(fresh_checked)).await?,
    };
    let mut accepted: Vec<Accepted<'_>> = Vec::with_capacity(fresh_events.len());
    let mut refusals: Vec<(&Event, String, &str)> = Vec::new();
    let mut customers = Vec::new();
    let mut stored_bytes = 0u64;
    for (event, checked) in fresh_events.iter().zip(fresh_checked) {
        match verdict(&mut known, event, checked) {
            Verdict::Store { customer } => {
                head += 1;
                accepted.push((head, event, &checked.payload));
                stored_bytes += checked.payload.len() as u64;
                customers.extend(customer);
            }
            Verdict::Refuse(reason) => refusals.push((event, reason, &checked.payload)),
        }
        expected = event.seq + 1;
    }
    let now = now_ms();
    let usage = match quota {
        Some(quota) => charge(quota, standing.usage, fresh_events.len() as u64, stored_bytes, now)?,
        None => standing.usage,
    };
    customers.sort_unstable();
    customers.dedup();
    let refused: Vec<Refused<'_>> = refusals.iter().map(|(e, r, p)| (*e, r.as_str(), *p)).collect();
    events::insert_customers(&mut tx, shop, &customers).await?;
    events::insert_events(&mut tx, shop, device, &accepted, now).await?;
    events::insert_rejections(&mut tx, shop, device, &refused, now).await?;
    if fresh < batch.len() {
        devices::set_progress(&mut tx, device, expected, usage).await?;
        shops::set_head(&mut tx, shop, head).await?;
    }
    tx.commit().await?;
    let rejected = refusals.into_iter().map(|(e, reason, _)| Rejection { seq: e.seq, id: e.id, reason }).collect();
    let response = PushResponse { epoch: current, acked_through: expected - 1, rejected, head };
    Ok(Appended { response, repeats: fresh })
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// What the device will have used after `events` more events taking `bytes` more bytes, or the
/// quota it would pass (nothing of the batch is then written).
fn charge(quota: Quota, usage: Usage, events: u64, bytes: u64, now_ms: i64) -> Result<Usage> {
    let day = now_ms.div_euclid(DAY_MS);
    let today = if usage.day == day { usage.events_today } else { 0 };
    let usage = Usage { day, events_today: today + events, bytes_stored: usage.bytes_stored + bytes };
    if quota.events_per_day > 0 && usage.events_today > quota.events_per_day {
        let wait = (day + 1) * DAY_MS - now_ms;
        return Err(ApiError::quota(
            "quota_exceeded",
            format!(
                "this device may send {} events a day (UTC); {today} were taken today: try again after midnight UTC",
                quota.events_per_day
            ),
            Some(u64::try_from(wait).map_or(1, |ms| ms.div_ceil(1000))),
        )
        .into());
    }
    if quota.bytes_stored > 0 && usage.bytes_stored > quota.bytes_stored {
        return Err(ApiError::quota(
            "storage_quota",
            format!(
                "this device's events would occupy {} bytes, more than the {} it may: the operator can raise \
                 the quota (serve --quota-bytes)",
                usage.bytes_stored, quota.bytes_stored
            ),
            None,
        )
        .into());
    }
    Ok(usage)
}

/// The server's own events into the log; see [`Db::append_server_events`].
pub(crate) async fn append_server_events(
    db: &Db,
    shop: Uuid,
    server_device: Uuid,
    batch: &[Event],
) -> Result<PushResponse> {
    let checked = check_batch(batch, server_device, None)?;
    let token_hash = secret::unusable_token_hash();
    devices::insert_server_device(&mut *db.conn().await?, shop, server_device, &token_hash, now_ms()).await?;
    Ok(append(db, shop, server_device, None, batch, &checked, None).await?.response)
}

/// A page of the log for a device; see [`Db::changes_for`].
pub(crate) async fn page(db: &Db, shop: Uuid, after: u64, limit: u32, skip: Option<Uuid>) -> Result<ChangesResponse> {
    let mut conn = db.conn().await?;
    let current = shops::get(&mut conn, shop).await?;
    if after > current.head {
        return Err(cursor_ahead(after, &current).into());
    }
    let limit = limit.clamp(1, MAX_PAGE);
    // Bounded by the head read above, so that `next` never passes the `head` answered. Every
    // event up to that head is committed with it, so none can appear below it later.
    let changes = events::page(&mut conn, shop, after, current.head, limit, skip).await?;
    let (next, next_event) = match skip {
        // Fewer than a page of the others' events: the rest up to the head is the caller's.
        Some(_) if changes.len() < limit as usize && current.head > after => {
            let at = match changes.last().filter(|c| c.cursor == current.head) {
                Some(c) => c.event.id,
                None => events::id_at(&mut conn, shop, current.head)
                    .await?
                    .ok_or_else(|| Error::Corrupt(format!("no event at sequence {}, below the head", current.head)))?,
            };
            (current.head, Some(at))
        }
        // A full page (the rest may hold more of the others' events), or all events.
        _ => (changes.last().map_or(after, |c| c.cursor), None),
    };
    Ok(ChangesResponse { epoch: current.epoch, changes, next, head: current.head, next_event })
}

fn cursor_ahead(after: u64, shop: &shops::Shop) -> ApiError {
    ApiError::history_lost(
        "cursor_ahead",
        format!(
            "after={after} is beyond the head ({}) of this shop's log: this device read events the server does not \
             hold; it must resync from 0 and push its outbox again",
            shop.head
        ),
        shop.epoch,
    )
}

/// See [`Db::check_continuity`].
pub(crate) async fn check_continuity(db: &Db, shop: Uuid, after: u64, at: Uuid) -> Result<()> {
    let mut conn = db.conn().await?;
    let current = shops::get(&mut conn, shop).await?;
    if after > current.head {
        return Err(cursor_ahead(after, &current).into());
    }
    if events::id_at(&mut conn, shop, after).await? == Some(at) {
        return Ok(());
    }
    tracing::info!(%shop, after, "a device's history differs from the log");
    Err(ApiError::history_lost(
        "history_differs",
        format!(
            "the log holds another event than {at} at {after}: this device read a history the server does not hold; \
             it must resync from 0 and push its outbox again"
        ),
        current.epoch,
    )
    .into())
}

impl Db {
    /// Appends events the server itself records (reminders sent, for instance) under its own
    /// device id, with the same rules as a push: `events` carry consecutive sequences from
    /// [`Db::expected_seq`], and a retried batch is acknowledged, not applied twice. The
    /// device is registered in the shop on first use, with no token that could ever match.
    pub async fn append_server_events(
        &self,
        shop: Uuid,
        server_device: Uuid,
        events: &[Event],
    ) -> Result<PushResponse> {
        append_server_events(self, shop, server_device, events).await
    }

    /// The shop's events after cursor `after`, at most `limit` (capped to [`MAX_PAGE`]). A
    /// cursor beyond the head is refused with `cursor_ahead` (409): the reader holds events
    /// the log lost (a restored backup), or forged the cursor; either way it alone resyncs,
    /// and nothing is written.
    pub async fn changes(&self, shop: Uuid, after: u64, limit: u32) -> Result<ChangesResponse> {
        page(self, shop, after, limit, None).await
    }

    /// [`Db::changes`] without the events of device `skip`. The page still covers every event
    /// up to its `next`: when fewer than `limit` events of other devices remain, `next` is the
    /// head, and `next_event` names the event there for the device's continuity check.
    pub async fn changes_for(&self, shop: Uuid, after: u64, limit: u32, skip: Option<Uuid>) -> Result<ChangesResponse> {
        page(self, shop, after, limit, skip).await
    }

    /// A device that holds event `at` at sequence `after` while this log holds another (or
    /// none) there has seen a history this server does not hold (restored from a backup, or a
    /// forged request): refused with `history_differs` or `cursor_ahead` (409) and the shop's
    /// epoch, unchanged. Nothing is written: only that device resyncs.
    pub async fn check_continuity(&self, shop: Uuid, after: u64, at: Uuid) -> Result<()> {
        check_continuity(self, shop, after, at).await
    }
}
