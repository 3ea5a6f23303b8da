//! What the server checks in events before they join a shop's log, with no database and no
//! HTTP: the batch's shape (so that a bad batch is refused before the shop's lock is taken),
//! and the few business rules the server enforces itself, event by event. Everything else is
//! decided on the tills.

use std::collections::HashSet;

use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{Event, KINDS, MAX_EVENT_BYTES, MAX_PUSH_EVENTS};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::ApiError;

pub(crate) fn too_many(n: usize) -> ApiError {
    ApiError::too_large(format!("{n} events: a push carries at most {MAX_PUSH_EVENTS}"))
}

/// Everything about a batch that can be checked without the database. Returns each payload
/// serialised, as it will be stored.
pub(crate) fn check_batch(events: &[Event]) -> Result<Vec<String>, ApiError> {
    if events.len() > MAX_PUSH_EVENTS {
        return Err(too_many(events.len()));
    }
    let mut payloads = Vec::with_capacity(events.len());
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
        if Hlc::parse(&event.hlc).is_err() {
            return Err(ApiError::malformed(format!("event {seq}: hlc is not wall.counter.device")));
        }
        if seq == 0 {
            return Err(ApiError::malformed("device sequences start at 1"));
        }
        // Stored as BIGINT.
        if i64::try_from(seq).is_err() {
            return Err(ApiError::malformed(format!("sequence {seq} is too large")));
        }
        payloads.push(payload);
    }
    if let Some(w) = events.windows(2).find(|w| w[1].seq != w[0].seq.wrapping_add(1)) {
        return Err(ApiError::malformed(format!(
            "events must have consecutive sequences: {} follows {}",
            w[1].seq, w[0].seq
        )));
    }
    Ok(payloads)
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Into the log; a customer event also registers its customer with the shop.
    Store { customer: Option<Uuid> },
    /// Consumed but not stored, with the reason the device is given.
    Refuse(&'static str),
}

/// The business rules the server enforces itself: why the event is refused, or what storing
/// it involves. `taken` holds the ids already in the log, and takes this one's when it is
/// stored, so the second of two events with one id in a batch is refused like a repeat.
pub(crate) fn verdict(taken: &mut HashSet<Uuid>, device: Uuid, event: &Event) -> Verdict {
    if taken.contains(&event.id) {
        return Verdict::Refuse("event id already used");
    }
    let field =
        |pointer: &str| event.payload.pointer(pointer).and_then(|v| v.as_str()).and_then(|s| Uuid::try_parse(s).ok());
    let customer = match event.kind.as_str() {
        "customer" => {
            let Some(customer) = field("/customer/id") else {
                return Verdict::Refuse("customer event without a customer id");
            };
            Some(customer)
        }
        // An entry for a customer this log does not hold yet is kept: after a restore from a
        // backup, a till may resend it before another till resends the customer. Devices hold
        // such entries until the customer arrives.
        "entry" if field("/device_id") != Some(device) => return Verdict::Refuse("entry recorded by another device"),
        _ => None,
    };
    taken.insert(event.id);
    Verdict::Store { customer }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(seq: u64, kind: &str, payload: serde_json::Value) -> Event {
        let hlc = Hlc::tick(None, 1_750_000_000_000, Uuid::nil()).to_string();
        Event { id: Uuid::new_v4(), seq, kind: kind.to_owned(), hlc, payload }
    }

    #[test]
    fn a_batch_is_refused_whole_for_one_bad_event() {
        let good = event(1, "customer", json!({"customer": {"id": Uuid::new_v4()}}));
        assert_eq!(check_batch(std::slice::from_ref(&good)).unwrap().len(), 1);
        let unknown = event(2, "teleport", json!({}));
        assert_eq!(check_batch(&[good.clone(), unknown]).unwrap_err().body.error, "unknown_kind");
        let gap = event(3, "customer", json!({}));
        assert_eq!(check_batch(&[good, gap]).unwrap_err().body.error, "malformed");
    }

    #[test]
    fn the_servers_own_rules_refuse_event_by_event() {
        let device = Uuid::new_v4();
        let mut taken = HashSet::new();
        let customer = Uuid::new_v4();
        let new = event(1, "customer", json!({"customer": {"id": customer}}));
        assert_eq!(verdict(&mut taken, device, &new), Verdict::Store { customer: Some(customer) });
        assert_eq!(verdict(&mut taken, device, &new), Verdict::Refuse("event id already used"));
        let nameless = event(2, "customer", json!({"customer": {}}));
        assert_eq!(verdict(&mut taken, device, &nameless), Verdict::Refuse("customer event without a customer id"));
        let own = event(3, "entry", json!({"device_id": device}));
        assert_eq!(verdict(&mut taken, device, &own), Verdict::Store { customer: None });
        let other = event(4, "entry", json!({"device_id": Uuid::new_v4()}));
        assert_eq!(verdict(&mut taken, device, &other), Verdict::Refuse("entry recorded by another device"));
    }
}
