//! French late-payment penalties: interest per half-year period and the 40 EUR indemnity.
//!
//! Business debtors (Code de commerce L441-10 II, D441-5): interest from the day after the due
//! date, at the ECB main refinancing rate in force on 1 January or 1 July plus 10 points (or a
//! contract rate, never below 3 times the legal interest rate), plus 40 EUR per late invoice.
//! Public buyers (Code de la commande publique R2192-31, D2192-35): the ECB rate in force on the
//! first day of the half-year in which interest started to run plus 8 points, taken once for the
//! whole delay, plus 40 EUR. Consumers (Code civil 1231-6, 1344): the legal interest rate ("all
//! other cases": the shop is the creditor) from the day after the formal notice was sent, only on
//! what was due then; no indemnity. Simple interest, amount x days x rate / 36500 per period,
//! also in leap years. Rates are data, replaceable without a release; a half-year the tables do
//! not cover is an error ([`Error::StaleRates`]), never a guess.
//!
//! Payment days: a payment on day D lowers the base from D on (D earns no interest on what it
//! paid), and `until` is the last day that earns interest, so an invoice paid in full on D is
//! the same as `until` = D - 1.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::customer::CustomerKind;
use crate::error::{Error, Result};
use crate::money::Money;

/// The fixed recovery indemnity per late invoice owed by a business (D441-5) or a public buyer
/// (D2192-35), not subject to VAT.
pub const INDEMNITY: Money = Money::from_minor(4_000);

const ECB_CSV: &str = include_str!("../../data/ecb-main-refinancing-rate.csv");
const LEGAL_CSV: &str = include_str!("../../data/fr-taux-interet-legal.csv");

/// The rates penalties need: ECB main refinancing rate changes, and the French legal interest
/// rate per half-year, each with the day it was last checked against its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredTables")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RateTables {
    /// Sorted.
    pub ecb: Vec<EcbRate>,
    /// Sorted.
    pub legal: Vec<LegalRate>,
    /// A change the ECB decides after this day is unknown here: a half-year starting after it
    /// is not covered.
    pub ecb_checked_through: NaiveDate,
    pub legal_checked_through: NaiveDate,
}

/// A change of the ECB main refinancing rate. Stored as `[effective_on, rate_pct]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(NaiveDate, Decimal)", into = "(NaiveDate, Decimal)")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EcbRate {
    pub effective_on: NaiveDate,
    pub rate_pct: Decimal,
}

impl From<(NaiveDate, Decimal)> for EcbRate {
    fn from((effective_on, rate_pct): (NaiveDate, Decimal)) -> Self {
        EcbRate { effective_on, rate_pct }
    }
}

impl From<EcbRate> for (NaiveDate, Decimal) {
    fn from(r: EcbRate) -> Self {
        (r.effective_on, r.rate_pct)
    }
}

/// The French legal interest rate ("all other cases": the shop is the creditor) for a
/// half-year (1 or 2). Stored as `[[year, half], rate_pct]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "((i32, u8), Decimal)", into = "((i32, u8), Decimal)")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LegalRate {
    pub year: i32,
    pub half: u8,
    pub rate_pct: Decimal,
}

impl From<((i32, u8), Decimal)> for LegalRate {
    fn from(((year, half), rate_pct): ((i32, u8), Decimal)) -> Self {
        LegalRate { year, half, rate_pct }
    }
}

impl From<LegalRate> for ((i32, u8), Decimal) {
    fn from(r: LegalRate) -> Self {
        ((r.year, r.half), r.rate_pct)
    }
}

/// Tables as stored before they said how far they were checked.
#[derive(Deserialize)]
struct StoredTables {
    ecb: Vec<EcbRate>,
    legal: Vec<LegalRate>,
    #[serde(default)]
    ecb_checked_through: Option<NaiveDate>,
    #[serde(default)]
    legal_checked_through: Option<NaiveDate>,
}

