//! Sync with the back office: the wire protocol (shared with the server), the hybrid logical
//! clock that orders edits of mutable fields, and the client that pushes and pulls.

pub mod client;
pub mod hlc;
pub mod protocol;
