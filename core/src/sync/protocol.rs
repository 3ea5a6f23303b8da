//! The sync protocol's messages, shared by the till's client and the server (see docs/SYNC.md).
//! Plain serde types, no I/O: the same structs are (de)serialised at both ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bumped when a message changes incompatibly; sent as the `Ardoise-Protocol` header.
pub const PROTOCOL_VERSION: u32 = 1;
/// The most events one push may carry; the client sends at most this many.
pub const MAX_PUSH_EVENTS: usize = 500;
/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The largest single event payload, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// The most events one page of changes carries.
pub const MAX_PAGE: u32 = 1000;

/// Every event kind a device may push. Anything else is refused with 400 `unknown_kind`.
pub const KINDS: &[&str] = &[
    "customer", "entry", "override", "followup", "reminder", "dispute", "promise", "plan", "settings", "ladder",
    "template", "rates", "row",
];

/// `POST /v1/enrol`: a device trades a one-time code for its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_id: Uuid,
    pub device_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub shop_id: Uuid,
    pub shop_name: String,
    /// The bearer token for every later call; the server keeps only its hash.
    pub token: String,
    pub epoch: Uuid,
}

/// One event as a device recorded it: its id, its place in the device's gapless sequence, the
/// hybrid logical clock of the edit, and the domain payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub seq: u64,
    pub kind: String,
    pub hlc: String,
    pub payload: serde_json::Value,
}

/// `POST /v1/push`: the oldest events of the device's outbox, in sequence order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub epoch: Uuid,
    pub device_id: Uuid,
    pub events: Vec<Event>,
    /// What the server acknowledged to this device so far. Informative only: any device could
    /// claim more, so the server goes by the sequence it expects (a gap is `sequence_gap`,
    /// and the device resends from there) and never changes the epoch for it.
    #[serde(default)]
    pub acked_through: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub epoch: Uuid,
    /// Every event of this device up to this sequence is stored (or was rejected): the device
    /// may mark them sent. Repeats of already stored events are acknowledged again.
    pub acked_through: u64,
    /// Events consumed without being applied, with why (an entry for a customer the shop does
    /// not know, a payload that breaks a business rule). They never block the queue.
    pub rejected: Vec<Rejection>,
    /// The shop's latest sequence after this push.
    pub head: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub seq: u64,
    pub id: Uuid,
    pub reason: String,
}

/// `GET /v1/changes?after=N&limit=L&epoch=E&at=ID&exclude_own=true`: every accepted event of the
/// shop with a sequence above N (with `exclude_own`, but the caller's own). `at` is the id of the event the device holds at sequence N: a server
/// that holds another one there was restored from a backup, and changes epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangesResponse {
    pub epoch: Uuid,
    pub changes: Vec<Change>,
    /// The cursor to ask from next; equal to `after` when nothing is new.
    pub next: u64,
    /// The shop's latest sequence: more pages follow while `next < head`.
    pub head: u64,
    /// With `exclude_own=true`: the id of the event at `next` when the page leaves it out (it
    /// is the caller's own), for the `at` of the next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_event: Option<Uuid>,
}

/// An event as the shop's log holds it: its gapless shop sequence and the device that sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub cursor: u64,
    pub device_id: Uuid,
    pub event: Event,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub shop_id: Uuid,
    pub epoch: Uuid,
    pub head: u64,
    /// The next sequence the server expects from the calling device.
    pub expected: u64,
    pub server_time: DateTime<Utc>,
}

/// The body of every 4xx/5xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable machine code: `unauthorized`, `payload_too_large`, `malformed`, `unknown_kind`,
    /// `sequence_gap`, `epoch_changed`, `wrong_device`, `rate_limited`, `bad_code`, `internal`.
    pub error: String,
    /// A sentence for logs and people.
    pub message: String,
    /// With `sequence_gap`: the sequence the server expects next from this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    /// With `epoch_changed`: the server's current epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_omits_absent_fields() {
        let e = ErrorBody { error: "malformed".into(), message: "bad".into(), expected: None, epoch: None };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"error":"malformed","message":"bad"}"#);
        let back: ErrorBody = serde_json::from_str(r#"{"error":"sequence_gap","message":"m","expected":7}"#).unwrap();
        assert_eq!(back.expected, Some(7));
    }
}
