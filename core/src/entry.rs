//! Ledger entries: immutable facts about a customer's account. Corrections are new entries.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::money::Money;
use crate::text::text;

/// The earliest date an entry may carry: anything older is a typing or clock error, and would
/// sort before every genuine entry of the account.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
/// The latest: order keys and files write dates with four-digit years.
const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");
/// How far after the sale its due date may fall: longer terms are a typing error, and such a
/// sale would never be chased.
const LONGEST_TERMS_DAYS: i64 = 3660;
/// A reference (invoice, order, adjustment) or a cashier's name, in characters.
pub(crate) const REFERENCE_MAX: usize = 64;
/// A reason for a credit note, an adjustment, a write-off or a reversal.
pub(crate) const REASON_MAX: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PaymentMethod {
    Cash,
    Card,
    Transfer,
    Cheque,
    /// Paid through the shop's online payment provider (a payment link of a reminder).
    Online,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "transfer",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::Online => "online",
        }
    }
}

impl std::str::FromStr for PaymentMethod {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "cash" => Ok(PaymentMethod::Cash),
            "card" => Ok(PaymentMethod::Card),
            "transfer" => Ok(PaymentMethod::Transfer),
            "cheque" | "check" => Ok(PaymentMethod::Cheque),
            "online" => Ok(PaymentMethod::Online),
            _ => Err(crate::Error::Invalid {
                field: "payment method",
                reason: format!("{s:?}: use cash, card, transfer, cheque or online"),
            }),
        }
    }
}

/// What happened. Amounts are positive except an adjustment, whose sign says which way it goes.
/// `invoice` fields name the sale entry an amount is aimed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryBody {
    Sale {
        amount: Money,
        invoice_ref: String,
        due_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_id: Option<Uuid>,
    },
    Payment {
        amount: Money,
        method: PaymentMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice: Option<Uuid>,
    },
    DepositReceived {
        amount: Money,
        method: PaymentMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_ref: Option<String>,
    },
    DepositApplied {
        amount: Money,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice: Option<Uuid>,
    },
    DepositRefunded {
        amount: Money,
        method: PaymentMethod,
    },
    CreditNote {
        amount: Money,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice: Option<Uuid>,
    },
    /// Positive: the customer owes more (a charge, due at once). Negative: owes less.
    Adjustment {
        amount: Money,
        reason: String,
        reference: String,
        /// Charged by the reminder ladder (a step's fee, penalties, the recovery indemnity):
        /// owed, but never chased as an invoice nor bearing interest itself.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fee: bool,
    },
    WriteOff {
        amount: Money,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice: Option<Uuid>,
    },
    Reversal {
        of: Uuid,
        reason: String,
    },
}

impl EntryBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EntryBody::Sale { .. } => "sale",
            EntryBody::Payment { .. } => "payment",
            EntryBody::DepositReceived { .. } => "deposit_received",
            EntryBody::DepositApplied { .. } => "deposit_applied",
            EntryBody::DepositRefunded { .. } => "deposit_refunded",
            EntryBody::CreditNote { .. } => "credit_note",
            EntryBody::Adjustment { .. } => "adjustment",
            EntryBody::WriteOff { .. } => "write_off",
            EntryBody::Reversal { .. } => "reversal",
        }
    }

    /// The amount as written on the entry (positive, or signed for an adjustment).
    pub fn amount(&self) -> Option<Money> {
        match self {
            EntryBody::Sale { amount, .. }
            | EntryBody::Payment { amount, .. }
            | EntryBody::DepositReceived { amount, .. }
            | EntryBody::DepositApplied { amount, .. }
            | EntryBody::DepositRefunded { amount, .. }
            | EntryBody::CreditNote { amount, .. }
            | EntryBody::Adjustment { amount, .. }
            | EntryBody::WriteOff { amount, .. } => Some(*amount),
            EntryBody::Reversal { .. } => None,
        }
    }

    /// How the entry moves (what the customer owes, deposits held). A reversal moves by the
    /// opposite of what it reverses, so it needs that entry.
    pub fn effect(&self, reversed: Option<&EntryBody>) -> Effect {
        match self {
            EntryBody::Sale { amount, .. } => Effect { balance: *amount, deposits: Money::ZERO },
            EntryBody::Adjustment { amount, .. } => Effect { balance: *amount, deposits: Money::ZERO },
            EntryBody::Payment { amount, .. }
            | EntryBody::CreditNote { amount, .. }
            | EntryBody::WriteOff { amount, .. } => Effect { balance: -*amount, deposits: Money::ZERO },
            EntryBody::DepositReceived { amount, .. } => Effect { balance: Money::ZERO, deposits: *amount },
            EntryBody::DepositApplied { amount, .. } => Effect { balance: -*amount, deposits: -*amount },
            EntryBody::DepositRefunded { amount, .. } => Effect { balance: Money::ZERO, deposits: -*amount },
            EntryBody::Reversal { .. } => {
                let e = reversed.map(|r| r.effect(None)).unwrap_or_default();
                Effect { balance: -e.balance, deposits: -e.deposits }
            }
        }
    }
}

