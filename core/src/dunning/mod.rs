//! Reminders: the dunning ladder, templates, penalties, pauses and the reminder queue.

pub mod ladder;
pub mod penalty;
pub mod plan;
pub mod run;
pub mod template;
