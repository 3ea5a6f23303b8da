//! The demo's reminders: the ladder run every morning of the history (so today's run meets
//! customers at every step), and the day's run told, with one reminder and one formal notice.

use ardoise_core::dunning::ladder::{Channel, StepKind};
use ardoise_core::dunning::penalty::{self, PenaltyRequest};
use ardoise_core::store::{CallOutcome, ReminderRecord, ReminderState};
use ardoise_core::{CustomerKind, EntryRequest, Error, Money, PaymentMethod};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{Habit, MANAGER, Shop, Teller, at, money};
use crate::dunning;
use crate::output::{Failure, RecordedJson};

/// A punctual customer who forgets one invoice: due five days before today, so today's run
/// queues her first reminder, and she pays it at the till before it is sent.
pub const FORGETFUL: &str = "Cécile Mercier";

impl Shop {
    /// The sales the story needs whatever the seed: the restaurant's catering order, 47 days
    /// before today and payable on receipt, and the invoice the punctual customer forgets
    /// (terms 30, so due five days before today).
    pub(super) fn scripted_sales(&mut self, day: NaiveDate, today: NaiveDate) -> Result<u32, Failure> {
        let ago = (today - day).num_days();
        let (i, amount, time) = match ago {
            47 => (self.habits.iter().position(|h| *h == Habit::Defaulted), "486.50", at(day, 15, 0)),
            35 => (self.index_of(FORGETFUL), "18.60", at(day, 15, 5)),
            _ => return Ok(0),
        };
        let Some(i) = i else { return Ok(0) };
        match self.sell(i, money(amount), day, time, None, None) {
            Ok(_) => Ok(1),
            // A seed may have left the customer at their limit: the story then goes without it.
            Err(Error::Refused(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// One morning of the back office: the ladder's run, every reminder it queues sent, and the
    /// phone calls it asks for made. The restaurant promises to pay by yesterday, and does not.
    pub(super) fn reminder_round(&mut self, day: NaiveDate, today: NaiveDate) -> Result<(), Failure> {
        let report = self.store.run_dunning(at(day, 8, 30))?;
        for q in report.queued {
            self.store.set_reminder_state(q.id, ReminderState::Sent, None, at(day, 8, 31))?;
            if q.channel != Channel::PhoneCall {
                continue;
            }
            let i = self.refs.iter().position(|r| *r == q.customer_ref).unwrap_or_default();
            let yesterday = today.pred_opt().unwrap_or(today);
            // Outcomes by customer rather than drawn, so the sales drawn after stay the same.
            let (outcome, note) = match self.habits[i] {
                Habit::Defaulted if yesterday >= day => (
                    CallOutcome::Promise { on: yesterday, amount: q.amount_due },
                    "the owner says the season's takings will cover it",
                ),
                _ if i % 2 == 0 => (CallOutcome::Reached, "says they will come by to settle"),
                _ => (CallOutcome::NoAnswer, "left a message"),
            };
            self.store.record_call(&q.customer_ref, outcome, note, MANAGER, at(day, 10, 0))?;
        }
        Ok(())
    }

    /// The restaurant's catering order (486.50 EUR, payable on receipt 47 days ago) priced as
    /// the law prices it for each kind of debtor: a business from the day after it fell due,
    /// the town hall as a public buyer at one rate, a consumer only from a formal notice sent a
    /// week ago, with neither indemnity nor fee.
    fn penalties_by_kind(&self, today: NaiveDate, t: &Teller) -> Result<Value, Failure> {
        let rates = self.store.rate_tables()?;
        let due_on = today - chrono::Days::new(47);
        let notice_on = today - chrono::Days::new(7);
        let mut lines = Vec::new();
        let mut figures = serde_json::Map::new();
        for (kind, who) in [
            (CustomerKind::Business, "a business (Code de commerce L441-10, D441-5)"),
            (
                CustomerKind::Public,
                "a public buyer such as the town hall (Code de la commande publique R2192-31, D2192-35)",
            ),
            (CustomerKind::Consumer, "a consumer, from the formal notice sent a week ago (Code civil 1231-6)"),
        ] {
            let req = PenaltyRequest {
                amount: money("486.50"),
                due_on,
                until: today,
                debtor: kind,
                notice_on: (kind == CustomerKind::Consumer).then_some(notice_on),
                payments: Vec::new(),
                contract_rate_pct: None,
                insolvent: false,
            };
            match penalty::compute(&req, &rates) {
                Ok(p) => {
                    let rates: Vec<String> = p.periods.iter().map(|x| format!("{} %", x.rate_pct)).collect();
                    lines.push(format!(
                        "  - {who}: {} EUR interest (at {}) + {} EUR indemnity = {} EUR",
                        p.interest,
                        rates.join(" then "),
                        p.indemnity,
                        p.total
                    ));
                    figures.insert(kind.as_str().to_owned(), json!(p));
                }
                // Rates not yet published for this half-year: said, not guessed.
                Err(e @ Error::StaleRates { .. }) => lines.push(format!("  - {who}: {e}")),
                Err(e) => return Err(e.into()),
            }
        }
        t.say(format!(
            "\nThe same 486.50 EUR catering order, due on {due_on} and unpaid today, by kind of debtor:\n{}",
            lines.join("\n")
        ));
        Ok(Value::Object(figures))
    }

    pub(super) fn index_of(&self, name: &str) -> Option<usize> {
        super::CUSTOMERS.iter().position(|(n, ..)| *n == name)
    }

    /// Part 6 of the day: the run at closing time, who is reminded and how, one reminder and one
    /// formal notice in full, then a payment at the till that cancels a reminder before it is sent.
    pub(super) fn day_reminders(&mut self, today: NaiveDate, t: &Teller) -> Result<Value, Failure> {
        let report = self.store.run_dunning(at(today, 18, 30))?;
        t.say(format!(
            "\n6. The day's reminders\nAt closing time the reminder run queues what the back office sends tonight \
             (the ladder: a courteous email 5 days after the due date, a firmer one at 15, a phone call at 25, \
             the formal notice by registered letter at 40).\n{}",
            dunning::report_text(&report)
        ));
        let forgetful = self.index_of(FORGETFUL).map(|i| self.refs[i].clone());
        let ordinary: Option<ReminderRecord> = report
            .queued
            .iter()
            .filter(|q| q.kind == StepKind::Reminder && q.channel == Channel::Email)
            .min_by_key(|q| Some(&q.customer_ref) != forgetful.as_ref())
            .cloned();
        // Today's formal notice to a business if there is one, else the latest one sent.
        let notice = match report.queued.iter().find(|q| q.kind == StepKind::FormalNotice && q.indemnity.is_positive())
        {
            Some(n) => Some(n.clone()),
            None => self.store.reminders(None, None, 1000)?.into_iter().find(|r| r.kind == StepKind::FormalNotice),
        };
        if let Some(r) = &ordinary {
            t.say(format!(
                "\nThe courteous reminder to {} ({}), as it will be sent:\n{}",
                r.customer_name,
                r.customer_ref,
                letter(r)
            ));
        }
        if let Some(n) = &notice {
            let when = if n.created_on == today { "queued tonight" } else { "sent on" };
            t.say(format!(
                "\nThe formal notice (mise en demeure) to {} ({}), {when} {}: {} EUR principal, {} EUR late-payment \
                 interest and the {} EUR recovery indemnity, both also charged to the account. The text of the PDF \
                 the back office posts:\n{}",
                n.customer_name,
                n.customer_ref,
                n.created_on,
                n.amount_due,
                n.penalties,
                n.indemnity,
                notice_text(&self.store, n)?
            ));
        }
        let by_kind = self.penalties_by_kind(today, t)?;
        let mut story =
            json!({ "run": report, "reminder": ordinary, "formal_notice": notice, "penalties_by_debtor": by_kind });
        if let Some(r) = &ordinary {
            let Some(i) = self.refs.iter().position(|x| *x == r.customer_ref) else { return Ok(story) };
            let now = at(today, 18, 45);
            let req = EntryRequest::Payment { amount: r.amount_due, method: PaymentMethod::Card, invoice: None };
            let paid = self.record(i, req, today, now)?;
            let after = self.store.reminders(None, Some(&r.customer_ref), 1)?.into_iter().find(|x| x.id == r.id);
            let state = after.as_ref().map_or("gone".into(), |a| {
                format!("{} ({})", a.state.as_str(), a.state_note.clone().unwrap_or_default())
            });
            t.say(format!(
                "\n18:45 — {} comes in and pays {} EUR by card. The reminder queued at 18:30 changes in the same \
                 transaction as the payment, before anyone sends it: {state}.",
                self.name(i),
                r.amount_due
            ));
            story["payment"] = json!(RecordedJson::new(&paid));
            story["cancelled"] = json!(after);
        }
        Ok(story)
    }
}

/// The formal notice as posted: its PDF, read back.
fn notice_text(store: &ardoise_core::Store, n: &ReminderRecord) -> Result<String, Failure> {
    let doc = store.reminder_document(n.id, n.created_on)?;
    let pdf = ardoise_server::send::formal_notice_pdf(&doc)
        .map_err(|e| Failure::new("pdf", format!("cannot build the PDF: {e}")))?;
    let text = ardoise_server::send::pdf_text(&pdf).map_err(|e| Failure::new("pdf", e))?;
    let rule = "─".repeat(72);
    Ok(format!("{rule}\n{}\n{rule}", text.trim_end()))
}

/// A reminder framed as the customer will read it.
fn letter(r: &ReminderRecord) -> String {
    let how = match r.channel {
        Channel::Email => "Email",
        Channel::Sms => "SMS",
        Channel::Letter => "Registered letter",
        Channel::PhoneCall => "Call sheet",
        Channel::Till => "At the till",
        Channel::Document => "Court file",
    };
    let to = r.recipient.as_deref().map(|x| format!(" to {x}")).unwrap_or_default();
    let rule = "─".repeat(72);
    let total: Money = r.amount_due + r.penalties + r.indemnity;
    format!("{rule}\n{how}{to} — {total} EUR\nSubject: {}\n\n{}\n{rule}", r.subject, r.body)
}
