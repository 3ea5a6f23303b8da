//! What the server checks in events before they join a shop's log, with no database and no
//! HTTP: the batch's shape (so that a bad batch is refused before the shop's lock is taken),
//! then each event by the core's own rules (`ardoise_core::store::check_event`, the rules a
//! till's writes pass), and last what only the log knows: ids already used, and the entries a
//! payment or a reversal names.

use std::collections::{HashMap, HashSet};

use ardoise_core::store::{Incoming, check_event};
use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{Event, KINDS, MAX_EVENT_BYTES, MAX_PUSH_EVENTS};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;

pub(crate) fn too_many(n: usize) -> ApiError {
    ApiError::too_large(format!("{n} events: a push carries at most {MAX_PUSH_EVENTS}"))
}

/// An event of a batch, checked: its payload as it will be stored, and what the core's rules
/// made of it (or why they refuse it).
#[derive(Debug)]
pub(crate) struct Checked {
    pub payload: String,
    pub incoming: Result<Incoming, String>,
}

/// Everything about a batch from `sender` that can be checked without the database, at the
/// server's time `now` (`None` for the server's own events, which need no guard against its
/// clock). A batch that is not what any device would send (bad shape, unknown
/// kind, sequences with holes) is refused whole (4xx); an event that breaks a business rule is
/// kept in the batch with its reason, to be consumed as a rejection so the queue never blocks.
pub(crate) fn check_batch(
    events: &[Event],
    sender: Uuid,
    now: Option<DateTime<Utc>>,
) -> Result<Vec<Checked>, ApiError> {
    if events.len() > MAX_PUSH_EVENTS {
        return Err(too_many(events.len()));
    }
    let mut checked = Vec::with_capacity(events.len());
    for event in events {
        let seq = event.seq;
        if !KINDS.contains(&event.kind.as_str()) {
            let kind: String = event.kind.chars().take(40).collect();
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_kind",
                format!("event {seq}: unknown kind {kind:?}"),
            ));
        }
        let payload = serde_json::to_string(&event.payload).map_err(|e| ApiError::malformed(e.to_string()))?;
        if payload.len() > MAX_EVENT_BYTES {
            return Err(ApiError::too_large(format!(
                "event {seq}: payload of {} bytes, at most {MAX_EVENT_BYTES}",
                payload.len()
            )));
        }
        if seq == 0 {
            return Err(ApiError::malformed("device sequences start at 1"));
        }
        // A clock that does not parse is a client that does not speak the protocol.
        if Hlc::parse(&event.hlc).is_err() {
            return Err(ApiError::malformed(format!("event {seq}: hlc is not wall.counter.device")));
        }
        // Stored as BIGINT.
        if i64::try_from(seq).is_err() {
            return Err(ApiError::malformed(format!("sequence {seq} is too large")));
        }
        let incoming = check_event(event, sender, now).map_err(|e| e.to_string()).and_then(|i| match &i {
            // The log numbers a device's events; an entry carries its number too.
            Incoming::Entry(e) if e.device_seq != seq => {
                Err(format!("the entry's sequence {} is not the event's", e.device_seq))
            }
            _ => Ok(i),
        });
        checked.push(Checked { payload, incoming });
    }
    if let Some(w) = events.windows(2).find(|w| w[1].seq != w[0].seq.wrapping_add(1)) {
        return Err(ApiError::malformed(format!(
            "events must have consecutive sequences: {} follows {}",
            w[1].seq, w[0].seq
        )));
    }
    Ok(checked)
}

/// The entries of the shop's log a batch names (the invoice a payment settles, the entry a
/// reversal cancels) that the batch itself does not carry.
pub(crate) fn references(checked: &[Checked]) -> Vec<Uuid> {
    let carried: HashSet<Uuid> = checked
        .iter()
        .filter_map(|c| match &c.incoming {
            Ok(Incoming::Entry(e)) => Some(e.id),
            _ => None,
        })
        .collect();
    let mut refs: Vec<Uuid> = checked
        .iter()
        .filter_map(|c| c.incoming.as_ref().ok()?.refers_to().map(|(id, _)| id))
        .filter(|id| !carried.contains(id))
        .collect();
    refs.sort_unstable();
    refs.dedup();
    refs
}

/// What the log holds that events are checked against: ids already used, and for each entry
/// named, its customer and kind. Events stored from the batch are added as they are decided.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pub taken: HashSet<Uuid>,
    pub entries: HashMap<Uuid, (Uuid, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Into the log; a customer event also registers its customer with the shop.
    Store { customer: Option<Uuid> },
    /// Consumed but not stored, with the reason the device is given.
    Refuse(String),
}

/// Decides one checked event: why it is refused, or what storing it involves. The second of
/// two events with one id in a batch is refused like a repeat. An entry naming an entry the
/// log does not hold is stored: after a restore from a backup, a till may resend a payment
/// before another till resends the sale; devices hold it until the sale arrives. One naming an
/// entry the log holds must name one of its customer, of the right kind.
pub(crate) fn verdict(known: &mut Known, event: &Event, checked: &Checked) -> Verdict {
    if known.taken.contains(&event.id) {
        return Verdict::Refuse("event id already used".into());
    }
    let incoming = match &checked.incoming {
        Ok(i) => i,
        Err(reason) => return Verdict::Refuse(reason.clone()),
    };
    if let (Incoming::Entry(entry), Some((id, reference))) = (incoming, incoming.refers_to()) {
        if let Some((customer, kind)) = known.entries.get(&id) {
            if *customer != entry.customer {
                return Verdict::Refuse(format!("entry {id} is another customer's"));
            }
            if !reference.accepts(kind) {
                return Verdict::Refuse(format!(
                    "entry {id} is a {kind}, which this {} cannot name",
                    entry.body.kind()
                ));
            }
        }
    }
    known.taken.insert(event.id);
    match incoming {
        Incoming::Entry(e) => {
            known.entries.insert(e.id, (e.customer, e.body.kind().to_owned()));
            Verdict::Store { customer: None }
        }
        Incoming::Customer(id) => Verdict::Store { customer: Some(*id) },
        Incoming::Row { .. } => Verdict::Store { customer: None },
    }
}

#[cfg(test)]
mod tests;
