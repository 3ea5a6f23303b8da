//! French late-payment penalties: interest per half-year period and the 40 EUR indemnity.
//!
//! Business debtors (Code de commerce L441-10 II, D441-5): interest from the day after the due
//! date, at the ECB main refinancing rate in force on 1 January or 1 July plus 10 points (or a
//! contract rate, never below 3 times the legal interest rate), plus 40 EUR per late invoice.
//! Consumers (Code civil 1231-6): the legal interest rate ("all other cases": the shop is the
//! creditor) from the formal notice, no indemnity. Simple interest, amount x days x rate / 36500
//! per period, also in leap years. Rates are data, replaceable without a release.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::customer::CustomerKind;
use crate::error::{Error, Result};
use crate::money::Money;

/// The fixed recovery indemnity per late invoice owed by a business (D441-5), not subject to VAT.
pub const INDEMNITY: Money = Money::from_minor(4_000);

const ECB_CSV: &str = include_str!("../../data/ecb-main-refinancing-rate.csv");
const LEGAL_CSV: &str = include_str!("../../data/fr-taux-interet-legal.csv");

/// The rates penalties need: ECB main refinancing rate changes, and the French legal interest
/// rate per half-year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTables {
    /// (effective date, rate in percent), sorted.
    pub ecb: Vec<(NaiveDate, Decimal)>,
    /// ((year, half 1|2), rate for "all other cases" in percent), sorted.
    pub legal: Vec<((i32, u8), Decimal)>,
}

impl Default for RateTables {
    /// The tables shipped with the library (copied from `shared/reference/`).
    fn default() -> Self {
        RateTables::parse(ECB_CSV, LEGAL_CSV).unwrap_or(RateTables { ecb: Vec::new(), legal: Vec::new() })
    }
}

fn csv_rows(text: &str) -> Result<Vec<csv::StringRecord>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Invalid { field: "rate table", reason: e.to_string() })
}

fn pct(field: &str) -> Result<Decimal> {
    field
        .trim()
        .parse::<Decimal>()
        .map_err(|_| Error::Invalid { field: "rate table", reason: format!("{field:?} is not a rate") })
}

/// A rate as the shop types it ("9.5", "12.25"): one to three digits, then at most four
/// decimals after a point; no sign, exponent or comma. A contract rate is typed at the till, so
/// it is read as strictly as an amount.
pub fn parse_rate_pct(input: &str) -> Result<Decimal> {
    let digits = |p: &str, max: usize| (1..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let ok = match input.split_once('.') {
        Some((int, frac)) => digits(int, 3) && digits(frac, 4),
        None => digits(input, 3),
    };
    let bad = || Error::Invalid { field: "rate", reason: format!("{input:?} is not a percentage like 9.5") };
    if !ok {
        return Err(bad());
    }
    input.parse().map_err(|_| bad())
}

impl RateTables {
    /// Parses the two CSV files in the format of `shared/reference/` (extra columns ignored).
    pub fn parse(ecb_csv: &str, legal_csv: &str) -> Result<RateTables> {
        let bad = |reason: String| Error::Invalid { field: "rate table", reason };
        let mut ecb = Vec::new();
        for row in csv_rows(ecb_csv)? {
            let date = crate::parse_date(row.get(0).unwrap_or("").trim())?;
            ecb.push((date, pct(row.get(1).unwrap_or(""))?));
        }
        let mut legal = Vec::new();
        for row in csv_rows(legal_csv)? {
            let year: i32 = row.get(0).unwrap_or("").trim().parse().map_err(|_| bad(format!("bad year in {row:?}")))?;
            let half: u8 = row.get(1).unwrap_or("").trim().parse().map_err(|_| bad(format!("bad half in {row:?}")))?;
            if half != 1 && half != 2 {
                return Err(bad(format!("half must be 1 or 2 in {row:?}")));
            }
            legal.push(((year, half), pct(row.get(3).unwrap_or(""))?));
        }
        if ecb.is_empty() || legal.is_empty() {
            return Err(bad("a rate table is empty".into()));
        }
        ecb.sort();
        legal.sort();
        Ok(RateTables { ecb, legal })
    }

    /// The ECB rate in force on `day` (the last change on or before it).
    pub fn ecb_on(&self, day: NaiveDate) -> Result<Decimal> {
        self.ecb
            .iter()
            .rev()
            .find(|(d, _)| *d <= day)
            .map(|(_, r)| *r)
            .ok_or_else(|| Error::Invalid { field: "rate table", reason: format!("no ECB rate known on {day}") })
    }

    /// The legal rate for `day`'s half-year or, when that half-year is not yet in the table, the
    /// latest one published, with a note saying so: a late table must not stop the till.
    pub fn legal_or_latest(&self, day: NaiveDate) -> Result<(Decimal, Option<String>)> {
        if let Ok(rate) = self.legal_on(day) {
            return Ok((rate, None));
        }
        let key = (day.year(), half_of(day));
        match self.legal.iter().rev().find(|(k, _)| *k < key) {
            Some(((y, h), rate)) => Ok((
                *rate,
                Some(format!("legal rate for {} H{} not in the rate table: {y} H{h} ({rate} %) used", key.0, key.1)),
            )),
            None => self.legal_on(day).map(|r| (r, None)),
        }
    }

    /// The legal interest rate ("all other cases") for the half-year holding `day`.
    pub fn legal_on(&self, day: NaiveDate) -> Result<Decimal> {
        let key = (day.year(), half_of(day));
        self.legal.iter().find(|(k, _)| *k == key).map(|(_, r)| *r).ok_or_else(|| Error::Invalid {
            field: "rate table",
            reason: format!("no legal interest rate for {} H{} in the rate table: update it", key.0, key.1),
        })
    }
}

fn half_of(day: NaiveDate) -> u8 {
    if day.month() <= 6 { 1 } else { 2 }
}

/// First day of the half-year holding `day`.
fn half_start(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), if day.month() <= 6 { 1 } else { 7 }, 1).unwrap_or(day)
}

