//! Payment plans ("échéanciers") and promises to pay: what was agreed, and whether it holds.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Instalment {
    pub due_on: NaiveDate,
    pub amount: Money,
}

/// Where a plan stands on a date, given what was paid since it was agreed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PlanStatus {
    /// In good standing: reminders stay paused.
    Active {
        paid: Money,
        next_due: Option<NaiveDate>,
        next_amount: Money,
    },
    Completed,
    /// An instalment was missed past the grace days: the ladder resumes.
    Broken {
        missed_due: NaiveDate,
        missing: Money,
    },
}

/// Splits `total` into `count` instalments every `every_days` from `first`; the cents that do
/// not divide go to the first instalment (often paid at the till on the day).
pub fn split_evenly(total: Money, count: u32, first: NaiveDate, every_days: u32) -> Result<Vec<Instalment>> {
    if !total.is_positive() {
        return Err(Error::NotPositive { field: "plan total", amount: total });
    }
    if !(1..=36).contains(&count) || !(1..=92).contains(&every_days) {
        return Err(Error::Invalid { field: "plan", reason: "1 to 36 instalments, 1 to 92 days apart".into() });
    }
    let each = total.minor() / i64::from(count);
    let rest = total.minor() - each * i64::from(count);
    (0..count)
        .map(|i| {
            let due_on = first
                .checked_add_days(Days::new(u64::from(i) * u64::from(every_days)))
                .ok_or_else(|| Error::Invalid { field: "plan", reason: "date out of range".into() })?;
            let amount = Money::from_minor(each + if i == 0 { rest } else { 0 });
            Ok(Instalment { due_on, amount })
        })
        .collect()
}

pub fn validate(instalments: &[Instalment], created_on: NaiveDate) -> Result<()> {
    let invalid = |reason: &str| Err(Error::Invalid { field: "plan", reason: reason.into() });
    if instalments.is_empty() || instalments.len() > 36 {
        return invalid("a plan has 1 to 36 instalments");
    }
    if instalments.iter().any(|i| !i.amount.is_positive()) {
        return invalid("every instalment must be positive");
    }
    if instalments.windows(2).any(|w| w[1].due_on <= w[0].due_on) {
        return invalid("instalments must be in date order, one per date");
    }
    if instalments[0].due_on < created_on {
        return invalid("the first instalment cannot be before the plan");
    }
    Ok(())
}

/// Payments since the plan fill the instalments in order.
pub fn status(instalments: &[Instalment], paid: Money, grace_days: u32, today: NaiveDate) -> PlanStatus {
    let total: Money = instalments.iter().map(|i| i.amount).sum();
    if paid >= total {
        return PlanStatus::Completed;
    }
    let mut due_so_far = Money::ZERO;
    for inst in instalments {
        due_so_far += inst.amount;
        let deadline = inst.due_on.checked_add_days(Days::new(grace_days.into())).unwrap_or(NaiveDate::MAX);
        if paid < due_so_far && today > deadline {
            return PlanStatus::Broken { missed_due: inst.due_on, missing: due_so_far - paid };
        }
    }
    let mut cumulative = Money::ZERO;
    let next = instalments.iter().find(|i| {
        cumulative += i.amount;
        cumulative > paid
    });
    PlanStatus::Active { paid, next_due: next.map(|i| i.due_on), next_amount: (cumulative - paid).clamp_zero() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    fn m(minor: i64) -> Money {
        Money::from_minor(minor)
    }

    #[test]
    fn splitting_puts_the_odd_cents_first_and_crosses_month_ends() {
        let p = split_evenly(m(10_000), 3, d("2026-01-31"), 30).unwrap();
        assert_eq!(p.iter().map(|i| i.amount.minor()).collect::<Vec<_>>(), vec![3_334, 3_333, 3_333]);
        assert_eq!(
            p.iter().map(|i| i.due_on).collect::<Vec<_>>(),
            vec![d("2026-01-31"), d("2026-03-02"), d("2026-04-01")]
        );
        validate(&p, d("2026-01-31")).unwrap();
        assert!(split_evenly(m(0), 3, d("2026-01-31"), 30).is_err());
    }

    #[test]
    fn a_plan_holds_until_an_instalment_is_missed_past_the_grace_days() {
        let p = split_evenly(m(9_000), 3, d("2026-02-01"), 28).unwrap(); // 02-01, 03-01, 03-29
        assert!(
            matches!(status(&p, m(3_000), 5, d("2026-03-06")), PlanStatus::Active { next_due: Some(x), .. } if x == d("2026-03-01"))
        );
        assert_eq!(
            status(&p, m(3_000), 5, d("2026-03-07")),
            PlanStatus::Broken { missed_due: d("2026-03-01"), missing: m(3_000) }
        );
        assert!(
            matches!(status(&p, m(6_500), 5, d("2026-03-20")), PlanStatus::Active { next_amount, .. } if next_amount == m(2_500))
        );
        assert_eq!(status(&p, m(9_000), 5, d("2026-03-07")), PlanStatus::Completed);
        assert!(validate(&[Instalment { due_on: d("2026-01-01"), amount: m(1) }], d("2026-02-01")).is_err());
    }
}
