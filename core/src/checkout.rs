//! The checkout verdict: may this customer buy on account now, and why not.
//!
//! A pure function of the account snapshot, the shop's thresholds and today's date, so the till
//! answers offline in microseconds and every rule is testable with an injected date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The shop's thresholds. Stored as a shop setting; the defaults suit a small French shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CheckoutRules {
    /// Warn once the oldest unpaid invoice is this many days past due.
    pub warn_overdue_days: u32,
    /// Refuse on account from this many days past due.
    pub refuse_overdue_days: u32,
    /// Warn when the sale would use more than this share of the credit limit (percent).
    pub warn_limit_pct: u32,
    /// The limit for customers without one of their own; `None` means no limit.
    pub default_credit_limit: Option<Money>,
    /// A till enrolled with a back office that has not synced for this many hours is offline:
    /// it may sell on account only [`Self::offline_allowance`] per customer until it syncs.
    pub offline_after_hours: u32,
    /// What an offline till may sell on account to one customer, so that two offline tills
    /// cannot both spend the same headroom.
    pub offline_allowance: Money,
}

impl Default for CheckoutRules {
    fn default() -> Self {
        CheckoutRules {
            warn_overdue_days: 1,
            refuse_overdue_days: 30,
            warn_limit_pct: 80,
            default_credit_limit: None,
            offline_after_hours: 24,
            offline_allowance: Money::from_minor(5_000),
        }
    }
}

impl CheckoutRules {
    /// Thresholds that contradict each other are refused when saved, not discovered at the till.
    pub fn validate(&self) -> crate::Result<()> {
        let invalid = |reason: String| Err(crate::Error::Invalid { field: "checkout rules", reason });
        if self.refuse_overdue_days < self.warn_overdue_days {
            return invalid(format!(
                "refusing from {} days overdue but warning only from {}",
                self.refuse_overdue_days, self.warn_overdue_days
            ));
        }
        if !(1..=100).contains(&self.warn_limit_pct) {
            return invalid(format!("warn at {}% of the limit: use 1 to 100", self.warn_limit_pct));
        }
        if self.default_credit_limit.is_some_and(Money::is_negative) {
            return invalid("the default credit limit is negative".into());
        }
        if self.offline_allowance.is_negative() {
            return invalid("the offline allowance is negative".into());
        }
        if self.offline_after_hours == 0 {
            return invalid("offline after 0 hours: use at least 1".into());
        }
        Ok(())
    }
}

/// Everything the checkout rules read about one customer, gathered by the store in one place:
/// the account row, the open disputes, the till's sync state, a manager's override of today and
/// the last risk score. [`check`] decides from it alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSnapshot {
    pub customer_ref: String,
    pub customer_name: String,
    pub credit_limit: Option<Money>,
    pub blocked: Option<String>,
    pub balance: Money,
    pub deposits: Money,
    /// Unpaid amount of invoices due before today.
    pub overdue: Money,
    pub overdue_invoices: u32,
    pub oldest_overdue_due: Option<NaiveDate>,
    /// Unpaid amount of invoices under an open dispute (not counted as overdue).
    pub disputed: Money,
    pub disputed_invoices: u32,
    /// `Some` when this till is enrolled and has not reached the back office for longer than
    /// the shop allows: sales on account are capped per customer until it syncs.
    pub offline: Option<OfflineState>,
    /// A manager's override recorded today for this customer, not used yet, covering the cart.
    pub grant: Option<OverrideGrant>,
    /// How likely (percent) the next invoice is paid late, with its reasons in words, from the
    /// shop's last risk scores.
    pub late_risk: Option<(u8, Vec<String>)>,
}

/// A manager's permission, recorded beforehand, for one refused sale on account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideGrant {
    pub id: uuid::Uuid,
    pub manager: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Decision {
    Allow,
    Warn,
    Refuse,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Refuse => "refuse",
        }
    }
}

