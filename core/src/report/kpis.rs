//! The collection figures an accountant asks for, over the N calendar months ending with the
//! as-of date's month: DSO (simple, countback, best possible), average days delinquent and the
//! collection effectiveness index.
//!
//! The as-of month counts only up to the as-of date (its days and its sales): nothing after
//! that date is known on it. Every earlier month counts whole.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Credit sales of one calendar month, from its first day to `last` (the month's end, or the
/// as-of date in the as-of month).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSales {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub sales: Money,
}

impl MonthSales {
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// The month periods the figures use, newest first: the as-of month up to `as_of`, then
/// `count - 1` whole months before it.
pub fn month_periods(as_of: NaiveDate, count: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let first_of = |d: NaiveDate| d.with_day(1).expect("day 1 exists");
    let mut out = Vec::with_capacity(count as usize);
    let mut first = first_of(as_of);
    let mut last = as_of;
    for _ in 0..count {
        out.push((first, last));
        last = first.pred_opt().expect("dates before year 1 are refused earlier");
        first = first.checked_sub_months(Months::new(1)).expect("dates before year 1 are refused earlier");
    }
    out
}

/// The figures. Ratios are `None` when they would divide by zero (no credit sales).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Kpis {
    pub as_of: NaiveDate,
    pub months: u32,
    /// Owed at the end of the as-of date.
    pub receivables: Money,
    /// The part of it not yet due.
    pub current: Money,
    /// Owed at the end of the day before the period's first day.
    pub receivables_start: Money,
    pub credit_sales: Money,
    /// Days in the period (the as-of month counted up to the as-of date).
    pub days: i64,
    pub dso_simple: Option<f64>,
    pub dso_countback: Option<f64>,
    pub best_possible_dso: Option<f64>,
    pub average_days_delinquent: Option<f64>,
    pub cei_pct: Option<f64>,
}

/// What the figures are computed from.
#[derive(Clone, Debug)]
pub struct KpiInputs {
    pub as_of: NaiveDate,
    /// Newest first: the N months of the period, then any earlier months the countback may walk
    /// into when the receivables outgrow the period's sales.
    pub months: Vec<MonthSales>,
    pub period_months: u32,
    pub receivables: Money,
    pub current: Money,
    pub receivables_start: Money,
}

fn ratio(num: Decimal, den: Decimal) -> Option<f64> {
    if den.is_zero() { None } else { (num / den).round_dp(6).to_f64() }
}

impl Kpis {
    pub fn compute(input: &KpiInputs) -> Kpis {
        let n = input.period_months as usize;
        let period = &input.months[..n.min(input.months.len())];
        let credit_sales: Money = period.iter().map(|m| m.sales).sum();
        let days: i64 = period.iter().map(MonthSales::days).sum();
        let sales = credit_sales.to_decimal();
        let days_d = Decimal::from(days);
        let dso_simple = ratio(input.receivables.to_decimal() * days_d, sales);
        let best_possible_dso = ratio(input.current.to_decimal() * days_d, sales);
        let average_days_delinquent = match (dso_simple, best_possible_dso) {
            (Some(s), Some(b)) => Some(((s - b) * 1e6).round() / 1e6),
            _ => None,
        };
        // CRF's index: of what could have been collected in the period (what was owed at its
        // start plus an average month of sales), the share that was, leaving aside what is not
        // due yet.
        let begin = input.receivables_start.to_decimal();
        let avg_sales = if n == 0 { Decimal::ZERO } else { sales / Decimal::from(n) };
        let collectible = begin + avg_sales;
        let cei_pct = ratio(
            (collectible - input.receivables.to_decimal()) * Decimal::from(100),
            collectible - input.current.to_decimal(),
        );
        Kpis {
            as_of: input.as_of,
            months: input.period_months,
            receivables: input.receivables,
            current: input.current,
            receivables_start: input.receivables_start,
            credit_sales,
            days,
            dso_simple,
            dso_countback: countback(input.receivables, &input.months),
            best_possible_dso,
            average_days_delinquent,
            cei_pct,
        }
    }
}

