//! Reminders: the daily run and the queue it fills, and the follow-ups that pause or steer it
//! (disputes, promises, plans, notes, calls, holds).

pub(in crate::store) mod dunning;
pub(in crate::store) mod followup;
#[cfg(test)]
mod tests;