/// One reason behind a verdict, with its numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Reason {
    Blocked {
        reason: String,
    },
    Overdue {
        amount: Money,
        days: u32,
        oldest_due: NaiveDate,
        invoices: u32,
        decision: Decision,
    },
    OverLimit {
        limit: Money,
        balance_after: Money,
        over_by: Money,
    },
    NearLimit {
        limit: Money,
        balance_after: Money,
        available_after: Money,
    },
    /// Invoices the customer disputes: not held against them, but worth a word.
    Disputed {
        invoices: u32,
        amount: Money,
    },
    ManagerOverride {
        manager: String,
        reason: String,
    },
    /// The till has not reached the back office for a while: sales on account are capped per
    /// customer until it syncs. `hours_offline` is `None` when it never synced since enrolling.
    Offline {
        hours_offline: Option<u32>,
        allowance: Money,
        used: Money,
        left_after: Money,
        decision: Decision,
    },
}

impl Reason {
    pub fn decision(&self) -> Decision {
        match self {
            Reason::Blocked { .. } | Reason::OverLimit { .. } => Decision::Refuse,
            Reason::Overdue { decision, .. } | Reason::Offline { decision, .. } => *decision,
            Reason::NearLimit { .. } | Reason::Disputed { .. } | Reason::ManagerOverride { .. } => Decision::Warn,
        }
    }

    /// What the cashier reads.
    pub fn message(&self) -> String {
        match self {
            Reason::Blocked { reason } => format!("account blocked: {reason}"),
            Reason::Overdue { amount, days, oldest_due, invoices, .. } => {
                let inv = if *invoices == 1 { "1 invoice".to_owned() } else { format!("{invoices} invoices") };
                let d = if *days == 1 { "day" } else { "days" };
                format!("{amount} EUR overdue ({inv}), oldest due {oldest_due}, {days} {d} late")
            }
            Reason::OverLimit { limit, balance_after, over_by } => {
                format!(
                    "over the credit limit by {over_by} EUR (limit {limit}, balance after this sale {balance_after})"
                )
            }
            Reason::NearLimit { limit, available_after, .. } => {
                format!("close to the credit limit: {available_after} EUR left of {limit} after this sale")
            }
            Reason::Disputed { invoices, amount } => {
                let inv = if *invoices == 1 { "1 invoice".to_owned() } else { format!("{invoices} invoices") };
                format!("{amount} EUR under dispute ({inv}), not counted as overdue")
            }
            Reason::ManagerOverride { manager, reason } => format!("allowed by {manager}: {reason}"),
            Reason::Offline { hours_offline, allowance, used, left_after, decision } => {
                let since = match hours_offline {
                    Some(h) => format!("not synced for {h} h"),
                    None => "never synced".to_owned(),
                };
                if *decision == Decision::Refuse {
                    format!(
                        "till offline ({since}): {used} EUR of the {allowance} EUR offline allowance already used for this customer"
                    )
                } else {
                    format!(
                        "till offline ({since}): {left_after} EUR of the {allowance} EUR offline allowance left after this sale"
                    )
                }
            }
        }
    }
}

/// The answer shown at the till.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Verdict {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    /// Every reason as a sentence, and the line for the cashier (`Verdict::summary`), written
    /// by [`check`] so that a till shows the core's wording.
    #[serde(default)]
    pub messages: Vec<String>,
    #[serde(default)]
    pub summary: String,
    pub customer_ref: String,
    pub customer_name: String,
    pub cart_total: Money,
    pub balance: Money,
    pub overdue: Money,
    pub oldest_overdue_days: Option<u32>,
    pub credit_limit: Option<Money>,
    /// Credit left before this sale (`None`: no limit).
    pub available_credit: Option<Money>,
    /// Deposits the customer can pay with, whatever the decision.
    pub deposits_available: Money,
    /// How likely (in percent) the customer's next invoice is paid late, from the scores the
    /// shop last computed (`Store::refresh_risk`); informs, never decides.
    #[serde(default)]
    pub late_risk_pct: Option<u8>,
    #[serde(default)]
    pub late_risk_reasons: Vec<String>,
}

