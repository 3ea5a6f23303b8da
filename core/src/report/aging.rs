//! Aging: what is owed at a date, by how late it is (current, 1-30, 31-60, 61-90, 91+ days).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Receivables split by days past due. "Current" is not yet due (due on or after the date).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "AgingBuckets"))]
pub struct Buckets {
    pub current: Money,
    #[serde(rename = "1_30")]
    #[cfg_attr(feature = "uniffi", uniffi(name = "days_1_to_30"))]
    pub d1_30: Money,
    #[serde(rename = "31_60")]
    #[cfg_attr(feature = "uniffi", uniffi(name = "days_31_to_60"))]
    pub d31_60: Money,
    #[serde(rename = "61_90")]
    #[cfg_attr(feature = "uniffi", uniffi(name = "days_61_to_90"))]
    pub d61_90: Money,
    #[serde(rename = "91_plus")]
    #[cfg_attr(feature = "uniffi", uniffi(name = "days_91_plus"))]
    pub d91_plus: Money,
}

impl Buckets {
    /// Adds what is still owed on one invoice, `days_past_due` = as-of date minus due date.
    pub fn add(&mut self, days_past_due: i64, amount: Money) {
        let bucket = match days_past_due {
            i64::MIN..=0 => &mut self.current,
            1..=30 => &mut self.d1_30,
            31..=60 => &mut self.d31_60,
            61..=90 => &mut self.d61_90,
            _ => &mut self.d91_plus,
        };
        *bucket += amount;
    }

    pub fn total(&self) -> Money {
        self.current + self.overdue()
    }

    pub fn overdue(&self) -> Money {
        self.d1_30 + self.d31_60 + self.d61_90 + self.d91_plus
    }

    pub fn merge(&mut self, other: &Buckets) {
        self.current += other.current;
        self.d1_30 += other.d1_30;
        self.d31_60 += other.d31_60;
        self.d61_90 += other.d61_90;
        self.d91_plus += other.d91_plus;
    }
}

/// One customer's line of the aging report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomerAging {
    pub customer_ref: String,
    pub name: String,
    pub total: Money,
    pub buckets: Buckets,
    /// Days past due of the oldest unpaid invoice (0 when nothing is overdue).
    pub oldest_days: i64,
}

/// The shop's aging at `as_of`, customers with something owed, largest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgingReport {
    pub as_of: NaiveDate,
    pub total: Money,
    pub buckets: Buckets,
    /// Largest balance first.
    pub customers: Vec<CustomerAging>,
}

impl AgingReport {
    /// Builds the shop's totals from the customers' lines and sorts them, largest first, then by
    /// reference so the order is stable.
    pub fn new(as_of: NaiveDate, mut customers: Vec<CustomerAging>) -> AgingReport {
        let mut buckets = Buckets::default();
        for c in &customers {
            buckets.merge(&c.buckets);
        }
        // References are unique, so an unstable sort gives the same order.
        customers.sort_unstable_by(|a, b| b.total.cmp(&a.total).then_with(|| a.customer_ref.cmp(&b.customer_ref)));
        AgingReport { as_of, total: buckets.total(), buckets, customers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn bucket_edges() {
        let mut b = Buckets::default();
        for (days, amount) in
            [(-5, "1"), (0, "2"), (1, "4"), (30, "8"), (31, "16"), (60, "32"), (61, "64"), (90, "128"), (91, "256")]
        {
            b.add(days, m(amount));
        }
        assert_eq!(b.current, m("3"));
        assert_eq!(b.d1_30, m("12"));
        assert_eq!(b.d31_60, m("48"));
        assert_eq!(b.d61_90, m("192"));
        assert_eq!(b.d91_plus, m("256"));
        assert_eq!(b.total(), m("511"));
        assert_eq!(b.overdue(), m("508"));
    }

    #[test]
    fn report_sums_and_sorts() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let line = |r: &str, days: i64, a: &str| {
            let mut buckets = Buckets::default();
            buckets.add(days, m(a));
            CustomerAging { customer_ref: r.into(), name: r.into(), total: m(a), buckets, oldest_days: days.max(0) }
        };
        let rep = AgingReport::new(d, vec![line("B", 10, "5.00"), line("A", 100, "7.50"), line("C", -1, "5.00")]);
        assert_eq!(rep.total, m("17.50"));
        assert_eq!(rep.buckets.d91_plus, m("7.50"));
        let order: Vec<_> = rep.customers.iter().map(|c| c.customer_ref.as_str()).collect();
        assert_eq!(order, ["A", "B", "C"]);
        let json = serde_json::to_value(&rep).unwrap();
        assert_eq!(json["buckets"]["91_plus"], "7.50");
        assert_eq!(json["buckets"]["1_30"], "5.00");
    }
}
