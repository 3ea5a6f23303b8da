//! The dunning ladder: ordered steps from the due date, each with a channel, a template, a
//! tone and an optional fee. Shop data: editable, and synced like any other shop setting.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;

/// How a reminder reaches the customer (or the shop, for a call or a file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Channel {
    Email,
    Sms,
    /// A letter on paper (registered for a formal notice), rendered as PDF by the back office.
    Letter,
    /// A task for a person at the shop: call the customer.
    PhoneCall,
    /// A word from the cashier the next time the customer is at the till.
    Till,
    /// A document prepared for the owner (the "injonction de payer" file), not sent.
    Document,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Letter => "letter",
            Channel::PhoneCall => "phone_call",
            Channel::Till => "till",
            Channel::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Result<Channel> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| Error::Invalid {
            field: "channel",
            reason: format!("{s:?}: use email, sms, letter, phone_call, till or document"),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Tone {
    Courteous,
    Firm,
    Formal,
    Legal,
}

/// What a step is, beyond a reminder: the law gives the formal notice and the court file
/// their own content (penalties, the record of reminders).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum StepKind {
    Reminder,
    /// "Mise en demeure": states the penalties and, for businesses, the 40 EUR indemnity.
    FormalNotice,
    /// "Injonction de payer": every open invoice, the reminders sent, amounts and penalties.
    CourtFile,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "LadderStep"))]
pub struct Step {
    pub name: String,
    /// Days after the due date of the customer's most overdue invoice; negative: before it.
    pub offset_days: i32,
    pub channel: Channel,
    /// Template name; the customer's language picks the variant.
    pub template: String,
    pub tone: Tone,
    pub kind: StepKind,
    /// A fixed fee charged to the account when the step is queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub fee: Option<Money>,
}

/// The dunning ladder: ordered steps from the due date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Ladder {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Ladder {
    /// The default French ladder: a courteous email, a firmer one, a phone call, the formal
    /// notice by registered letter, then the file for an "injonction de payer".
    pub fn default_french() -> Ladder {
        let step = |name: &str, offset_days, channel, template: &str, tone, kind| Step {
            name: name.into(),
            offset_days,
            channel,
            template: template.into(),
            tone,
            kind,
            fee: None,
        };
        Ladder {
            name: "default".into(),
            steps: vec![
                step("Rappel courtois", 5, Channel::Email, "courteous", Tone::Courteous, StepKind::Reminder),
                step("Second rappel", 15, Channel::Email, "second", Tone::Firm, StepKind::Reminder),
                step("Appel téléphonique", 25, Channel::PhoneCall, "call", Tone::Firm, StepKind::Reminder),
                step("Mise en demeure", 40, Channel::Letter, "formal_notice", Tone::Formal, StepKind::FormalNotice),
                step("Injonction de payer", 60, Channel::Document, "court_file", Tone::Legal, StepKind::CourtFile),
            ],
        }
    }

    /// Steps must move forward in time, and a court file must follow a formal notice.
    pub fn validate(&self, template_exists: impl Fn(&str) -> bool) -> Result<()> {
        let invalid = |reason: String| Err(Error::Invalid { field: "ladder", reason });
        if self.name.trim().is_empty() {
            return invalid("a ladder needs a name".into());
        }
        if self.steps.is_empty() || self.steps.len() > 12 {
            return invalid("a ladder has 1 to 12 steps".into());
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.name.trim().is_empty() {
                return invalid(format!("step {} has no name", i + 1));
            }
            if !(-60..=720).contains(&s.offset_days) {
                return invalid(format!("step {:?}: offset {} is outside -60..720 days", s.name, s.offset_days));
            }
            if i > 0 && s.offset_days <= self.steps[i - 1].offset_days {
                return invalid(format!("step {:?} does not come after {:?}", s.name, self.steps[i - 1].name));
            }
            if !template_exists(&s.template) {
                return invalid(format!("step {:?} uses unknown template {:?}", s.name, s.template));
            }
            if s.fee.is_some_and(|f| !f.is_positive()) {
                return invalid(format!("step {:?}: a fee must be positive", s.name));
            }
            if s.kind == StepKind::CourtFile && !self.steps[..i].iter().any(|p| p.kind == StepKind::FormalNotice) {
                return invalid(format!("step {:?}: a court file needs a formal notice before it", s.name));
            }
        }
        Ok(())
    }

    /// The most advanced step due for an invoice `days_late` past its due date.
    pub fn level_for(&self, days_late: i64) -> Option<usize> {
        self.steps.iter().rposition(|s| i64::from(s.offset_days) <= days_late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ladder_is_valid_and_levels_follow_the_offsets() {
        let l = Ladder::default_french();
        l.validate(|_| true).unwrap();
        assert_eq!(l.level_for(4), None);
        assert_eq!(l.level_for(5), Some(0));
        assert_eq!(l.level_for(39), Some(2));
        assert_eq!(l.level_for(40), Some(3));
        assert_eq!(l.level_for(400), Some(4));
    }

    #[test]
    fn bad_ladders_are_refused() {
        let mut l = Ladder::default_french();
        l.steps.swap(0, 1);
        assert!(l.validate(|_| true).is_err());
        let mut l = Ladder::default_french();
        l.steps.remove(3);
        assert!(l.validate(|_| true).is_err(), "court file without a formal notice");
        assert!(Ladder::default_french().validate(|t| t != "call").is_err());
        assert_eq!(Channel::parse("sms").unwrap(), Channel::Sms);
        assert!(Channel::parse("pigeon").is_err());
    }
}
