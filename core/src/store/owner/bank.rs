//! Bank statements into the ledger: each booked credit that quotes the payment reference of a
//! customer becomes their payment, once, whoever imports it; the rest is left for the owner.

use crate::bank::{Applied, Direction, Import, Left, Statement, Status, entry_id};
use crate::entry::PaymentMethod;
use crate::error::{Error, Result};
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::till::ledger::EntryRequest;

impl Store {
    /// Takes in statements already read and checked (`crate::bank::camt::parse`). A booked
    /// credit quoting a customer's payment reference (structured, else in the free text, see
    /// [`crate::bank::Transaction::payment_references`]) is recorded as their payment by
    /// transfer, dated the day the bank booked it, under [`entry_id`]: importing the same or
    /// an overlapping statement again records nothing twice. Debits, pending entries,
    /// reversals, credits naming no customer of this ledger and what the ledger refuses are
    /// left, with why; nothing is guessed. Each payment is its own unit of work (and rewrites
    /// that customer's queued reminders); a database failure stops the import, and importing
    /// again picks up where it stopped.
    pub fn import_statements(&self, statements: &[Statement], cashier: &str, now: Now) -> Result<Import> {
        let mut report = Import::default();
        // One read of the customers for the whole file: a statement of thousands of
        // transfers against a shop of tens of thousands of customers stays one pass.
        let customers = self.payment_references()?;
        for st in statements {
            let account = st.account_iban.as_deref().unwrap_or(&st.id);
            for tx in &st.transactions {
                let leave = |why: String| Left { bank_id: tx.bank_id.clone(), amount: tx.signed(), why };
                if tx.status != Status::Booked || tx.direction != Direction::Credit || tx.reversal {
                    report.left.push(leave("not a booked credit".into()));
                    continue;
                }
                let customer = tx.payment_references().iter().find_map(|rf| customers.get(rf).cloned().flatten());
                let Some(customer) = customer else {
                    report.left.push(leave("no payment reference of a customer".into()));
                    continue;
                };
                let req = EntryRequest::Payment { amount: tx.amount, method: PaymentMethod::Transfer, invoice: None };
                let id = entry_id(account, &tx.bank_id);
                match self.record_once(id, &customer, tx.booking_date.or(tx.value_date), cashier, req, now) {
                    Ok(Some(r)) => report.applied.push(Applied {
                        bank_id: tx.bank_id.clone(),
                        customer,
                        amount: tx.amount,
                        entry: r.entry.id,
                    }),
                    Ok(None) => report.already += 1,
                    Err(e @ Error::Sqlite(_)) => return Err(e),
                    Err(e) => report.left.push(leave(e.to_string())),
                }
            }
        }
        Ok(report)
    }
}