fn next_half_start(day: NaiveDate) -> NaiveDate {
    let s = half_start(day);
    if s.month() == 1 { NaiveDate::from_ymd_opt(s.year(), 7, 1) } else { NaiveDate::from_ymd_opt(s.year() + 1, 1, 1) }
        .unwrap_or(NaiveDate::MAX)
}

/// What a penalty is computed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PenaltyRequest {
    pub amount: Money,
    pub due_on: NaiveDate,
    /// Last day interest runs (inclusive): today, or the day it was paid.
    pub until: NaiveDate,
    pub debtor: CustomerKind,
    /// The formal notice ("mise en demeure"): interest for a consumer runs from it.
    pub notice_on: Option<NaiveDate>,
    /// Partial payments: each reduces the base from its date on.
    pub payments: Vec<(NaiveDate, Money)>,
    /// A contract rate for a business, in percent (floored at 3 x the legal rate).
    pub contract_rate_pct: Option<Decimal>,
}

/// One stretch of days at one rate on one base.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltyPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub base: Money,
    pub rate_pct: Decimal,
    pub interest: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub interest: Money,
    pub indemnity: Money,
    pub total: Money,
    pub periods: Vec<PenaltyPeriod>,
    /// Rates assumed because the table lacks a half-year (update it: `set_rate_tables`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The penalties the law allows on one invoice.
