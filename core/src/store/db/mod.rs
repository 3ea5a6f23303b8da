//! The data-access layer: the schema and its versions, and how the domain's values are stored.

pub(in crate::store) mod schema;
