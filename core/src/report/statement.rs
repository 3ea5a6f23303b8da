//! The customer statement (relevé de compte): opening balance, every movement, closing balance,
//! and what is overdue at the end of the period.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// One movement on the account. `debit` raises what the customer owes, `credit` lowers it;
/// `balance` is the running balance after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StatementLine {
    pub date: NaiveDate,
    pub kind: String,
    pub reference: String,
    pub description: String,
    pub debit: Money,
    pub credit: Money,
    pub balance: Money,
    /// Deposits received (+) or used or refunded (-): shown, but outside the balance.
    pub deposit: Money,
}

/// An invoice still unpaid after its due date at the statement's end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OverdueInvoice {
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub days_past_due: i64,
    pub remaining: Money,
}

/// The relevé de compte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Statement {
    pub customer_ref: String,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_balance: Money,
    pub lines: Vec<StatementLine>,
    pub total_debit: Money,
    pub total_credit: Money,
    pub closing_balance: Money,
    pub overdue: Money,
    pub overdue_invoices: Vec<OverdueInvoice>,
    pub deposits_held: Money,
}

/// A movement before the running balance is known: the signed effect on the balance.
#[derive(Clone, Debug)]
pub struct Movement {
    pub date: NaiveDate,
    pub kind: String,
    pub reference: String,
    pub description: String,
    pub balance_effect: Money,
    pub deposit_effect: Money,
}

impl Statement {
    /// Runs the balance through the movements (already in the account's fold order).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        customer_ref: String,
        name: String,
        from: NaiveDate,
        to: NaiveDate,
        opening_balance: Money,
        movements: Vec<Movement>,
        overdue_invoices: Vec<OverdueInvoice>,
        deposits_held: Money,
    ) -> Statement {
        let mut balance = opening_balance;
        let (mut total_debit, mut total_credit) = (Money::ZERO, Money::ZERO);
        let lines = movements
            .into_iter()
            .map(|m| {
                balance += m.balance_effect;
                let (debit, credit) = if m.balance_effect.is_negative() {
                    (Money::ZERO, -m.balance_effect)
                } else {
                    (m.balance_effect, Money::ZERO)
                };
                total_debit += debit;
                total_credit += credit;
                StatementLine {
                    date: m.date,
                    kind: m.kind,
                    reference: m.reference,
                    description: m.description,
                    debit,
                    credit,
                    balance,
                    deposit: m.deposit_effect,
                }
            })
            .collect();
        let overdue = overdue_invoices.iter().map(|o| o.remaining).sum();
        Statement {
            customer_ref,
            name,
            from,
            to,
            opening_balance,
            lines,
            total_debit,
            total_credit,
            closing_balance: balance,
            overdue,
            overdue_invoices,
            deposits_held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mv(effect: i64) -> Movement {
        Movement {
            date: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            kind: "sale".into(),
            reference: "F1".into(),
            description: String::new(),
            balance_effect: Money::from_minor(effect),
            deposit_effect: Money::ZERO,
        }
    }

    proptest! {
        #[test]
        fn statements_balance(opening in -100_000i64..100_000, effects in prop::collection::vec(-50_000i64..50_000, 0..40)) {
            let d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let s = Statement::build("C".into(), "C".into(), d, d, Money::from_minor(opening),
                effects.iter().map(|&e| mv(e)).collect(), vec![], Money::ZERO);
            prop_assert_eq!(s.opening_balance + s.total_debit - s.total_credit, s.closing_balance);
            prop_assert_eq!(s.closing_balance, Money::from_minor(opening + effects.iter().sum::<i64>()));
            let mut running = s.opening_balance;
            for l in &s.lines {
                prop_assert!(l.debit.is_zero() || l.credit.is_zero());
                running = running + l.debit - l.credit;
                prop_assert_eq!(running, l.balance);
            }
        }
    }
}
