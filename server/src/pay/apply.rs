//! A verified `Fact` written into the shop's ledger, once, through the shop's merged copy
//! (the same write path as a till's: `Dispatcher::record_paid` for payments, which writes a
//! burst of them in one unit of work, `Dispatcher::on_copy` for the rest). Every entry's id derives from the
//! provider's ids (`bank::entry_id`), so a fact delivered twice, by two processes, or after a
//! restart records nothing more:
//!
//! | fact | entry | id from |
//! | --- | --- | --- |
//! | paid | payment (online), aimed at the one invoice named when it pays it exactly, else to the oldest invoices first | the payment |
//! | refunded, the whole payment | reversal of the payment | `reversal/` + the payment |
//! | refunded, part | adjustment charging the refund back | `refund/` + the refund |
//! | disputed (chargeback) | reversal of the payment, and a dispute on each invoice it was for (reminders pause) | `reversal/` + the payment |
//! | dispute won | payment again | `dispute-won/` + the dispute |
//!
//! A refund or dispute of a payment not recorded yet (the provider delivers in any order) is
//! `NotYet`: nothing is written, the webhook answers 409 and the provider delivers it again
//! later. Which customer and invoices a payment was for is kept in `provider_payments`.

use ardoise_core::store::{Now, Store};
use ardoise_core::{EntryRequest, Money, PaymentMethod, bank};
use uuid::Uuid;

use super::model::{Fact, Provider};
use crate::db::Db;
use crate::db::providers::{self, ProviderPayment};
use crate::dispatch::{Dispatcher, Paid};
use crate::error::Error;

/// What applying a fact did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub entry: Uuid,
    /// False when the entry was already there.
    pub recorded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The payment this fact is about is not in the ledger yet: try again later.
    #[error("payment {0} is not recorded yet")]
    NotYet(String),
    #[error(transparent)]
    Other(#[from] Error),
}

const WHO: &str = "back office";

pub async fn apply(
    d: &Dispatcher,
    db: &Db,
    shop: Uuid,
    p: Provider,
    fact: Fact,
    now: Now,
) -> Result<Applied, ApplyError> {
    let name = p.as_str();
    let key = |s: String| bank::entry_id(name, &s);
    match fact {
        Fact::Paid { payment, customer, amount, invoices } => {
            let entry = key(payment.clone());
            let paid = Paid { provider: name, payment, entry, customer, amount, invoices };
            let outcome = d.record_paid(shop, paid, now).await?;
            Ok(Applied { entry, recorded: outcome.recorded })
        }
        Fact::Refunded { payment, refund, amount } => {
            let known = known(db, shop, name, &payment).await?;
            let paid = key(payment.clone());
            let (entry, req) = if amount.minor() >= known.amount_cents {
                let reason = format!("refunded in full by {name} ({refund})");
                (key(format!("reversal/{payment}")), EntryRequest::Reversal { entry: paid, reason })
            } else {
                let reason = format!("part of payment {payment} refunded by {name} ({refund})");
                (key(format!("refund/{refund}")), EntryRequest::Adjustment { amount, reason })
            };
            let recorded = d
                .on_copy(shop, now, move |s| Ok(s.record_once(entry, &known.customer, None, WHO, req, now)?.is_some()))
                .await?;
            Ok(Applied { entry, recorded })
        }
        Fact::Disputed { payment, dispute, amount } => {
            let known = known(db, shop, name, &payment).await?;
            let paid = key(payment.clone());
            let entry = key(format!("reversal/{payment}"));
            // The bank takes back what was not refunded: the payment is reversed whole, and
            // what refunds already charged back to the customer is credited, so a partial
            // refund followed by a chargeback never counts the refunded part twice.
            let refunded = known.amount_cents - amount.minor();
            let credit = key(format!("chargeback-refunded/{dispute}"));
            let reason = format!("chargeback {dispute} ({name}): the bank took the payment back");
            let recorded = d
                .on_copy(shop, now, move |s| {
                    let req = EntryRequest::Reversal { entry: paid, reason: reason.clone() };
                    let r = s.record_once(entry, &known.customer, None, WHO, req, now)?;
                    if r.is_some() {
                        if refunded > 0 {
                            let req = EntryRequest::Adjustment {
                                amount: Money::from_minor(-refunded),
                                reason: format!("{reason}; already refunded before it"),
                            };
                            s.record_once(credit, &known.customer, None, WHO, req, now)?;
                        }
                        // Only when the reversal is new: a replay must not reopen a dispute the
                        // owner has since closed.
                        for invoice in &known.invoices {
                            dispute_invoice(s, invoice, &reason, now)?;
                        }
                    }
                    Ok(r.is_some())
                })
                .await?;
            Ok(Applied { entry, recorded })
        }
        Fact::DisputeWon { payment, dispute, amount } => {
            let known = known(db, shop, name, &payment).await?;
            let reversed = key(format!("reversal/{payment}"));
            let entry = key(format!("dispute-won/{dispute}"));
            let r = d
                .on_copy(shop, now, move |s| {
                    // Won before the chargeback was taken in: recording it now would count
                    // the money twice.
                    if !s.has_entry(reversed)? {
                        return Ok(None);
                    }
                    let req = EntryRequest::Payment { amount, method: PaymentMethod::Online, invoice: None };
                    Ok(Some(s.record_once(entry, &known.customer, None, WHO, req, now)?.is_some()))
                })
                .await?;
            let recorded = r.ok_or_else(|| ApplyError::NotYet(format!("the chargeback of {payment}")))?;
            Ok(Applied { entry, recorded })
        }
    }
}

async fn known(db: &Db, shop: Uuid, provider: &str, payment: &str) -> Result<ProviderPayment, ApplyError> {
    providers::payment(&mut *db.conn().await?, shop, provider, payment)
        .await?
        .ok_or_else(|| ApplyError::NotYet(payment.to_owned()))
}

/// Opens a dispute on `invoice` so its reminders pause; one already open, an invoice since
/// settled otherwise or unknown to this ledger is left as it is (and said in the log).
fn dispute_invoice(s: &Store, invoice: &str, reason: &str, now: Now) -> ardoise_core::Result<()> {
    match s.open_dispute(invoice, reason, WHO, now) {
        Ok(_) => Ok(()),
        Err(
            e @ (ardoise_core::Error::InvoiceSettled { .. }
            | ardoise_core::Error::UnknownInvoice(_)
            | ardoise_core::Error::Invalid { .. }),
        ) => {
            tracing::warn!(invoice, error = %e, "chargeback: no dispute opened on this invoice");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
