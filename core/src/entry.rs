//! Ledger entries: immutable facts about a customer's account. Corrections are new entries.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    Cash,
    Card,
    Transfer,
    Cheque,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "transfer",
            PaymentMethod::Cheque => "cheque",
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
            _ => Err(crate::Error::Invalid {
                field: "payment method",
                reason: format!("{s:?}: use cash, card, transfer or cheque"),
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
    pub fn order_key(&self) -> OrderKey {
        order_key(self.business_date, self.recorded_at.timestamp_millis(), self.device_id, self.device_seq)
    }
}

pub(crate) fn order_key(date: NaiveDate, recorded_ms: i64, device: Uuid, seq: u64) -> OrderKey {
    OrderKey(format!("{date}|{recorded_ms:015}|{}|{seq:012}", device.simple()))
}
