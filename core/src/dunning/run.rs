//! The daily decision for one customer: which step of the ladder is due, through which
//! channel, and from when it may be sent. Pure: the store gathers the facts and writes the result.

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ladder::{Channel, Ladder};
use crate::customer::CustomerKind;
use crate::money::Money;

/// Shop rules for reminders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DunningRules {
    /// Fewest days between two contacts with the same customer.
    pub min_gap_days: u32,
    /// SMS only between these hours (local time of the till), and never on Sunday.
    pub sms_from_hour: u32,
    pub sms_until_hour: u32,
    /// Days an instalment may be late before the plan counts as broken.
    pub plan_grace_days: u32,
    /// Add penalties and the indemnity to the account as entries when the formal notice goes.
    pub penalty_fees_business: bool,
    pub penalty_fees_consumer: bool,
    /// A contract penalty rate for business customers, in percent (floored at 3 x legal).
    pub contract_rate_pct: Option<rust_decimal::Decimal>,
}

impl Default for DunningRules {
    fn default() -> Self {
        DunningRules {
            min_gap_days: 7,
            sms_from_hour: 9,
            sms_until_hour: 20,
            plan_grace_days: 5,
            penalty_fees_business: true,
            penalty_fees_consumer: false,
            contract_rate_pct: None,
        }
    }
}

impl DunningRules {
    pub fn validate(&self) -> crate::Result<()> {
        if self.sms_from_hour >= self.sms_until_hour || self.sms_until_hour > 24 {
            return Err(crate::Error::Invalid {
                field: "dunning rules",
                reason: "SMS hours must be a range within the day".into(),
            });
        }
        if self.min_gap_days > 90 || self.plan_grace_days > 60 {
            return Err(crate::Error::Invalid {
                field: "dunning rules",
                reason: "gap at most 90 days, grace at most 60".into(),
            });
        }
        Ok(())
    }
}

/// How the customer may be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub consent_email: bool,
    pub consent_sms: bool,
    pub kind: CustomerKind,
}

/// An unpaid invoice the ladder may chase (disputed and stopped invoices are left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueInvoice {
    pub entry: Uuid,
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub remaining: Money,
    /// The highest step this invoice was already chased at.
    pub reached: Option<usize>,
}

/// Why nothing is queued today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    NothingDue,
    AlreadyAtLevel,
    TooSoon,
    Excluded,
    OnHold,
    Promise,
    Plan,
    /// The court file waits for a formal notice to be sent and its deadline to pass.
    NoticePending,
}

impl Skip {
    /// The name reports give it (the same as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::NothingDue => "nothing_due",
            Skip::AlreadyAtLevel => "already_at_level",
            Skip::TooSoon => "too_soon",
            Skip::Excluded => "excluded",
            Skip::OnHold => "on_hold",
            Skip::Promise => "promise",
            Skip::Plan => "plan",
            Skip::NoticePending => "notice_pending",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Skip(Skip),
    Queue { level: usize, channel: Channel, not_before: DateTime<FixedOffset> },
}

/// Decides for one customer. `pause` is the first reason the whole account is paused, if any.
pub fn decide(
    ladder: &Ladder,
    rules: &DunningRules,
    contact: &Contact,
    invoices: &[DueInvoice],
    last_contact: Option<NaiveDate>,
    pause: Option<Skip>,
    now: DateTime<FixedOffset>,
) -> Outcome {
    if let Some(p) = pause {
        return Outcome::Skip(p);
    }
    let today = now.date_naive();
    let target = invoices.iter().filter_map(|i| ladder.level_for((today - i.due_on).num_days())).max();
    let Some(target) = target else { return Outcome::Skip(Skip::NothingDue) };
    // Nothing overdue at all: a courtesy notice before the due date is the only exception, and
    // only when the ladder has a step before the due date.
    if invoices.iter().all(|i| i.due_on >= today) && ladder.steps[target].offset_days >= 0 {
        return Outcome::Skip(Skip::NothingDue);
    }
    let reached = invoices.iter().filter_map(|i| i.reached).max();
    if reached.is_some_and(|r| r >= target) {
        return Outcome::Skip(Skip::AlreadyAtLevel);
    }
    if last_contact.is_some_and(|d| (today - d).num_days() < i64::from(rules.min_gap_days)) {
        return Outcome::Skip(Skip::TooSoon);
    }
    // A formal notice or a court file is a letter or a document, whatever the contact: by phone
    // it would not be a formal notice at all.
    let step = &ladder.steps[target];
    let channel = match step.kind {
        super::ladder::StepKind::Reminder => channel_for(step.channel, contact),
        _ => step.channel,
    };
    Outcome::Queue { level: target, channel, not_before: not_before(channel, rules, now) }
}

/// The step's channel if the customer can and agreed to be reached by it; otherwise the next
/// best: no SMS consent or number, email; no email, a letter or a phone call.
pub fn channel_for(wanted: Channel, c: &Contact) -> Channel {
    let email = c.consent_email && c.email.is_some();
    let sms = c.consent_sms && c.phone.is_some();
    let letter_or_call = || {
        if c.address.is_some() {
            Channel::Letter
        } else if c.phone.is_some() {
            Channel::PhoneCall
        } else {
            Channel::Till
        }
    };
    match wanted {
        Channel::Sms if sms => Channel::Sms,
        Channel::Sms | Channel::Email if email => Channel::Email,
        Channel::Email if sms => Channel::Sms,
        Channel::Sms | Channel::Email => letter_or_call(),
        Channel::Letter => letter_or_call(),
        Channel::PhoneCall if c.phone.is_some() => Channel::PhoneCall,
        Channel::PhoneCall | Channel::Till => Channel::Till,
        Channel::Document => Channel::Document,
    }
}

