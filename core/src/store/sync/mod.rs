//! Sync, on the till's side: the outbox of local events, row replication, and the state of the
//! till's sync (enrolment, acknowledgements, pages applied with their cursor, status).

pub(in crate::store) mod apply;
#[cfg(test)]
mod clock_props;
pub(in crate::store) mod incoming;
pub(in crate::store) mod outbox;
#[cfg(test)]
mod props;
pub(in crate::store) mod replica;
pub(in crate::store) mod state;
#[cfg(test)]
pub(in crate::store) mod tests;
