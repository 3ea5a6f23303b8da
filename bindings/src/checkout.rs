//! The checkout verdict across the FFI: may this customer buy on account now, and why not; the
//! manager's override; the shop's thresholds. The verdict (with its sentences), the override
//! and the rules cross as the core has them.

use ardoise_core as core;
use chrono::{DateTime, FixedOffset};
use core::{CheckoutRules, Money, Override, Verdict};

use crate::{ArdoiseError, Result, Till, Timestamp};

#[uniffi::export]
impl Till {
    /// May this customer buy `cart_total` on account now, and why not.
    pub fn check(&self, customer: String, cart_total: Money, now: Timestamp) -> Result<Verdict> {
        self.with(|s| s.check(&customer, cart_total, now))
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
        self.with(|s| s.check(&customer, cart, now))
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
        self.with(|s| s.override_checkout(&customer, cart_total, &manager, &reason, now))
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