/// Countback DSO: how many days of the most recent sales the receivables amount to. Walks back
/// month by month from the newest, taking each month's sales off the receivables and counting
/// its actual days, and a fraction of the month that covers the rest. `None` when nothing was
/// sold in the months given; when the receivables outgrow them, the days of all of them.
pub fn countback(receivables: Money, months: &[MonthSales]) -> Option<f64> {
    if !months.iter().any(|m| m.sales.is_positive()) {
        return if receivables.is_positive() { None } else { Some(0.0) };
    }
    let mut left = receivables.to_decimal();
    let mut days = Decimal::ZERO;
    for m in months {
        if left <= Decimal::ZERO {
            break;
        }
        let sales = m.sales.to_decimal();
        let month_days = Decimal::from(m.days());
        if sales > left {
            days += left / sales * month_days;
            left = Decimal::ZERO;
        } else {
            days += month_days;
            left -= sales;
        }
    }
    days.round_dp(6).to_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }
    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn months(as_of: &str, sales: &[&str]) -> Vec<MonthSales> {
        month_periods(d(as_of), sales.len() as u32)
            .into_iter()
            .zip(sales)
            .map(|((first, last), s)| MonthSales { first, last, sales: m(s) })
            .collect()
    }

    #[test]
    fn periods_cross_year_and_leap_february() {
        let p = month_periods(d("2024-03-15"), 3);
        assert_eq!(
            p,
            vec![
                (d("2024-03-01"), d("2024-03-15")),
                (d("2024-02-01"), d("2024-02-29")),
                (d("2024-01-01"), d("2024-01-31"))
            ]
        );
        let p = month_periods(d("2025-01-31"), 2);
        assert_eq!(p, vec![(d("2025-01-01"), d("2025-01-31")), (d("2024-12-01"), d("2024-12-31"))]);
        let p = month_periods(d("2023-03-31"), 2);
        assert_eq!(p[1], (d("2023-02-01"), d("2023-02-28")));
    }

    #[test]
    fn textbook_figures() {
        // Quarter ending 2024-03-31 (91 days in a leap year): sales 3,000 + 2,900 + 3,100 = 9,000.
        let input = KpiInputs {
            as_of: d("2024-03-31"),
            months: months("2024-03-31", &["3100", "2900", "3000"]),
            period_months: 3,
            receivables: m("4500"),
            current: m("2700"),
            receivables_start: m("4000"),
        };
        let k = Kpis::compute(&input);
        assert_eq!(k.credit_sales, m("9000"));
        assert_eq!(k.days, 91);
        assert_eq!(k.dso_simple, Some(45.5)); // 4500 / 9000 * 91
        assert_eq!(k.best_possible_dso, Some(27.3)); // 2700 / 9000 * 91
        assert_eq!(k.average_days_delinquent, Some(18.2));
        // Countback: March's 3,100 (31 days), then 1,400 of February's 2,900 (29 days).
        assert_eq!(k.dso_countback, Some(31.0 + 1400.0 / 2900.0 * 29.0));
        // CEI: (4000 + 3000 - 4500) / (4000 + 3000 - 2700) = 2500 / 4300.
        assert_eq!(k.cei_pct, Some((2500.0f64 / 4300.0 * 100.0 * 1e6).round() / 1e6));
    }

    #[test]
    fn partial_as_of_month_and_countback_beyond() {
        // As of 2025-01-10: January counts 10 days, December 31.
        let ms = months("2025-01-10", &["100", "620"]);
        assert_eq!(ms[0].days(), 10);
        let input = KpiInputs {
            as_of: d("2025-01-10"),
            months: ms.clone(),
            period_months: 2,
            receivables: m("410"),
            current: m("0"),
            receivables_start: m("0"),
        };
        let k = Kpis::compute(&input);
        assert_eq!(k.days, 41);
        assert_eq!(k.dso_countback, Some(10.0 + 15.5)); // 100 over 10 days, then 310 of 620 over 31
        // More owed than sold in the months given: every day of them.
        assert_eq!(countback(m("1000"), &ms), Some(41.0));
    }

    #[test]
    fn no_sales_means_no_ratio() {
        let input = KpiInputs {
            as_of: d("2024-06-30"),
            months: months("2024-06-30", &["0", "0", "0"]),
            period_months: 3,
            receivables: m("10"),
            current: m("0"),
            receivables_start: m("10"),
        };
        let k = Kpis::compute(&input);
        assert_eq!(k.dso_simple, None);
        assert_eq!(k.dso_countback, None);
        assert_eq!(k.average_days_delinquent, None);
        // Nothing collected out of 10 collectible: 0 %.
        assert_eq!(k.cei_pct, Some(0.0));
    }
}
