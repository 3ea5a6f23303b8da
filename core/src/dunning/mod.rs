//! Reminders, pure: the dunning ladder, templates and their wording, penalties, pauses, and the
//! daily run's decisions. The store gathers the facts and applies what is decided here.

pub mod court;
pub mod daily;
pub mod ladder;
pub mod penalty;
pub mod plan;
pub mod run;
pub mod template;
pub mod wording;
