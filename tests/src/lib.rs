//! End-to-end tests live in `tests/`. This crate holds what they share: the writer process the
//! crash test kills, and for the sync tests a real server on loopback ([`server`]), devices
//! with an injected clock ([`till`]), random shop work ([`ops`]), the convergence check
//! ([`check`]) and a fault-injecting proxy ([`proxy`]); and the module-circle check of a source
//! folder ([`modules`]).

pub mod check;
pub mod modules;
pub mod ops;
pub mod pg;
pub mod proxy;
pub mod server;
pub mod till;