impl Verdict {
    /// One line for the cashier: the decision and every reason.
    pub fn summary(&self) -> String {
        let head = match self.decision {
            Decision::Allow => "on account: OK".to_owned(),
            Decision::Warn => "on account: OK, but check with the customer".to_owned(),
            Decision::Refuse => "on account: REFUSED (cash, card or deposit still fine)".to_owned(),
        };
        if self.reasons.is_empty() {
            return head;
        }
        let reasons: Vec<String> = self.reasons.iter().map(Reason::message).collect();
        format!("{head}: {}", reasons.join("; "))
    }
}

/// The verdict for selling `cart_total` on account to the customer today: every rule of the
/// till (block, overdue, disputes, limit, the offline cap, a manager's override, the risk note).
/// The till shows it and a sale is recorded under it, so they can never disagree.
pub fn check(snapshot: &AccountSnapshot, rules: &CheckoutRules, cart_total: Money, today: NaiveDate) -> Verdict {
    let mut verdict = judge(snapshot, rules, cart_total, today);
    if let Some(state) = snapshot.offline {
        guard_offline(&mut verdict, rules, state);
    }
    // A refusal the manager allowed beforehand: only for something on account.
    if let (Decision::Refuse, Some(grant), true) = (verdict.decision, &snapshot.grant, cart_total.is_positive()) {
        verdict.reasons.push(Reason::ManagerOverride { manager: grant.manager.clone(), reason: grant.reason.clone() });
        verdict.decision = Decision::Warn;
    }
    if let Some((pct, reasons)) = &snapshot.late_risk {
        verdict.late_risk_pct = Some(*pct);
        verdict.late_risk_reasons = reasons.clone();
    }
    verdict.messages = verdict.reasons.iter().map(Reason::message).collect();
    verdict.summary = verdict.summary();
    verdict
}

/// The account's own rules: block, overdue, disputes, limit.
fn judge(snapshot: &AccountSnapshot, rules: &CheckoutRules, cart_total: Money, today: NaiveDate) -> Verdict {
    let mut reasons = Vec::new();
    if let Some(reason) = &snapshot.blocked {
        reasons.push(Reason::Blocked { reason: reason.clone() });
    }
    let oldest_overdue_days = snapshot.oldest_overdue_due.map(|due| days_between(due, today));
    if let (Some(days), Some(oldest_due)) = (oldest_overdue_days, snapshot.oldest_overdue_due) {
        let decision = if days >= rules.refuse_overdue_days {
            Some(Decision::Refuse)
        } else if days >= rules.warn_overdue_days {
            Some(Decision::Warn)
        } else {
            None
        };
        if let Some(decision) = decision.filter(|_| snapshot.overdue.is_positive()) {
            reasons.push(Reason::Overdue {
                amount: snapshot.overdue,
                days,
                oldest_due,
                invoices: snapshot.overdue_invoices,
                decision,
            });
        }
    }
    if snapshot.disputed_invoices > 0 {
        reasons.push(Reason::Disputed { invoices: snapshot.disputed_invoices, amount: snapshot.disputed });
    }
    let limit = snapshot.credit_limit.or(rules.default_credit_limit);
    let balance_after = snapshot.balance + cart_total;
    if let Some(limit) = limit {
        if balance_after > limit {
            reasons.push(Reason::OverLimit { limit, balance_after, over_by: balance_after - limit });
        } else if limit.is_positive() && balance_after.minor() * 100 > limit.minor() * i64::from(rules.warn_limit_pct) {
            reasons.push(Reason::NearLimit { limit, balance_after, available_after: limit - balance_after });
        }
    }
    Verdict {
        decision: reasons.iter().map(Reason::decision).max().unwrap_or(Decision::Allow),
        reasons,
        messages: Vec::new(),
        summary: String::new(),
        customer_ref: snapshot.customer_ref.clone(),
        customer_name: snapshot.customer_name.clone(),
        cart_total,
        balance: snapshot.balance,
        overdue: snapshot.overdue,
        oldest_overdue_days,
        credit_limit: limit,
        available_credit: limit.map(|l| (l - snapshot.balance).clamp_zero()),
        deposits_available: snapshot.deposits.clamp_zero(),
        late_risk_pct: None,
        late_risk_reasons: Vec::new(),
    }
}

/// How long the till has been out of touch, and what it sold on account to this customer that
/// the back office has not seen yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfflineState {
    pub hours_offline: Option<u32>,
    pub unsynced_sales: Money,
}

