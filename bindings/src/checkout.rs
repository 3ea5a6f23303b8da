//! The checkout verdict across the FFI: may this customer buy on account now, and why not; the
//! manager's override; the shop's thresholds. The reasons and the rules cross as the core has
//! them; the verdict adds its sentences (`messages`, `summary`) so that the till shows the
//! core's wording.

use ardoise_core as core;
use chrono::{DateTime, FixedOffset};
use core::{CheckoutRules, Decision, Money, Reason, Uuid};

use crate::{ArdoiseError, IsoDate, Result, Till, Timestamp};

/// The checkout answer: the decision, every reason (also as sentences), and the numbers.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Verdict {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    pub messages: Vec<String>,
    pub summary: String,
    pub customer_ref: String,
    pub customer_name: String,
    pub cart_total: Money,
    pub balance: Money,
    pub overdue: Money,
    pub oldest_overdue_days: Option<u32>,
    pub credit_limit: Option<Money>,
    pub available_credit: Option<Money>,
    pub deposits_available: Money,
    /// How likely (percent) the next invoice is paid late, from the shop's last risk scores.
    pub late_risk_pct: Option<u8>,
    pub late_risk_reasons: Vec<String>,
}

impl From<core::Verdict> for Verdict {
    fn from(v: core::Verdict) -> Self {
        Verdict {
            decision: v.decision,
            messages: v.reasons.iter().map(Reason::message).collect(),
            summary: v.summary(),
            reasons: v.reasons,
            customer_ref: v.customer_ref,
            customer_name: v.customer_name,
            cart_total: v.cart_total,
            balance: v.balance,
            overdue: v.overdue,
            oldest_overdue_days: v.oldest_overdue_days,
            credit_limit: v.credit_limit,
            available_credit: v.available_credit,
            deposits_available: v.deposits_available,
            late_risk_pct: v.late_risk_pct,
            late_risk_reasons: v.late_risk_reasons,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Override {
    pub id: Uuid,
    pub customer_ref: String,
    pub business_date: IsoDate,
    pub amount: Money,
    pub manager: String,
    pub reason: String,
    pub verdict: Verdict,
}

impl From<core::Override> for Override {
    fn from(o: core::Override) -> Self {
        let core::Override { id, customer_ref, business_date, amount, manager, reason, verdict } = o;
        Override { id, customer_ref, business_date, amount, manager, reason, verdict: verdict.into() }
    }
}

#[uniffi::export]
impl Till {
    /// May this customer buy `cart_total` on account now, and why not.
    pub fn check(&self, customer: String, cart_total: Money, now: Timestamp) -> Result<Verdict> {
        Ok(self.with(|s| s.check(&customer, cart_total, now))?.into())
    }

    /// The same verdict as `check`, with primitive arguments for the till's hot path: the cart
    /// in cents, `now` as Unix milliseconds and the till's UTC offset in minutes. Each string
    /// crossing JNA costs microseconds; integers cost almost nothing.
    pub fn check_minor(
        &self,
        customer: String,
        cart_total_minor: i64,
        now_unix_ms: i64,
        utc_offset_minutes: i32,
    ) -> Result<Verdict> {
        let invalid = ArdoiseError::invalid;
        let cart = Money::try_from_minor(cart_total_minor).map_err(|e| invalid(format!("cart total: {e}")))?;
        let offset = (utc_offset_minutes.checked_mul(60).and_then(FixedOffset::east_opt))
            .ok_or_else(|| invalid(format!("invalid UTC offset {utc_offset_minutes} minutes")))?;
        let utc = DateTime::from_timestamp_millis(now_unix_ms)
            .ok_or_else(|| invalid(format!("invalid time {now_unix_ms} ms")))?;
        let now = utc.with_timezone(&offset);
        Ok(self.with(|s| s.check(&customer, cart, now))?.into())
    }

    /// Records a manager's permission for a refused sale (today, this customer, up to this amount).
    pub fn override_checkout(
        &self,
        customer: String,
        cart_total: Money,
        manager: String,
        reason: String,
        now: Timestamp,
    ) -> Result<Override> {
        Ok(self.with(|s| s.override_checkout(&customer, cart_total, &manager, &reason, now))?.into())
    }

    pub fn checkout_rules(&self) -> Result<CheckoutRules> {
        self.with(|s| Ok(s.settings().checkout.clone()))
    }

    pub fn set_checkout_rules(&self, rules: CheckoutRules, now: Timestamp) -> Result<()> {
        self.with(|s| {
            let mut settings = (*s.settings()).clone();
            settings.checkout = rules;
            s.set_settings(settings, now)
        })
    }
}
