//! What was known about one customer's payments on a given date, as numbers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// One invoice as recorded: what the risk model may learn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceFact {
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    /// Day the invoice was fully paid; a settlement after `as_of` counts as still open.
    pub settled_on: Option<NaiveDate>,
    /// Whether the customer disputed it. Only read once the invoice is settled: when a dispute was
    /// raised is not recorded, so an open invoice's flag could come from the future.
    pub disputed: bool,
}

/// Late share a customer with no history is assumed to have, and how many invoices that guess is
/// worth. 0.35 is about the share of late invoices in the IBM sample; the model's intercept and
/// weights correct it for each shop.
const PRIOR_LATE_SHARE: f64 = 0.35;
const PRIOR_LATE_WEIGHT: f64 = 2.0;
/// Days between the due date and settlement assumed without history (a little early), worth one
/// invoice.
const PRIOR_DAYS_VS_DUE: f64 = -6.0;
/// How much later a disputed invoice is settled, and the spread of settlement around a
/// customer's habit, in days. Measured on the IBM sample (disputed invoices: +14 days; residual
/// standard deviation about 5.5 days); the model's weight on `timing_risk` absorbs a shop whose
/// figures differ.
const DISPUTE_DELAY_DAYS: f64 = 14.0;
const SETTLE_SPREAD_DAYS: f64 = 5.5;
/// Invoices counted as "recent" in the reasons.
pub(crate) const RECENT: usize = 6;

/// One customer's history summarised as of a date. All amounts are in currency units (not cents).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Invoices whose outcome (on time or late) was known: settled, or open and past due.
    pub history_count: f64,
    pub late_count: f64,
    /// Late share smoothed toward 0.35 with the weight of two invoices, so that one late
    /// invoice out of one is not a certainty.
    pub late_share: f64,
    /// Among the last [`RECENT`] known outcomes by issue date.
    pub recent_count: f64,
    pub recent_late: f64,
    pub settled_count: f64,
    /// Mean of (settlement - due date) in days over settled invoices: negative = early.
    pub mean_days_vs_due: f64,
    pub disputed_count: f64,
    /// Log-odds of a late payment implied by the customer's settlement timing and dispute habit:
    /// the customer's usual settlement day (disputed invoices taken back by the dispute delay), a
    /// normal spread around it, and the chance of a dispute pushing it later. It lets a customer
    /// who always pays a day before the due date look riskier than one who pays three weeks early,
    /// which a late share of zero for both cannot.
    pub timing_risk: f64,
    pub open_count: f64,
    pub open_amount: f64,
    /// Age in days of the oldest invoice still open (0 if none).
    pub oldest_open_days: f64,
    pub overdue_count: f64,
    pub overdue_amount: f64,
    /// Days past due of the most overdue open invoice (0 if none).
    pub overdue_days: f64,
    /// Mean amount of the customer's invoices so far (0 if none).
    pub usual_amount: f64,
    /// Amount of the invoice being scored; the usual amount when not given.
    pub next_amount: f64,
}

fn units(m: Money) -> f64 {
    m.minor() as f64 / 100.0
}

/// Summarises `history` as it stood at the end of `as_of`: invoices issued after it are ignored,
/// settlements after it count as not yet happened. `next_amount` is the amount of the invoice
/// about to be issued, if known. O(n log n) in the history's length (one sort of the outcomes).
pub fn features(history: &[InvoiceFact], as_of: NaiveDate, next_amount: Option<Money>) -> Features {
    let mut f = Features::default();
    let mut outcomes: Vec<(NaiveDate, bool)> = Vec::new();
    let (mut amount_sum, mut known) = (0.0, 0.0);
    let (mut adjusted_sum, mut days_sum) = (0.0, 0.0);
    for fact in history.iter().filter(|x| x.issued_on <= as_of) {
        known += 1.0;
        amount_sum += units(fact.amount);
        match fact.settled_on.filter(|s| *s <= as_of) {
            Some(settled) => {
                let vs_due = (settled - fact.due_on).num_days() as f64;
                f.settled_count += 1.0;
                days_sum += vs_due;
                if fact.disputed {
                    f.disputed_count += 1.0;
                    adjusted_sum += vs_due - DISPUTE_DELAY_DAYS;
                } else {
                    adjusted_sum += vs_due;
                }
                outcomes.push((fact.issued_on, settled > fact.due_on));
            }
            None => {
                f.open_count += 1.0;
                f.open_amount += units(fact.amount);
                f.oldest_open_days = f.oldest_open_days.max((as_of - fact.issued_on).num_days() as f64);
                // Unpaid after its due date: late for sure, whatever happens next.
                if fact.due_on < as_of {
                    f.overdue_count += 1.0;
                    f.overdue_amount += units(fact.amount);
                    f.overdue_days = f.overdue_days.max((as_of - fact.due_on).num_days() as f64);
                    outcomes.push((fact.issued_on, true));
                }
            }
        }
    }
    outcomes.sort_by_key(|(issued, _)| *issued);
    f.history_count = outcomes.len() as f64;
    f.late_count = outcomes.iter().filter(|(_, late)| *late).count() as f64;
    f.late_share = (f.late_count + PRIOR_LATE_WEIGHT * PRIOR_LATE_SHARE) / (f.history_count + PRIOR_LATE_WEIGHT);
    let recent = &outcomes[outcomes.len().saturating_sub(RECENT)..];
    f.recent_count = recent.len() as f64;
    f.recent_late = recent.iter().filter(|(_, late)| *late).count() as f64;
    f.mean_days_vs_due = if f.settled_count > 0.0 { days_sum / f.settled_count } else { 0.0 };

    let habit = (adjusted_sum + PRIOR_DAYS_VS_DUE) / (f.settled_count + 1.0);
    let dispute_chance = (f.disputed_count + 0.5) / (f.settled_count + 2.0);
    // Settled on due date + 1 or later is late; 0.5 is the continuity correction for whole days.
    let late_if = |delay: f64| normal_cdf((habit + delay - 0.5) / SETTLE_SPREAD_DAYS);
    let p = dispute_chance * late_if(DISPUTE_DELAY_DAYS) + (1.0 - dispute_chance) * late_if(0.0);
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    f.timing_risk = (p / (1.0 - p)).ln();

    f.usual_amount = if known > 0.0 { amount_sum / known } else { 0.0 };
    f.next_amount = next_amount.map_or(f.usual_amount, units);
    f
}

/// Standard normal distribution function (Abramowitz & Stegun 7.1.26, error below 1.5e-7): no
/// crate for one formula.
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
pub(crate) fn normal_cdf_for_tests(z: f64) -> f64 {
    normal_cdf(z)
}