impl From<StoredTables> for RateTables {
    /// An older table said nothing about how current it was: its last row is all it vouches
    /// for, so anything later asks the owner rather than assuming nothing changed.
    fn from(s: StoredTables) -> Self {
        let ecb_last = s.ecb.iter().map(|r| r.effective_on).max().unwrap_or(NaiveDate::MIN);
        let legal_last = s
            .legal
            .iter()
            .map(|r| (r.year, r.half))
            .max()
            .and_then(|(y, h)| NaiveDate::from_ymd_opt(y, if h == 1 { 6 } else { 12 }, if h == 1 { 30 } else { 31 }))
            .unwrap_or(NaiveDate::MIN);
        RateTables {
            ecb: s.ecb,
            legal: s.legal,
            ecb_checked_through: s.ecb_checked_through.unwrap_or(ecb_last),
            legal_checked_through: s.legal_checked_through.unwrap_or(legal_last),
        }
    }
}

impl Default for RateTables {
    /// The tables shipped with the library (copied from `shared/reference/`).
    fn default() -> Self {
        RateTables::parse(ECB_CSV, LEGAL_CSV).unwrap_or(RateTables {
            ecb: Vec::new(),
            legal: Vec::new(),
            ecb_checked_through: NaiveDate::MIN,
            legal_checked_through: NaiveDate::MIN,
        })
    }
}

fn csv_rows(text: &str) -> Result<Vec<csv::StringRecord>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).from_reader(text.as_bytes());
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

/// The `# checked_through: YYYY-MM-DD` line a table file starts with, if any.
fn checked_through_line(text: &str) -> Result<Option<NaiveDate>> {
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix('#') else { continue };
        if let Some(v) = rest.trim().strip_prefix("checked_through:") {
            let v = v.trim();
            return crate::parse_date(v.get(..10).unwrap_or(v)).map(Some);
        }
    }
    Ok(None)
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
    /// Parses the two CSV files in the format of `shared/reference/` (extra columns ignored),
    /// each stating how far it was checked on a `# checked_through: YYYY-MM-DD` line.
    pub fn parse(ecb_csv: &str, legal_csv: &str) -> Result<RateTables> {
        RateTables::parse_checked(ecb_csv, legal_csv, None)
    }

    /// As [`RateTables::parse`]; `checked_through`, when given, is the day both tables were
    /// checked up to and replaces what the files say.
    pub fn parse_checked(ecb_csv: &str, legal_csv: &str, checked_through: Option<NaiveDate>) -> Result<RateTables> {
        let bad = |reason: String| Error::Invalid { field: "rate table", reason };
        let checked = |text: &str, which: &str| -> Result<NaiveDate> {
            match checked_through {
                Some(d) => Ok(d),
                None => checked_through_line(text)?.ok_or_else(|| {
                    bad(format!(
                        "the {which} table does not say how far it was checked against its source: start it with a line \
                         `# checked_through: YYYY-MM-DD`"
                    ))
                }),
            }
        };
        let (ecb_checked_through, legal_checked_through) =
            (checked(ecb_csv, "ECB")?, checked(legal_csv, "legal rate")?);
        let mut ecb = Vec::new();
        for row in csv_rows(ecb_csv)? {
            let date = crate::parse_date(row.get(0).unwrap_or("").trim())?;
            ecb.push(EcbRate { effective_on: date, rate_pct: pct(row.get(1).unwrap_or(""))? });
        }
        let mut legal = Vec::new();
        for row in csv_rows(legal_csv)? {
            let year: i32 = row.get(0).unwrap_or("").trim().parse().map_err(|_| bad(format!("bad year in {row:?}")))?;
            let half: u8 = row.get(1).unwrap_or("").trim().parse().map_err(|_| bad(format!("bad half in {row:?}")))?;
            if half != 1 && half != 2 {
                return Err(bad(format!("half must be 1 or 2 in {row:?}")));
            }
            legal.push(LegalRate { year, half, rate_pct: pct(row.get(3).unwrap_or(""))? });
        }
        if ecb.is_empty() || legal.is_empty() {
            return Err(bad("a rate table is empty".into()));
        }
        ecb.sort();
        legal.sort();
        Ok(RateTables { ecb, legal, ecb_checked_through, legal_checked_through })
    }

    /// The ECB rate in force on `day` (the last change on or before it), as the table knows it.
    pub fn ecb_on(&self, day: NaiveDate) -> Result<Decimal> {
        self.ecb.iter().rev().find(|r| r.effective_on <= day).map(|r| r.rate_pct).ok_or_else(|| {
            // Said in full: the owner reads it in `dunning run` and must know what to do.
            let first = self.ecb.first().map(|r| r.effective_on.to_string()).unwrap_or_default();
            Error::Invalid {
                field: "rate table",
                reason: format!(
                    "no ECB rate known on {day} (the table starts on {first}); add the rates in force then \
                         (ardoise rates set) to claim penalties on this debt"
                ),
            }
        })
    }

    /// The ECB rate in force on the first day of `day`'s half-year, which both L441-10 and
    /// R2192-31 take. A half-year starting after the table was checked is not covered: the ECB
    /// may have changed its rate since.
    pub fn ecb_for_half(&self, day: NaiveDate) -> Result<Decimal> {
        let start = half_start(day);
        if start > self.ecb_checked_through {
            return Err(Error::StaleRates {
                table: "ECB",
                year: start.year(),
                half: half_of(start),
                checked_through: self.ecb_checked_through,
            });
        }
        self.ecb_on(start)
    }

    /// The legal interest rate ("all other cases") for the half-year holding `day`.
    pub fn legal_on(&self, day: NaiveDate) -> Result<Decimal> {
        let key = (day.year(), half_of(day));
        self.legal.iter().find(|r| (r.year, r.half) == key).map(|r| r.rate_pct).ok_or(Error::StaleRates {
            table: "legal interest rate",
            year: key.0,
            half: key.1,
            checked_through: self.legal_checked_through,
        })
    }

    /// Whether both tables cover the half-year holding `day`; the error names the one that
    /// does not.
    pub fn covers(&self, day: NaiveDate) -> Result<()> {
        self.ecb_for_half(day)?;
        self.legal_on(day).map(|_| ())
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
    /// The last day that earns interest (included): today, or the day before it was paid.
    pub until: NaiveDate,
    pub debtor: CustomerKind,
    /// The day the formal notice ("mise en demeure") was sent: a consumer owes interest from
    /// the day after, on an invoice already due that day. A notice queued but never sent is
    /// not one.
    pub notice_on: Option<NaiveDate>,
    /// Partial payments: each lowers the base from its own date on.
    pub payments: Vec<(NaiveDate, Money)>,
    /// A contract rate for a business, in percent (floored at 3 x the legal rate); the other
    /// kinds' rates are set by law and ignore it.
    pub contract_rate_pct: Option<Decimal>,
    /// The debtor is in insolvency proceedings: the recovery indemnity is not claimed.
    pub insolvent: bool,
}

