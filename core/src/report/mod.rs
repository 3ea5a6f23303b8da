//! The owner's reports as of any date: aging, the standard collection figures, statements and
//! exports. The formulas here are pure; `store::reports` gathers their inputs from SQLite.

pub mod aging;
pub mod export;
pub mod kpis;
pub mod statement;

pub use aging::{AgingReport, Buckets, CustomerAging};
pub use kpis::{Kpis, MonthSales};
pub use statement::{Statement, StatementLine};