/// Caps sales on account at an offline till: within the allowance the cashier is warned, over
/// it the sale is refused (cash, card or deposit still fine).
fn guard_offline(verdict: &mut Verdict, rules: &CheckoutRules, state: OfflineState) {
    let after = state.unsynced_sales + verdict.cart_total;
    let decision = if after > rules.offline_allowance { Decision::Refuse } else { Decision::Warn };
    verdict.reasons.push(Reason::Offline {
        hours_offline: state.hours_offline,
        allowance: rules.offline_allowance,
        used: state.unsynced_sales,
        left_after: (rules.offline_allowance - after).clamp_zero(),
        decision,
    });
    verdict.decision = verdict.decision.max(decision);
}

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::error::parse_date(s).unwrap()
    }

    fn snap() -> AccountSnapshot {
        AccountSnapshot {
            customer_ref: "C1".into(),
            customer_name: "Hélène Dupré".into(),
            credit_limit: Some(Money::from_minor(20_000)),
            blocked: None,
            balance: Money::from_minor(5_000),
            deposits: Money::from_minor(1_000),
            overdue: Money::ZERO,
            overdue_invoices: 0,
            oldest_overdue_due: None,
            disputed: Money::ZERO,
            disputed_invoices: 0,
            ..AccountSnapshot::default()
        }
    }

    const TODAY: &str = "2026-11-23";

    fn verdict(s: &AccountSnapshot, cart: i64) -> Verdict {
        check(s, &CheckoutRules::default(), Money::from_minor(cart), d(TODAY))
    }

    #[test]
    fn a_good_customer_within_limit_is_allowed_with_the_numbers() {
        let v = verdict(&snap(), 2_000);
        assert_eq!(v.decision, Decision::Allow);
        assert!(v.reasons.is_empty());
        assert_eq!(v.available_credit, Some(Money::from_minor(15_000)));
        assert_eq!(v.deposits_available, Money::from_minor(1_000));
    }

    #[test]
    fn overdue_warns_from_one_day_and_refuses_from_thirty() {
        let mut s = snap();
        s.overdue = Money::from_minor(6_000);
        s.overdue_invoices = 2;
        s.oldest_overdue_due = Some(d("2026-11-22"));
        let v = verdict(&s, 100);
        assert_eq!(v.decision, Decision::Warn);
        assert_eq!(v.oldest_overdue_days, Some(1));
        assert!(
            v.summary().contains("60.00 EUR overdue (2 invoices), oldest due 2026-11-22, 1 day late"),
            "{}",
            v.summary()
        );
        s.oldest_overdue_due = Some(d("2026-10-24"));
        let v = verdict(&s, 100);
        assert_eq!(v.decision, Decision::Refuse);
        assert_eq!(v.oldest_overdue_days, Some(30));
        s.oldest_overdue_due = Some(d("2026-10-25"));
        assert_eq!(verdict(&s, 100).decision, Decision::Warn);
    }

    #[test]
    fn the_limit_refuses_over_and_warns_near() {
        let s = snap();
        let v = verdict(&s, 15_001);
        assert_eq!(v.decision, Decision::Refuse);
        assert_eq!(
            v.reasons,
            vec![Reason::OverLimit {
                limit: Money::from_minor(20_000),
                balance_after: Money::from_minor(20_001),
                over_by: Money::from_minor(1)
            }]
        );
        assert_eq!(verdict(&s, 15_000).decision, Decision::Warn);
        assert_eq!(verdict(&s, 11_000).decision, Decision::Allow);
        // A zero limit means deposits and cash only.
        let zero = AccountSnapshot { credit_limit: Some(Money::ZERO), balance: Money::ZERO, ..snap() };
        assert_eq!(verdict(&zero, 1).decision, Decision::Refuse);
        // No limit at all: only overdue and blocks matter.
        let none = AccountSnapshot { credit_limit: None, ..snap() };
        assert_eq!(verdict(&none, 1_000_000).decision, Decision::Allow);
    }

    #[test]
    fn every_reason_is_listed_and_the_worst_decides() {
        let mut s = snap();
        s.blocked = Some("cheque bounced".into());
        s.overdue = Money::from_minor(100);
        s.overdue_invoices = 1;
        s.oldest_overdue_due = Some(d("2026-11-13"));
        let v = verdict(&s, 50_000);
        assert_eq!(v.decision, Decision::Refuse);
        assert_eq!(v.reasons.len(), 3);
        assert!(v.summary().contains("account blocked: cheque bounced"));
        assert!(v.summary().contains("cash, card or deposit still fine"));
    }

    #[test]
    fn contradictory_rules_are_refused() {
        assert!(CheckoutRules::default().validate().is_ok());
        let bad = [
            CheckoutRules { warn_overdue_days: 10, refuse_overdue_days: 5, ..Default::default() },
            CheckoutRules { warn_limit_pct: 0, ..Default::default() },
            CheckoutRules { warn_limit_pct: 150, ..Default::default() },
            CheckoutRules { default_credit_limit: Some(Money::from_minor(-1)), ..Default::default() },
        ];
        for r in bad {
            assert!(r.validate().is_err(), "{r:?}");
        }
    }

    #[test]
    fn a_dispute_warns_without_refusing() {
        let s = AccountSnapshot { disputed: Money::from_minor(4_000), disputed_invoices: 1, ..snap() };
        let v = verdict(&s, 100);
        assert_eq!(v.decision, Decision::Warn);
        assert_eq!(v.reasons[0].message(), "40.00 EUR under dispute (1 invoice), not counted as overdue");
    }

    #[test]
    fn credit_on_account_adds_to_what_is_available() {
        let s = AccountSnapshot { balance: Money::from_minor(-3_000), ..snap() };
        let v = verdict(&s, 22_000);
        assert_eq!(v.available_credit, Some(Money::from_minor(23_000)));
        assert_eq!(v.decision, Decision::Warn);
    }

    #[test]
    fn an_offline_till_sells_on_account_only_within_its_allowance() {
        let rules = CheckoutRules::default();
        let today = d("2026-03-10");
        let v = check(&snap(), &rules, Money::from_minor(2_000), today);
        assert_eq!(v.decision, Decision::Allow);
        let state = OfflineState { hours_offline: Some(30), unsynced_sales: Money::from_minor(2_500) };
        let offline = AccountSnapshot { offline: Some(state), ..snap() };
        let v = check(&offline, &rules, Money::from_minor(2_000), today);
        assert_eq!(v.decision, Decision::Warn);
        assert!(matches!(v.reasons.last(), Some(Reason::Offline { left_after, .. }) if left_after.minor() == 500));
        let v = check(&offline, &rules, Money::from_minor(2_600), today);
        assert_eq!(v.decision, Decision::Refuse);
        assert!(v.summary().contains("25.00 EUR of the 50.00 EUR offline allowance"), "{}", v.summary());
    }

    #[test]
    fn a_managers_override_lets_a_refused_sale_through_with_a_warning() {
        let grant = OverrideGrant { id: uuid::Uuid::nil(), manager: "Marc".into(), reason: "pays Friday".into() };
        let blocked = AccountSnapshot { blocked: Some("cheque bounced".into()), grant: Some(grant), ..snap() };
        let v = verdict(&blocked, 1_000);
        assert_eq!(v.decision, Decision::Warn);
        assert_eq!(v.reasons.last().unwrap().message(), "allowed by Marc: pays Friday");
        // Nothing on account, nothing to allow; an allowed sale does not use it.
        assert_eq!(verdict(&blocked, 0).decision, Decision::Refuse);
        let fine = AccountSnapshot { grant: blocked.grant.clone(), ..snap() };
        assert_eq!(verdict(&fine, 1_000).reasons, vec![]);
    }

    #[test]
    fn the_risk_score_informs_without_deciding() {
        let s = AccountSnapshot { late_risk: Some((72, vec!["often late".into()])), ..snap() };
        let v = verdict(&s, 1_000);
        assert_eq!((v.decision, v.late_risk_pct), (Decision::Allow, Some(72)));
        assert_eq!(v.late_risk_reasons, vec!["often late".to_owned()]);
    }
}