/// SMS wait for the next allowed hour on a day that is not Sunday; other channels go now.
pub fn not_before(channel: Channel, rules: &DunningRules, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    if channel != Channel::Sms {
        return now;
    }
    let hour = now.time().hour_of_day();
    let allowed_today = now.weekday() != Weekday::Sun && hour >= rules.sms_from_hour && hour < rules.sms_until_hour;
    if allowed_today {
        return now;
    }
    let mut day = now.date_naive();
    if hour >= rules.sms_from_hour || now.weekday() == Weekday::Sun {
        day = day.checked_add_days(Days::new(1)).unwrap_or(day);
    }
    while day.weekday() == Weekday::Sun {
        day = day.checked_add_days(Days::new(1)).unwrap_or(day);
    }
    let at = day.and_time(NaiveTime::from_hms_opt(rules.sms_from_hour, 0, 0).unwrap_or_default());
    now.offset().from_local_datetime(&at).single().unwrap_or(now)
}

trait HourOfDay {
    fn hour_of_day(&self) -> u32;
}

impl HourOfDay for NaiveTime {
    fn hour_of_day(&self) -> u32 {
        chrono::Timelike::hour(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dunning::ladder::Ladder;

    fn now(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    #[test]
    fn skips_are_named_as_in_json() {
        use Skip::*;
        for skip in [NothingDue, AlreadyAtLevel, TooSoon, Excluded, OnHold, Promise, Plan] {
            assert_eq!(serde_json::to_value(skip).unwrap(), skip.as_str());
        }
    }

    fn contact() -> Contact {
        Contact {
            email: Some("a@b.fr".into()),
            phone: Some("0612345678".into()),
            address: None,
            consent_email: true,
            consent_sms: true,
            kind: CustomerKind::Consumer,
        }
    }

    fn inv(due: &str, reached: Option<usize>) -> DueInvoice {
        DueInvoice {
            entry: Uuid::new_v4(),
            reference: "F1".into(),
            issued_on: d("2026-01-01"),
            due_on: d(due),
            amount: Money::from_minor(100),
            remaining: Money::from_minor(100),
            reached,
        }
    }

    #[test]
    fn the_most_advanced_invoice_sets_the_level_once() {
        let l = Ladder::default_french();
        let r = DunningRules::default();
        let t = now("2026-03-20T10:00:00+01:00");
        // 4 days late: nothing yet; 19 days late: the second reminder, at once.
        assert_eq!(
            decide(&l, &r, &contact(), &[inv("2026-03-16", None)], None, None, t),
            Outcome::Skip(Skip::NothingDue)
        );
        let out = decide(&l, &r, &contact(), &[inv("2026-03-16", None), inv("2026-03-01", None)], None, None, t);
        assert_eq!(out, Outcome::Queue { level: 1, channel: Channel::Email, not_before: t });
        // Already chased at that level: nothing new.
        assert_eq!(
            decide(&l, &r, &contact(), &[inv("2026-03-01", Some(1))], None, None, t),
            Outcome::Skip(Skip::AlreadyAtLevel)
        );
        // A level up, but the last contact was 3 days ago.
        assert_eq!(
            decide(&l, &r, &contact(), &[inv("2026-02-20", Some(1))], Some(d("2026-03-17")), None, t),
            Outcome::Skip(Skip::TooSoon)
        );
        assert_eq!(
            decide(&l, &r, &contact(), &[inv("2026-02-20", Some(1))], None, Some(Skip::Promise), t),
            Outcome::Skip(Skip::Promise)
        );
        assert_eq!(decide(&l, &r, &contact(), &[], None, None, t), Outcome::Skip(Skip::NothingDue));
    }

    #[test]
    fn channels_fall_back_by_consent_and_contact() {
        let mut c = contact();
        assert_eq!(channel_for(Channel::Sms, &c), Channel::Sms);
        c.consent_sms = false;
        assert_eq!(channel_for(Channel::Sms, &c), Channel::Email);
        c.consent_email = false;
        assert_eq!(channel_for(Channel::Email, &c), Channel::PhoneCall);
        c.address = Some("1 rue de la Paix, Paris".into());
        assert_eq!(channel_for(Channel::Email, &c), Channel::Letter);
        c.phone = None;
        c.address = None;
        assert_eq!(channel_for(Channel::Letter, &c), Channel::Till);
        assert_eq!(channel_for(Channel::PhoneCall, &c), Channel::Till);
    }

    #[test]
    fn no_sms_at_night_or_on_sunday() {
        let r = DunningRules::default();
        let at = |s| not_before(Channel::Sms, &r, now(s)).to_rfc3339();
        assert_eq!(at("2026-03-18T10:00:00+01:00"), "2026-03-18T10:00:00+01:00");
        assert_eq!(at("2026-03-18T22:30:00+01:00"), "2026-03-19T09:00:00+01:00");
        assert_eq!(at("2026-03-18T06:10:00+01:00"), "2026-03-18T09:00:00+01:00");
        // Saturday evening and Sunday wait for Monday morning.
        assert_eq!(at("2026-03-21T21:00:00+01:00"), "2026-03-23T09:00:00+01:00");
        assert_eq!(at("2026-03-22T11:00:00+01:00"), "2026-03-23T09:00:00+01:00");
        assert_eq!(
            not_before(Channel::Email, &r, now("2026-03-22T23:00:00+01:00")).to_rfc3339(),
            "2026-03-22T23:00:00+01:00"
        );
    }
}