/// Signed movement of an entry: on what the customer owes, and on deposits held for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub balance: Money,
    pub deposits: Money,
}

/// One ledger entry, as every device and the server will know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub device_id: Uuid,
    /// Gapless per device: the sync protocol detects loss and repeats with it.
    pub device_seq: u64,
    pub customer: Uuid,
    /// When the sale or payment happened (may be in the past for imported history).
    pub business_date: NaiveDate,
    /// When it was typed in.
    pub recorded_at: DateTime<Utc>,
    pub cashier: String,
    #[serde(flatten)]
    pub body: EntryBody,
}

/// The order in which every device folds a customer's entries, whatever order they arrived in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderKey(pub String);

impl Entry {
    /// What every device and the server hold true of an entry, whoever recorded it: amounts
    /// positive (an adjustment's not zero), text as a till writes it (trimmed, printable, within
    /// its length), dates in range, a sale due no earlier than it was made and not years later.
    /// A till's own entries pass it before they are written (`Write::append`), so an entry from
    /// the network is held to exactly the rules of the till that would have written it.
    pub fn check(&self) -> Result<()> {
        self.check_content()?;
        self.check_sequence()
    }

    /// [`Entry::check`] but for its device sequence number: what a till checks before it hands
    /// the entry a number of its own.
    pub(crate) fn check_content(&self) -> Result<()> {
        if let Some(amount) = self.body.amount() {
            let ok = match self.body {
                EntryBody::Adjustment { .. } => !amount.is_zero(),
                _ => amount.is_positive(),
            };
            if !ok {
                return Err(Error::NotPositive { field: "amount", amount });
            }
        }
        as_written("cashier", &self.cashier, REFERENCE_MAX)?;
        in_range("business date", self.business_date)?;
        let recorded = self.recorded_at.date_naive();
        in_range("recorded at", recorded)?;
        // A till dates a sale by its local day, which may be the day after UTC's.
        if self.business_date > recorded + chrono::Days::new(1) {
            return Err(Error::Invalid {
                field: "business date",
                reason: format!("{} is after the day it was recorded ({recorded})", self.business_date),
            });
        }
        match &self.body {
            EntryBody::Sale { invoice_ref, due_on, .. } => {
                as_written("invoice reference", invoice_ref, REFERENCE_MAX)?;
                in_range("due date", *due_on)?;
                if *due_on < self.business_date || (*due_on - self.business_date).num_days() > LONGEST_TERMS_DAYS {
                    return Err(Error::Invalid {
                        field: "due date",
                        reason: format!("{due_on} for a sale of {}: due before it, or years after", self.business_date),
                    });
                }
            }
            EntryBody::DepositReceived { order_ref: Some(r), .. } => as_written("order reference", r, REFERENCE_MAX)?,
            EntryBody::Adjustment { reason, reference, .. } => {
                as_written("reason", reason, REASON_MAX)?;
                as_written("reference", reference, REFERENCE_MAX)?;
            }
            EntryBody::CreditNote { reason, .. }
            | EntryBody::WriteOff { reason, .. }
            | EntryBody::Reversal { reason, .. } => as_written("reason", reason, REASON_MAX)?,
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn check_sequence(&self) -> Result<()> {
        if self.device_seq == 0 || i64::try_from(self.device_seq).is_err() {
            return Err(Error::Invalid {
                field: "device sequence",
                reason: format!("{} is out of range", self.device_seq),
            });
        }
        Ok(())
    }

    /// [`Entry::check`], and what only a receiver with a trusted clock can add: an entry is not
    /// recorded more than `max_ahead_ms` after `now`.
    pub fn check_received(&self, now: DateTime<Utc>, max_ahead_ms: i64) -> Result<()> {
        self.check()?;
        if self.recorded_at.timestamp_millis() > now.timestamp_millis().saturating_add(max_ahead_ms) {
            return Err(Error::Invalid {
                field: "recorded at",
                reason: format!("{} is ahead of this server's clock ({now})", self.recorded_at),
            });
        }
        Ok(())
    }

    pub fn order_key(&self) -> OrderKey {
        order_key(self.business_date, self.recorded_at.timestamp_millis(), self.device_id, self.device_seq)
    }
}

/// A text field exactly as a till would have stored it.
fn as_written(field: &'static str, value: &str, max: usize) -> Result<()> {
    if text(field, value, max)? != value {
        return Err(Error::Invalid { field, reason: "has spaces around it".into() });
    }
    Ok(())
}

fn in_range(field: &'static str, date: NaiveDate) -> Result<()> {
    if (FIRST_DATE..=LAST_DATE).contains(&date) {
        Ok(())
    } else {
        Err(Error::Invalid { field, reason: format!("{date} is outside {FIRST_DATE} to {LAST_DATE}") })
    }
}

pub(crate) fn order_key(date: NaiveDate, recorded_ms: i64, device: Uuid, seq: u64) -> OrderKey {
    OrderKey(format!("{date}|{recorded_ms:015}|{}|{seq:012}", device.simple()))
}
