//! End-to-end tests live in `tests/`; this crate's only code is the writer process they kill.