pub fn compute(req: &PenaltyRequest, rates: &RateTables) -> Result<Penalty> {
    if !req.amount.is_positive() {
        return Err(Error::NotPositive { field: "amount", amount: req.amount });
    }
    let late = req.until > req.due_on && paid_by(req, req.due_on) < req.amount;
    let start = match req.debtor {
        CustomerKind::Business => req.due_on.checked_add_days(Days::new(1)),
        // Interest runs from the notice, but never for days before the debt was due.
        CustomerKind::Consumer => {
            req.notice_on.map(|n| n.max(req.due_on)).and_then(|n| n.checked_add_days(Days::new(1)))
        }
    };
    let mut periods = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if let Some(mut from) = start.filter(|_| late) {
        // Boundaries: each half-year, and the day after each payment changes the base.
        let mut cuts: Vec<NaiveDate> = req.payments.iter().map(|(d, _)| *d).collect();
        cuts.sort();
        while from <= req.until {
            let mut to = next_half_start(from).pred_opt().unwrap_or(from).min(req.until);
            if let Some(cut) = cuts.iter().find(|c| **c > from && **c <= to) {
                to = cut.pred_opt().unwrap_or(from);
            }
            let base = req.amount - paid_by(req, from);
            if !base.is_positive() {
                break;
            }
            let (rate, note) = rate_for(req, rates, from)?;
            if let Some(n) = note.filter(|n| !notes.contains(n)) {
                notes.push(n);
            }
            let days = (to - from).num_days() + 1;
            let exact = base.to_decimal() * Decimal::from(days) * rate / Decimal::from(36_500);
            let interest = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let interest = Money::from_minor((interest * Decimal::from(100)).to_i64().unwrap_or(i64::MAX));
            periods.push(PenaltyPeriod { from, to, days, base, rate_pct: rate, interest });
            from = to.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }
    let interest: Money = periods.iter().map(|p| p.interest).sum();
    let indemnity = if late && req.debtor == CustomerKind::Business { INDEMNITY } else { Money::ZERO };
    Ok(Penalty { interest, indemnity, total: interest + indemnity, periods, notes })
}

/// Paid on or before `day` (a payment counts from its own date).
fn paid_by(req: &PenaltyRequest, day: NaiveDate) -> Money {
    req.payments.iter().filter(|(d, _)| *d <= day).map(|(_, m)| *m).sum()
}

fn rate_for(req: &PenaltyRequest, rates: &RateTables, day: NaiveDate) -> Result<(Decimal, Option<String>)> {
    match req.debtor {
        CustomerKind::Consumer => rates.legal_or_latest(day),
        CustomerKind::Business => match req.contract_rate_pct {
            Some(contract) => {
                let (legal, note) = rates.legal_or_latest(day)?;
                Ok((contract.max(legal * Decimal::from(3)), note))
            }
            None => Ok((rates.ecb_on(half_start(day))? + Decimal::from(10), None)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    #[test]
    fn typed_rates_are_plain_percentages() {
        for (typed, rate) in [("9.5", "9.5"), ("12.25", "12.25"), ("0", "0"), ("100.0001", "100.0001")] {
            assert_eq!(parse_rate_pct(typed).unwrap(), rate.parse::<Decimal>().unwrap(), "{typed}");
        }
        for bad in ["", "9,5", "-1", "+1", "1e2", "1000", "9.", ".5", "9.12345", " 9", "NaN", "٩"] {
            assert!(matches!(parse_rate_pct(bad), Err(Error::Invalid { field: "rate", .. })), "{bad:?}");
        }
    }

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn req(amount: &str, due: &str, until: &str, debtor: CustomerKind) -> PenaltyRequest {
        PenaltyRequest {
            amount: m(amount),
            due_on: d(due),
            until: d(until),
            debtor,
            notice_on: None,
            payments: Vec::new(),
            contract_rate_pct: None,
        }
    }

    #[test]
    fn shipped_tables_give_the_published_half_year_rates() {
        let r = RateTables::default();
        // Published business penalty rates: 14.50 % (2024 H1), 14.25 % (2024 H2), 13.15 % (2025 H1), 12.15 % (2025 H2).
        for (day, want) in
            [("2024-03-01", "14.50"), ("2024-09-01", "14.25"), ("2025-02-01", "13.15"), ("2025-12-31", "12.15")]
        {
            assert_eq!(
                r.ecb_on(half_start(d(day))).unwrap() + Decimal::from(10),
                want.parse::<Decimal>().unwrap(),
                "{day}"
            );
        }
        assert_eq!(r.legal_on(d("2026-05-01")).unwrap(), "2.62".parse::<Decimal>().unwrap());
        assert!(r.legal_on(d("2026-07-01")).is_err(), "2026 H2 is not published in the shipped table");
    }

    #[test]
    fn business_interest_crosses_a_half_year_and_adds_the_indemnity() {
        // 1000 EUR due 2024-06-15, paid 2024-07-10: 15 days of June at 14.50 %, 10 days of July at 14.25 %.
        let p =
            compute(&req("1000", "2024-06-15", "2024-07-10", CustomerKind::Business), &RateTables::default()).unwrap();
        assert_eq!(p.periods.len(), 2);
        assert_eq!((p.periods[0].from, p.periods[0].to, p.periods[0].days), (d("2024-06-16"), d("2024-06-30"), 15));
        // 1000 x 15 x 14.50 / 36500 = 5.958.. -> 5.96; 1000 x 10 x 14.25 / 36500 = 3.904.. -> 3.90
        assert_eq!(p.periods[0].interest, m("5.96"));
        assert_eq!(p.periods[1].interest, m("3.90"));
        assert_eq!(p.interest, m("9.86"));
        assert_eq!(p.indemnity, m("40"));
        assert_eq!(p.total, m("49.86"));
    }

    #[test]
    fn a_leap_year_still_divides_by_36500() {
        // 2024-02-29 exists: 29 days of February at 14.50 % on 3650 EUR = 3650 x 29 x 14.5 / 36500 = 42.05
        let p =
            compute(&req("3650", "2024-01-31", "2024-02-29", CustomerKind::Business), &RateTables::default()).unwrap();
        assert_eq!(p.periods[0].days, 29);
        assert_eq!(p.interest, m("42.05"));
    }

    #[test]
    fn partial_payments_reduce_the_base_from_their_date() {
        let mut r = req("1000", "2025-01-31", "2025-03-31", CustomerKind::Business);
        r.payments = vec![(d("2025-03-01"), m("600"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        // February (28 days) on 1000 at 13.15 %, then March (31 days) on 400.
        assert_eq!(
            p.periods.iter().map(|x| (x.days, x.base)).collect::<Vec<_>>(),
            vec![(28, m("1000")), (31, m("400"))]
        );
        assert_eq!(p.periods[0].interest, m("10.09")); // 1000 x 28 x 13.15 / 36500 = 10.087
        assert_eq!(p.periods[1].interest, m("4.47")); // 400 x 31 x 13.15 / 36500 = 4.467
        // Paid in full: nothing runs after.
        r.payments.push((d("2025-03-10"), m("400")));
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(p.periods.last().unwrap().to, d("2025-03-09"));
    }

    #[test]
    fn consumers_owe_the_legal_rate_from_the_notice_only_and_no_indemnity() {
        let mut r = req("500", "2025-11-10", "2026-01-31", CustomerKind::Consumer);
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!((p.interest, p.indemnity), (Money::ZERO, Money::ZERO), "no notice, no interest");
        r.notice_on = Some(d("2025-12-15"));
        let p = compute(&r, &RateTables::default()).unwrap();
        // 16 days of 2025 H2 at 2.76 %, 31 days of 2026 H1 at 2.62 %.
        assert_eq!(
            p.periods.iter().map(|x| (x.days, x.rate_pct.to_string())).collect::<Vec<_>>(),
            vec![(16, "2.76".into()), (31, "2.62".into())]
        );
        assert_eq!(p.interest, m("0.60") + m("1.11")); // 500x16x2.76/36500 = 0.605 -> 0.60 (0.6049); 500x31x2.62/36500 = 1.1126
        assert_eq!(p.indemnity, Money::ZERO);
    }

    #[test]
    fn a_half_year_missing_from_the_table_uses_the_latest_rate_and_says_so() {
        let mut r = req("500", "2026-05-31", "2026-07-31", CustomerKind::Consumer);
        r.notice_on = Some(d("2026-06-15"));
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(p.periods.last().unwrap().rate_pct, "2.62".parse::<Decimal>().unwrap());
        assert_eq!(p.notes, vec!["legal rate for 2026 H2 not in the rate table: 2026 H1 (2.62 %) used".to_owned()]);
    }

    #[test]
    fn a_notice_before_the_due_date_does_not_start_interest_early() {
        let mut r = req("500", "2025-11-10", "2025-11-20", CustomerKind::Consumer);
        r.notice_on = Some(d("2025-11-01"));
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(p.periods[0].from, d("2025-11-11"));
        assert_eq!(p.periods[0].days, 10);
    }

    #[test]
    fn a_contract_rate_is_floored_at_three_times_the_legal_rate() {
        let mut r = req("1000", "2025-03-31", "2025-04-30", CustomerKind::Business);
        r.contract_rate_pct = Some("5".parse().unwrap());
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(p.periods[0].rate_pct, "11.13".parse::<Decimal>().unwrap()); // 3 x 3.71
        r.contract_rate_pct = Some("15".parse().unwrap());
        assert_eq!(compute(&r, &RateTables::default()).unwrap().periods[0].rate_pct, Decimal::from(15));
    }

    #[test]
    fn nothing_is_owed_before_the_due_date_or_on_it() {
        let p =
            compute(&req("100", "2025-05-10", "2025-05-10", CustomerKind::Business), &RateTables::default()).unwrap();
        assert_eq!(p.total, Money::ZERO);
    }

    #[test]
    fn replacement_tables_are_checked() {
        assert!(RateTables::parse("effective_date,rate\n2025-01-01,abc\n", LEGAL_CSV).is_err());
        assert!(RateTables::parse("effective_date,rate\n", LEGAL_CSV).is_err());
        let t =
            RateTables::parse("effective_date,rate\n2020-01-01,1.00\n", "year,half,a,b\n2026,2,7.00,3.00\n").unwrap();
        assert_eq!(t.legal_on(d("2026-08-01")).unwrap(), Decimal::from(3));
    }
}
