//! Reminders: the daily run and the queue it fills, and the follow-ups that pause or steer it
//! (disputes, promises, plans, notes, calls, holds). What to write is decided in the pure
//! `dunning` modules; this folder gathers the facts and applies the decisions.

pub(in crate::store) mod config;
pub(in crate::store) mod delivery;
pub(in crate::store) mod document;
pub(in crate::store) mod facts;
pub(in crate::store) mod followup;
pub(in crate::store) mod link;
pub(in crate::store) mod notes;
pub(in crate::store) mod queue;
pub(in crate::store) mod run;
pub(in crate::store) mod settings;
#[cfg(test)]
mod tests;
