//! A verified `Fact` written into the shop's ledger, once, through the shop's merged copy
//! (the same write path as a till's: `Dispatcher::record_paid` for payments, which writes a
//! burst of them in one unit of work, `Dispatcher::on_copy` for the rest). Every entry's id derives from the
//! provider's ids (`bank::entry_id`), so a fact delivered twice, by two processes, or after a
//! restart records nothing more:
//!
//! | fact | entry | id from |
//! | --- | --- | --- |
//! | paid | payment (online), aimed at the one invoice named when it pays it exactly, else to the oldest invoices first | the payment |
//! | refunded, the whole payment | reversal of the payment; once a chargeback reverses it, an adjustment charging the refund back on top | `reversal/` + the payment; `refund/` + the refund |
//! | refunded, part | adjustment charging the refund back | `refund/` + the refund |
//! | disputed (chargeback), the payment's first | reversal of the payment, and a dispute on each invoice it was for (reminders pause); when the bank took back less than the payment (refunds came before), in the same unit of work an adjustment crediting the difference | `reversal/` + the payment; `chargeback-refunded/` + the dispute |
//! | disputed, a later one (the payment reversed already) | adjustment charging what the bank took back on top, and a dispute on each invoice not disputed yet | `chargeback/` + the dispute |
//! | dispute won | payment again, once that dispute's chargeback is in the ledger | `dispute-won/` + the dispute |
//!
//! So whatever the order of the chargebacks and refunds, the customer is charged what the bank
//! took back and what the shop gave back, once. What reverses a payment (its first chargeback or
//! its full refund) is agreed in the database (`providers::reversed_by`) before the copy is
//! read, so that two processes never both reverse it for two different facts; a chargeback
//! arriving before the reversal named is in the ledger waits for it.
//!
//! A refund or dispute of a payment not recorded yet (the provider delivers in any order), a
//! later chargeback before the first, or a dispute won before its chargeback is `NotYet`:
//! nothing is written, the webhook answers 409 and the provider delivers it again later.
//! Which customer and invoices a payment was for is kept in `provider_payments`.

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
            let reversal = key(format!("reversal/{payment}"));
            let whole = amount.minor() >= known.amount_cents;
            let claim = format!("refund:{refund}");
            let by = if whole {
                providers::reversed_by(&mut *db.conn().await?, shop, name, &payment, &claim, reversal).await?
            } else {
                None
            };
            let (entry, req) = match by {
                // A chargeback reverses the payment: the shop giving it all back too comes on top.
                Some(other) if whole && other != claim => {
                    let reason = format!("refunded in full by {name} ({refund}) after chargeback {other}");
                    (key(format!("refund/{refund}")), EntryRequest::Adjustment { amount, reason })
                }
                _ if whole => {
                    let reason = format!("refunded in full by {name} ({refund})");
                    (reversal, EntryRequest::Reversal { entry: paid, reason })
                }
                _ => {
                    let reason = format!("part of payment {payment} refunded by {name} ({refund})");
                    (key(format!("refund/{refund}")), EntryRequest::Adjustment { amount, reason })
                }
            };
            let recorded = d
                .on_copy(shop, now, move |s| Ok(s.record_once(entry, &known.customer, None, WHO, req, now)?.is_some()))
                .await?;
            Ok(Applied { entry, recorded })
        }
        Fact::Disputed { payment, dispute, amount } => {
            let known = known(db, shop, name, &payment).await?;
            let chargeback = Chargeback::of(&key, &payment, &dispute, amount, &known);
            let by = providers::reversed_by(
                &mut *db.conn().await?,
                shop,
                name,
                &payment,
                &chargeback.claim,
                chargeback.reversal,
            )
            .await?;
            let first = by.as_deref() == Some(chargeback.claim.as_str());
            let paid = key(payment.clone());
            let reason = format!("chargeback {dispute} ({name}): the bank took the payment back");
            let more = format!("chargeback {dispute} ({name}): the bank took back {amount} more of payment {payment}");
            let customer = known.customer.clone();
            let r = d
                .on_copy(shop, now, move |s| {
                    if chargeback.recorded(s, by.as_deref())? {
                        let entry = if s.has_entry(chargeback.more)? { chargeback.more } else { chargeback.reversal };
                        return Ok(Some(Applied { entry, recorded: false }));
                    }
                    if !first && s.has_entry(chargeback.reversal)? {
                        // Reversed already (by an earlier chargeback, or a full refund): what
                        // this one takes back comes on top.
                        let req = EntryRequest::Adjustment { amount, reason: more.clone() };
                        let recorded = s.record_once(chargeback.more, &customer, None, WHO, req, now)?.is_some();
                        if recorded {
                            for invoice in &known.invoices {
                                dispute_invoice(s, invoice, &more, now)?;
                            }
                        }
                        return Ok(Some(Applied { entry: chargeback.more, recorded }));
                    }
                    if !first {
                        // Another chargeback of this payment, or its full refund, reverses it,
                        // and that reversal is not in this copy yet: this one waits for it.
                        return Ok(None);
                    }
                    // The bank takes back what was not refunded: the payment is reversed whole,
                    // and what refunds already charged back to the customer is credited, so a
                    // partial refund followed by a chargeback never counts the refunded part
                    // twice. Together or not at all; the credit first, so that whoever reads
                    // the reversal in the log has read its credit too.
                    let mut items = Vec::new();
                    if chargeback.refunded > 0 {
                        let req = EntryRequest::Adjustment {
                            amount: Money::from_minor(-chargeback.refunded),
                            reason: format!("{reason}; already refunded before it"),
                        };
                        items.push((chargeback.credit, customer.clone(), req));
                    }
                    let req = EntryRequest::Reversal { entry: paid, reason: reason.clone() };
                    items.push((chargeback.reversal, customer, req));
                    let each = s.record_once_all(items, WHO, now)?;
                    let reversed = each.last().is_some_and(Option::is_some);
                    if reversed {
                        // Only when the reversal is new: a replay must not reopen a dispute the
                        // owner has since closed.
                        for invoice in &known.invoices {
                            dispute_invoice(s, invoice, &reason, now)?;
                        }
                    }
                    Ok(Some(Applied { entry: chargeback.reversal, recorded: each.iter().any(Option::is_some) }))
                })
                .await?;
            r.ok_or_else(|| ApplyError::NotYet(format!("the first chargeback of {payment}")))
        }
        Fact::DisputeWon { payment, dispute, amount } => {
            let known = known(db, shop, name, &payment).await?;
            let chargeback = Chargeback::of(&key, &payment, &dispute, amount, &known);
            let by = providers::reversal_of(&mut *db.conn().await?, shop, name, &payment).await?;
            let entry = key(format!("dispute-won/{dispute}"));
            let r = d
                .on_copy(shop, now, move |s| {
                    // Won before this chargeback was taken in: recording it now would count
                    // the money twice.
                    if !chargeback.recorded(s, by.as_deref())? {
                        return Ok(None);
                    }
                    let req = EntryRequest::Payment { amount, method: PaymentMethod::Online, invoice: None };
                    Ok(Some(s.record_once(entry, &known.customer, None, WHO, req, now)?.is_some()))
                })
                .await?;
            let recorded = r.ok_or_else(|| ApplyError::NotYet(format!("chargeback {dispute} of {payment}")))?;
            Ok(Applied { entry, recorded })
        }
    }
}

