//! The data-access layer: connections, the schema and its versions, this device's counters,
//! settings rows, and how the domain's values are stored and read back.

pub(in crate::store) mod checkpoint;
pub(in crate::store) mod conn;
pub(in crate::store) mod device;
pub(in crate::store) mod open_dues;
pub(in crate::store) mod schema;
pub(in crate::store) mod settings;
pub(in crate::store) mod values;
