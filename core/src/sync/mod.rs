//! Sync with the back office: the wire protocol (shared with the server), the hybrid logical
//! clock that orders edits of mutable fields, and the client that pushes and pulls (feature
//! `sync-client`: the only network code of the crate).

#[cfg(feature = "sync-client")]
pub mod client;
pub mod hlc;
pub mod protocol;