/// The entries a chargeback of a payment may be recorded as, and what it leaves to credit.
#[derive(Clone)]
struct Chargeback {
    /// What names it as the one reversing the payment (`providers::reversed_by`).
    claim: String,
    /// The payment's reversal: the first chargeback's (or the full refund's).
    reversal: Uuid,
    /// What refunds took back before the first chargeback, credited with its reversal.
    credit: Uuid,
    /// A later chargeback: what the bank took back on top.
    more: Uuid,
    /// The payment less what the bank took back, in cents: the credit's amount.
    refunded: i64,
    /// The bank took back the whole payment: the reversal alone records it.
    whole: bool,
}

impl Chargeback {
    fn of(key: &impl Fn(String) -> Uuid, payment: &str, dispute: &str, amount: Money, known: &ProviderPayment) -> Self {
        Chargeback {
            claim: format!("dispute:{dispute}"),
            reversal: key(format!("reversal/{payment}")),
            credit: key(format!("chargeback-refunded/{dispute}")),
            more: key(format!("chargeback/{dispute}")),
            refunded: known.amount_cents - amount.minor(),
            whole: amount.minor() >= known.amount_cents,
        }
    }

    /// Whether this chargeback is in the ledger: as a later one, as the first with its credit,
    /// or, taking back the whole payment, as the reversal alone, when the reversal is its own
    /// (`by`, what reverses the payment; a ledger from before that was named: any reversal).
    fn recorded(&self, s: &Store, by: Option<&str>) -> ardoise_core::Result<bool> {
        let reversal_is_ours = by.map_or(self.whole, |b| self.whole && b == self.claim);
        Ok(s.has_entry(self.more)? || s.has_entry(self.credit)? || (reversal_is_ours && s.has_entry(self.reversal)?))
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
