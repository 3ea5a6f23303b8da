//! What every receiver checks in an event another device recorded before taking it in: the
//! server before the event joins the shop's log, and each till before applying it. One set of
//! rules, the ones a till's own writes pass, so that no device can put into the others' books
//! what its own till would have refused. Pure: references to what the receiver holds
//! (customers, invoices, entries) are returned for it to look up.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::customer::Customer;
use crate::entry::{Entry, EntryBody};
use crate::error::{Error, Result};
use crate::store::sync::replica;
use crate::store::till::customer_rows::FIELDS;
use crate::sync::hlc::Hlc;
use crate::sync::protocol::Event;

/// How far ahead of the server an entry may be recorded: a till whose date was set wrong by
/// days or weeks still gets its sales into the books (a sale refused is a sale lost to the
/// back office); one a year ahead is a broken or hostile device, and is refused.
const ENTRY_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;

/// An event that passed [`check_event`], with what it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A ledger entry, checked by [`Entry::check`].
    Entry(Box<Entry>),
    /// A customer created or edited: its id.
    Customer(Uuid),
    /// A follow-up row (reminder, dispute, promise, plan, setting...); the customer it belongs
    /// to, if any.
    Row { customer: Option<Uuid> },
}

impl Incoming {
    /// The customer the event belongs to.
    pub fn customer(&self) -> Option<Uuid> {
        match self {
            Incoming::Entry(e) => Some(e.customer),
            Incoming::Customer(id) => Some(*id),
            Incoming::Row { customer } => *customer,
        }
    }

    /// The entry an entry aims at, with the kind it must have: the invoice a payment, a credit
    /// note, a write-off or a deposit's use settles (a sale), or the entry a reversal cancels
    /// (anything but a reversal).
    pub fn refers_to(&self) -> Option<(Uuid, Reference)> {
        let Incoming::Entry(e) = self else { return None };
        match &e.body {
            EntryBody::Payment { invoice: Some(i), .. }
            | EntryBody::DepositApplied { invoice: Some(i), .. }
            | EntryBody::CreditNote { invoice: Some(i), .. }
            | EntryBody::WriteOff { invoice: Some(i), .. } => Some((*i, Reference::Invoice)),
            EntryBody::Reversal { of, .. } => Some((*of, Reference::Reversed)),
            _ => None,
        }
    }
}

/// What an entry's reference must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A sale of the same customer.
    Invoice,
    /// An entry of the same customer that is not itself a reversal.
    Reversed,
}

impl Reference {
    /// Whether an entry of kind `kind` (see [`EntryBody::kind`]) may be the one referred to.
    pub fn accepts(self, kind: &str) -> bool {
        match self {
            Reference::Invoice => kind == "sale",
            Reference::Reversed => kind != "reversal",
        }
    }
}

#[derive(Deserialize)]
struct CustomerEvent {
    customer: Customer,
    changed: Vec<String>,
}

/// Checks `event`, sent by device `sender`: its clock names the sender and is in canonical
/// form, and its payload is what a till of this release would have written. `now` is the
/// receiver's trusted clock (the server's): with it, a customer's or a row's clock outside
/// 2020 to `now` + 24 h ([`Hlc::parse_from`]) and an entry recorded more than a year ahead of
/// it are refused too. A till passes `None`: its own clock may be the
/// wrong one, and the server has checked the time already.
pub fn check_event(event: &Event, sender: Uuid, now: Option<DateTime<Utc>>) -> Result<Incoming> {
    Hlc::parse_sent_by(&event.hlc, sender)?;
    // Clocks order edits of customers and rows: one far ahead would win every later edit, so
    // the server, the one clock of the shop, refuses it. Entries are a set, never merged by
    // clock: a till whose date is wrong by days still gets its sales in (see `Entry`).
    if let (Some(now), false) = (now, event.kind == "entry") {
        Hlc::parse_from(&event.hlc, sender, now.timestamp_millis())?;
    }
    let payload = &event.payload;
    match event.kind.as_str() {
        "entry" => {
            let entry = Entry::deserialize(payload).map_err(|e| invalid("entry", e))?;
            // The sequence is the log's business: parked events come back without theirs.
            if entry.id != event.id || entry.device_id != sender {
                return Err(Error::Invalid { field: "entry", reason: "its id or device is not the event's".into() });
            }
            match now {
                Some(now) => entry.check_received(now, ENTRY_AHEAD_MS)?,
                None => entry.check()?,
            }
            Ok(Incoming::Entry(Box::new(entry)))
        }
        "customer" => {
            let c = CustomerEvent::deserialize(payload).map_err(|e| invalid("customer", e))?;
            c.customer.validate()?;
            if let Some(f) = c.changed.iter().find(|f| *f != "*" && !FIELDS.contains(&f.as_str())) {
                let f: String = f.chars().take(40).collect();
                return Err(Error::Invalid { field: "customer", reason: format!("no field {f:?}") });
            }
            Ok(Incoming::Customer(c.customer.id))
        }
        "row" => Ok(Incoming::Row { customer: replica::check_shape(payload)? }),
        other => {
            let other: String = other.chars().take(40).collect();
            Err(Error::Invalid { field: "kind", reason: format!("no device applies {other:?} events") })
        }
    }
}

fn invalid(field: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Invalid { field, reason: e.to_string() }
}