/// One stretch of days at one rate on one base.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PenaltyPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub base: Money,
    pub rate_pct: Decimal,
    pub interest: Money,
}

/// Late-payment interest and the recovery indemnity on one invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Penalty {
    pub interest: Money,
    pub indemnity: Money,
    pub total: Money,
    pub periods: Vec<PenaltyPeriod>,
}

/// The penalties the law allows on one invoice; [`Error::StaleRates`] when a day that earns
/// interest falls in a half-year the tables do not cover.
pub fn compute(req: &PenaltyRequest, rates: &RateTables) -> Result<Penalty> {
    if !req.amount.is_positive() {
        return Err(Error::NotPositive { field: "amount", amount: req.amount });
    }
    let late = req.until > req.due_on && paid_by(req, req.due_on) < req.amount;
    let start = match req.debtor {
        CustomerKind::Business | CustomerKind::Public => req.due_on.checked_add_days(Days::new(1)),
        // Only what was due when the notice went out is claimed by it (1344): an invoice that
        // fell due later needs a notice of its own.
        CustomerKind::Consumer => {
            req.notice_on.filter(|n| *n >= req.due_on).and_then(|n| n.checked_add_days(Days::new(1)))
        }
    };
    let mut periods = Vec::new();
    if let Some(mut from) = start.filter(|_| late) {
        // R2192-31 takes one rate for the whole delay, that of the half-year it started in.
        let public_rate = match req.debtor {
            CustomerKind::Public if from <= req.until => Some(rates.ecb_for_half(from)? + Decimal::from(8)),
            _ => None,
        };
        let mut cuts: Vec<NaiveDate> = req.payments.iter().map(|(d, _)| *d).collect();
        cuts.sort();
        while from <= req.until {
            let mut to = match public_rate {
                Some(_) => req.until,
                None => next_half_start(from).pred_opt().unwrap_or(from).min(req.until),
            };
            if let Some(cut) = cuts.iter().find(|c| **c > from && **c <= to) {
                to = cut.pred_opt().unwrap_or(from);
            }
            let base = req.amount - paid_by(req, from);
            if !base.is_positive() {
                break;
            }
            let rate = match public_rate {
                Some(r) => r,
                None => rate_for(req, rates, from)?,
            };
            let days = (to - from).num_days() + 1;
            let exact = base.to_decimal() * Decimal::from(days) * rate / Decimal::from(36_500);
            let interest = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let interest = Money::from_minor((interest * Decimal::from(100)).to_i64().unwrap_or(i64::MAX));
            periods.push(PenaltyPeriod { from, to, days, base, rate_pct: rate, interest });
            from = to.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }
    let interest: Money = periods.iter().map(|p| p.interest).sum();
    let owes_indemnity = matches!(req.debtor, CustomerKind::Business | CustomerKind::Public);
    let indemnity = if late && owes_indemnity && !req.insolvent { INDEMNITY } else { Money::ZERO };
    Ok(Penalty { interest, indemnity, total: interest + indemnity, periods })
}

/// Paid on or before `day` (a payment counts from its own date).
fn paid_by(req: &PenaltyRequest, day: NaiveDate) -> Money {
    req.payments.iter().filter(|(d, _)| *d <= day).map(|(_, m)| *m).sum()
}

fn rate_for(req: &PenaltyRequest, rates: &RateTables, day: NaiveDate) -> Result<Decimal> {
    match (req.debtor, req.contract_rate_pct) {
        (CustomerKind::Consumer, _) => rates.legal_on(day),
        (CustomerKind::Business, Some(contract)) => Ok(contract.max(rates.legal_on(day)? * Decimal::from(3))),
        (CustomerKind::Business, None) => Ok(rates.ecb_for_half(day)? + Decimal::from(10)),
        (CustomerKind::Public, _) => Ok(rates.ecb_for_half(day)? + Decimal::from(8)),
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
            insolvent: false,
        }
    }

    #[test]
    fn shipped_tables_give_the_published_half_year_rates() {
        let r = RateTables::default();
        // Published business penalty rates: 14.50 % (2024 H1), 14.25 % (2024 H2), 13.15 % (2025 H1),
        // 12.15 % (2025 H2 and 2026 H1), 12.40 % (2026 H2: the ECB's 2.40 % from 17 June 2026).
        for (day, want) in [
            ("2024-03-01", "14.50"),
            ("2024-09-01", "14.25"),
            ("2025-02-01", "13.15"),
            ("2025-12-31", "12.15"),
            ("2026-06-30", "12.15"),
            ("2026-07-01", "12.40"),
            ("2026-12-31", "12.40"),
        ] {
            assert_eq!(r.ecb_for_half(d(day)).unwrap() + Decimal::from(10), want.parse::<Decimal>().unwrap(), "{day}");
        }
        assert_eq!(r.ecb_on(d("2026-09-16")).unwrap(), "2.65".parse::<Decimal>().unwrap());
        assert_eq!(r.legal_on(d("2026-05-01")).unwrap(), "2.62".parse::<Decimal>().unwrap());
        assert_eq!(r.legal_on(d("2026-07-01")).unwrap(), "2.75".parse::<Decimal>().unwrap());
        assert_eq!((r.ecb_checked_through, r.legal_checked_through), (d("2026-12-04"), d("2026-12-04")));
        // The 17 December 2026 meeting sets 2027 H1's rate: nothing is known of it yet.
        for stale in [r.ecb_for_half(d("2027-01-01")), r.legal_on(d("2027-01-01"))] {
            assert!(matches!(stale, Err(Error::StaleRates { year: 2027, half: 1, .. })), "{stale:?}");
        }
        assert!(r.covers(d("2026-12-31")).is_ok());
        assert!(matches!(r.covers(d("2027-01-01")), Err(Error::StaleRates { table: "ECB", .. })));
    }

    #[test]
    fn business_interest_crosses_a_half_year_and_adds_the_indemnity() {
        // 1000 EUR due 2024-06-15, paid 2024-07-11 (so interest until the 10th): 15 days of June at
        // 14.50 %, 10 days of July at 14.25 %.
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
    fn a_half_year_the_tables_do_not_cover_is_an_error_never_a_guess() {
        let rates = RateTables::default();
        // Across 31 December 2026 into 2027 H1, which no table covers on 2026-12-04.
        let business = req("1000", "2026-12-15", "2027-01-05", CustomerKind::Business);
        let e = compute(&business, &rates).unwrap_err();
        assert!(matches!(e, Error::StaleRates { table: "ECB", year: 2027, half: 1, .. }), "{e:?}");
        assert!(e.to_string().contains("2027 H1"), "{e}");
        let mut consumer = req("500", "2026-11-30", "2027-01-05", CustomerKind::Consumer);
        consumer.notice_on = Some(d("2026-12-10"));
        let e = compute(&consumer, &rates).unwrap_err();
        assert!(matches!(e, Error::StaleRates { table: "legal interest rate", year: 2027, half: 1, .. }));
        // Up to 31 December the same invoices are fine.
        assert!(compute(&PenaltyRequest { until: d("2026-12-31"), ..business }, &rates).is_ok());
        // A public buyer's rate is the one of the half-year its delay began in (2026 H2),
        // taken once: days in 2027 need nothing more.
        let public = req("1000", "2026-12-15", "2027-01-15", CustomerKind::Public);
        let p = compute(&public, &rates).unwrap();
        assert_eq!(p.periods.len(), 1);
        assert_eq!(p.periods[0].rate_pct, "10.40".parse::<Decimal>().unwrap());
    }

    #[test]
    fn a_notice_claims_only_what_was_due_when_it_was_sent() {
        // Invoice due 10 November, notice sent 1 November: the notice could not claim it.
        let mut r = req("500", "2025-11-10", "2025-11-20", CustomerKind::Consumer);
        r.notice_on = Some(d("2025-11-01"));
        assert_eq!(compute(&r, &RateTables::default()).unwrap().total, Money::ZERO);
        // Sent on the due date itself: the debt was due, interest runs from the day after.
        r.notice_on = Some(d("2025-11-10"));
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!((p.periods[0].from, p.periods[0].days), (d("2025-11-11"), 10));
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
        let ecb = "# checked_through: 2026-12-20\neffective_date,rate\n2020-01-01,1.00\n";
        let legal = "# checked_through: 2026-12-20\nyear,half,a,b\n2026,2,7.00,3.00\n";
        assert!(
            RateTables::parse("# checked_through: 2026-12-20\neffective_date,rate\n2025-01-01,abc\n", LEGAL_CSV)
                .is_err()
        );
        assert!(RateTables::parse("# checked_through: 2026-12-20\neffective_date,rate\n", LEGAL_CSV).is_err());
        let t = RateTables::parse(ecb, legal).unwrap();
        assert_eq!(t.legal_on(d("2026-08-01")).unwrap(), Decimal::from(3));
        assert_eq!(t.ecb_checked_through, d("2026-12-20"));
        // A table that does not say how far it was checked is refused, unless the caller says.
        let undated = "effective_date,rate\n2020-01-01,1.00\n";
        let e = RateTables::parse(undated, legal).unwrap_err();
        assert!(matches!(&e, Error::Invalid { reason, .. } if reason.contains("checked_through")), "{e:?}");
        let t = RateTables::parse_checked(undated, legal, Some(d("2026-12-01"))).unwrap();
        assert_eq!((t.ecb_checked_through, t.legal_checked_through), (d("2026-12-01"), d("2026-12-01")));
        assert!(
            RateTables::parse("# checked_through: 2026-13-01\neffective_date,rate\n2020-01-01,1\n", legal).is_err()
        );
    }

    #[test]
    fn tables_stored_before_they_were_dated_vouch_for_their_last_row_only() {
        let old = r#"{"ecb":[["2025-06-11","2.15"]],"legal":[[[2026,1],"2.62"]]}"#;
        let t: RateTables = serde_json::from_str(old).unwrap();
        assert_eq!((t.ecb_checked_through, t.legal_checked_through), (d("2025-06-11"), d("2026-06-30")));
        assert!(matches!(t.ecb_for_half(d("2026-02-01")), Err(Error::StaleRates { year: 2026, half: 1, .. })));
        let again: RateTables = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(again, t);
    }

    // Hand-worked cases across 1 January and 1 July 2026, one per kind of debtor, each with a
    // partial payment. Shipped rates: ECB 2.15 % in force on 1 July 2025 and 1 January 2026,
    // 2.40 % on 1 July 2026; legal rate 2.76 % (2025 H2), 2.62 % (2026 H1), 2.75 % (2026 H2).
    // Each period: amount x days x rate / 36500, rounded half away from zero to the cent.

    fn figures(p: &Penalty) -> Vec<(NaiveDate, NaiveDate, i64, Money, String, Money)> {
        p.periods.iter().map(|x| (x.from, x.to, x.days, x.base, x.rate_pct.to_string(), x.interest)).collect()
    }

    #[test]
    fn business_across_1_january_2026_with_a_partial_payment() {
        let mut r = req("1000", "2025-12-15", "2026-01-31", CustomerKind::Business);
        r.payments = vec![(d("2026-01-10"), m("400"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 1000 x 16 x 12.15 / 36500 = 5.3260 -> 5.33
                (d("2025-12-16"), d("2025-12-31"), 16, m("1000"), "12.15".into(), m("5.33")),
                // 1000 x 9 x 12.15 / 36500 = 2.9959 -> 3.00 (the payment's day earns nothing on what it paid)
                (d("2026-01-01"), d("2026-01-09"), 9, m("1000"), "12.15".into(), m("3.00")),
                // 600 x 22 x 12.15 / 36500 = 4.3940 -> 4.39
                (d("2026-01-10"), d("2026-01-31"), 22, m("600"), "12.15".into(), m("4.39")),
            ]
        );
        assert_eq!((p.interest, p.indemnity, p.total), (m("12.72"), m("40"), m("52.72")));
    }

    #[test]
    fn business_across_1_july_2026_with_a_partial_payment() {
        let mut r = req("1000", "2026-06-20", "2026-07-20", CustomerKind::Business);
        r.payments = vec![(d("2026-07-05"), m("250"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 1000 x 10 x 12.15 / 36500 = 3.3288 -> 3.33
                (d("2026-06-21"), d("2026-06-30"), 10, m("1000"), "12.15".into(), m("3.33")),
                // 1000 x 4 x 12.40 / 36500 = 1.3589 -> 1.36
                (d("2026-07-01"), d("2026-07-04"), 4, m("1000"), "12.40".into(), m("1.36")),
                // 750 x 16 x 12.40 / 36500 = 4.0767 -> 4.08
                (d("2026-07-05"), d("2026-07-20"), 16, m("750"), "12.40".into(), m("4.08")),
            ]
        );
        assert_eq!((p.interest, p.indemnity, p.total), (m("8.77"), m("40"), m("48.77")));
    }

    #[test]
    fn public_buyers_take_one_rate_for_the_whole_delay() {
        // Across 1 January 2026: the delay began in 2025 H2 (ECB 2.15 % on 1 July 2025) + 8 = 10.15 %.
        let mut r = req("1000", "2025-12-15", "2026-01-31", CustomerKind::Public);
        r.payments = vec![(d("2026-01-10"), m("400"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 1000 x 25 x 10.15 / 36500 = 6.9521 -> 6.95 (no cut on 1 January)
                (d("2025-12-16"), d("2026-01-09"), 25, m("1000"), "10.15".into(), m("6.95")),
                // 600 x 22 x 10.15 / 36500 = 3.6707 -> 3.67
                (d("2026-01-10"), d("2026-01-31"), 22, m("600"), "10.15".into(), m("3.67")),
            ]
        );
        assert_eq!((p.interest, p.indemnity, p.total), (m("10.62"), m("40"), m("50.62")));
        // Across 1 July 2026: began in 2026 H1 (2.15 % + 8), kept after 1 July although the ECB
        // rate rose to 2.40 %.
        let mut r = req("1000", "2026-06-20", "2026-07-20", CustomerKind::Public);
        r.payments = vec![(d("2026-07-05"), m("250"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 1000 x 14 x 10.15 / 36500 = 3.8932 -> 3.89
                (d("2026-06-21"), d("2026-07-04"), 14, m("1000"), "10.15".into(), m("3.89")),
                // 750 x 16 x 10.15 / 36500 = 3.3370 -> 3.34
                (d("2026-07-05"), d("2026-07-20"), 16, m("750"), "10.15".into(), m("3.34")),
            ]
        );
        assert_eq!((p.interest, p.indemnity, p.total), (m("7.23"), m("40"), m("47.23")));
        // A contract rate changes nothing for a public buyer: R2192-31 sets it.
        r.contract_rate_pct = Some(Decimal::from(20));
        assert_eq!(compute(&r, &RateTables::default()).unwrap().interest, m("7.23"));
    }

    #[test]
    fn consumer_across_1_january_and_1_july_2026_from_the_notice_sent() {
        // Notice sent 15 December 2025 on 500 due 10 November; 200 paid on 20 January.
        let mut r = req("500", "2025-11-10", "2026-02-10", CustomerKind::Consumer);
        r.notice_on = Some(d("2025-12-15"));
        r.payments = vec![(d("2026-01-20"), m("200"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 500 x 16 x 2.76 / 36500 = 0.6049 -> 0.60
                (d("2025-12-16"), d("2025-12-31"), 16, m("500"), "2.76".into(), m("0.60")),
                // 500 x 19 x 2.62 / 36500 = 0.6819 -> 0.68
                (d("2026-01-01"), d("2026-01-19"), 19, m("500"), "2.62".into(), m("0.68")),
                // 300 x 22 x 2.62 / 36500 = 0.4737 -> 0.47
                (d("2026-01-20"), d("2026-02-10"), 22, m("300"), "2.62".into(), m("0.47")),
            ]
        );
        assert_eq!((p.interest, p.indemnity, p.total), (m("1.75"), Money::ZERO, m("1.75")));
        // Notice sent 15 June 2026 on 800 due 31 May; 300 paid on 10 July.
        let mut r = req("800", "2026-05-31", "2026-07-31", CustomerKind::Consumer);
        r.notice_on = Some(d("2026-06-15"));
        r.payments = vec![(d("2026-07-10"), m("300"))];
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!(
            figures(&p),
            vec![
                // 800 x 15 x 2.62 / 36500 = 0.8614 -> 0.86
                (d("2026-06-16"), d("2026-06-30"), 15, m("800"), "2.62".into(), m("0.86")),
                // 800 x 9 x 2.75 / 36500 = 0.5425 -> 0.54
                (d("2026-07-01"), d("2026-07-09"), 9, m("800"), "2.75".into(), m("0.54")),
                // 500 x 22 x 2.75 / 36500 = 0.8288 -> 0.83
                (d("2026-07-10"), d("2026-07-31"), 22, m("500"), "2.75".into(), m("0.83")),
            ]
        );
        assert_eq!((p.interest, p.total), (m("2.23"), m("2.23")));
    }

    #[test]
    fn a_full_payment_on_d_gives_the_same_figure_as_until_the_day_before() {
        for kind in [CustomerKind::Business, CustomerKind::Public] {
            let mut paid = req("1000", "2026-03-31", "2026-04-30", kind);
            paid.payments = vec![(d("2026-04-15"), m("1000"))];
            let p = compute(&paid, &RateTables::default()).unwrap();
            let q = compute(&req("1000", "2026-03-31", "2026-04-14", kind), &RateTables::default()).unwrap();
            assert_eq!(p, q, "{kind:?}");
            // 1000 x 14 x 12.15 / 36500 = 4.6603 -> 4.66 (business); x 10.15 = 3.8932 -> 3.89 (public)
            assert_eq!(p.periods.last().unwrap().to, d("2026-04-14"));
        }
        let p = compute(&req("1000", "2026-03-31", "2026-04-14", CustomerKind::Business), &RateTables::default());
        assert_eq!(p.unwrap().interest, m("4.66"));
    }

    #[test]
    fn a_half_cent_rounds_away_from_zero() {
        // ECB 2.00 % + 8 = 10 % for a public buyer: 18.25 x 1 x 10 / 36500 = 0.005 -> 0.01.
        let t = RateTables::parse(
            "# checked_through: 2026-12-31\neffective_date,rate\n2020-01-01,2.00\n",
            "# checked_through: 2026-12-31\nyear,half,a,b\n2026,1,7.00,3.00\n",
        )
        .unwrap();
        let p = compute(&req("18.25", "2026-02-01", "2026-02-02", CustomerKind::Public), &t).unwrap();
        assert_eq!(p.interest, m("0.01"));
    }

    #[test]
    fn insolvency_stops_the_indemnity() {
        let mut r = req("1000", "2026-03-31", "2026-04-30", CustomerKind::Business);
        r.insolvent = true;
        let p = compute(&r, &RateTables::default()).unwrap();
        assert_eq!((p.indemnity, p.total), (Money::ZERO, p.interest));
    }
}
