//! The sync API's handlers, one module per endpoint: each parses the request, checks what
//! needs no database, calls the data layer (`db::*`) or the shop's log (`log`), and maps the
//! outcome to the protocol's answer. The routes are in `app`.

pub(crate) mod changes;
pub(crate) mod enrol;
pub(crate) mod push;
pub(crate) mod webhook;
