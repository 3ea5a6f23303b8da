//! Random work at a shop's devices, offline, interleaved with syncs: customers added (the same
//! reference on two devices too) and edited field by field, sales, payments, deposits,
//! reversals (two devices reversing the same entry too), disputes, notes and promises.

use std::collections::BTreeSet;

use ardoise_core::customer::{CustomerPatch, NewCustomer, Terms};
use ardoise_core::{Entry, EntryRequest, Error, Money, PaymentMethod, Recorded, SaleRequest, Store, Uuid};
use chrono::{Days, TimeDelta};
use proptest::prelude::*;

use crate::till::{Clock, Till};

/// Devices per shop: two tills and the owner's phone.
pub const DEVICES: usize = 3;
pub const REFS: [&str; 4] = ["A", "B", "C", "D"];

#[derive(Clone, Debug)]
pub enum Field {
    Name(u8),
    Phone(Option<u8>),
    Email(Option<u8>),
    Limit(Option<i64>),
    Terms(u16),
    Blocked(bool),
    Notes(u8),
    ConsentSms(bool),
}

#[derive(Clone, Debug)]
pub enum Op {
    AddCustomer {
        d: usize,
        r: usize,
    },
    Edit {
        d: usize,
        c: usize,
        field: Field,
    },
    Sale {
        d: usize,
        c: usize,
        cents: i64,
        back: u64,
        deposit: Option<i64>,
    },
    Pay {
        d: usize,
        c: usize,
        cents: i64,
        aimed: Option<usize>,
    },
    DepositTake {
        d: usize,
        c: usize,
        cents: i64,
    },
    DepositApply {
        d: usize,
        c: usize,
        cents: i64,
    },
    DepositRefund {
        d: usize,
        c: usize,
        cents: i64,
    },
    Reverse {
        d: usize,
        c: usize,
        pick: usize,
    },
    /// Two devices reverse the same entry, each without knowing of the other's reversal.
    ReverseTwice {
        a: usize,
        b: usize,
        pick: usize,
    },
    Dispute {
        d: usize,
        c: usize,
        pick: usize,
    },
    Note {
        d: usize,
        c: usize,
    },
    Promise {
        d: usize,
        c: usize,
        cents: i64,
        days: u64,
    },
    Sync {
        d: usize,
    },
    /// Two devices sync at the same time.
    SyncTogether {
        a: usize,
        b: usize,
    },
    Advance {
        hours: i64,
    },
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        3 => any::<u8>().prop_map(Field::Name),
        2 => proptest::option::weighted(0.8, any::<u8>()).prop_map(Field::Phone),
        1 => proptest::option::weighted(0.8, any::<u8>()).prop_map(Field::Email),
        2 => proptest::option::of(0i64..200_000).prop_map(Field::Limit),
        1 => (0u16..60).prop_map(Field::Terms),
        1 => any::<bool>().prop_map(Field::Blocked),
        1 => any::<u8>().prop_map(Field::Notes),
        1 => any::<bool>().prop_map(Field::ConsentSms),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    let d = 0..DEVICES;
    let c = 0..8usize;
    let cents = 1i64..20_000;
    prop_oneof![
        3 => (d.clone(), 0..REFS.len()).prop_map(|(d, r)| Op::AddCustomer { d, r }),
        4 => (d.clone(), c.clone(), field()).prop_map(|(d, c, field)| Op::Edit { d, c, field }),
        8 => (d.clone(), c.clone(), cents.clone(), prop_oneof![3 => Just(0u64), 1 => 1u64..20], proptest::option::weighted(0.15, 1i64..5_000))
            .prop_map(|(d, c, cents, back, deposit)| Op::Sale { d, c, cents, back, deposit }),
        5 => (d.clone(), c.clone(), cents.clone(), proptest::option::weighted(0.3, 0usize..4))
            .prop_map(|(d, c, cents, aimed)| Op::Pay { d, c, cents, aimed }),
        2 => (d.clone(), c.clone(), cents.clone()).prop_map(|(d, c, cents)| Op::DepositTake { d, c, cents }),
        2 => (d.clone(), c.clone(), 1i64..5_000).prop_map(|(d, c, cents)| Op::DepositApply { d, c, cents }),
        1 => (d.clone(), c.clone(), 1i64..5_000).prop_map(|(d, c, cents)| Op::DepositRefund { d, c, cents }),
        2 => (d.clone(), c.clone(), 0usize..20).prop_map(|(d, c, pick)| Op::Reverse { d, c, pick }),
        3 => (d.clone(), 1..DEVICES, 0usize..40).prop_map(|(a, off, pick)| Op::ReverseTwice { a, b: (a + off) % DEVICES, pick }),
        1 => (d.clone(), c.clone(), 0usize..4).prop_map(|(d, c, pick)| Op::Dispute { d, c, pick }),
        1 => (d.clone(), c.clone()).prop_map(|(d, c)| Op::Note { d, c }),
        1 => (d.clone(), c.clone(), cents, 0u64..30).prop_map(|(d, c, cents, days)| Op::Promise { d, c, cents, days }),
        6 => d.clone().prop_map(|d| Op::Sync { d }),
        2 => (d.clone(), d).prop_map(|(a, b)| Op::SyncTogether { a, b }),
        2 => prop_oneof![3 => 1i64..12, 1 => 24i64..24 * 12].prop_map(|hours| Op::Advance { hours }),
    ]
}

pub fn ops(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), len)
}

/// The shop's devices and what their writes returned.
#[derive(Debug)]
pub struct Shop<'a> {
    pub tills: Vec<&'a Till>,
    pub clock: &'a Clock,
    /// Every entry a device's write returned: the truth the end state is checked against.
    pub recorded: Vec<Entry>,
    /// Writes the store refused for business reasons (limits, nothing to reverse...).
    pub refused: usize,
    /// Syncs that failed (only under faults).
    pub failed_syncs: usize,
    /// Whether a failed sync is a test failure (no faults) or expected (faults injected).
    pub syncs_may_fail: bool,
}

/// The device's customers, ordered by id so that devices that know the same customers pick
/// the same one for the same index.
fn customer(s: &Store, c: usize) -> Option<String> {
    let mut all = s.customers(10_000, 0).unwrap();
    all.sort_by_key(|c| c.id);
    (!all.is_empty()).then(|| all[c % all.len()].reference.clone())
}

fn reference_of(s: &Store, id: Uuid) -> Option<String> {
    s.customers(10_000, 0).unwrap().into_iter().find(|c| c.id == id).map(|c| c.reference)
}

/// Entries this device could reverse: not reversals, not reversed yet here.
fn reversible(s: &Store) -> BTreeSet<(Uuid, Uuid)> {
    let entries = s.entries().unwrap();
    let reversed: BTreeSet<Uuid> = entries
        .iter()
        .filter_map(|e| match e.body {
            ardoise_core::EntryBody::Reversal { of, .. } => Some(of),
            _ => None,
        })
        .collect();
    entries
        .into_iter()
        .filter(|e| !matches!(e.body, ardoise_core::EntryBody::Reversal { .. }) && !reversed.contains(&e.id))
        .map(|e| (e.id, e.customer))
        .collect()
}

impl<'a> Shop<'a> {
    pub fn new(tills: Vec<&'a Till>, clock: &'a Clock) -> Shop<'a> {
        Shop { tills, clock, recorded: Vec::new(), refused: 0, failed_syncs: 0, syncs_may_fail: false }
    }

    fn keep(&mut self, what: &Op, r: ardoise_core::Result<Option<Recorded>>) {
        match r {
            Ok(Some(rec)) => {
                self.recorded.push(rec.entry);
                self.recorded.extend(rec.deposit_applied);
            }
            Ok(None) => {}
            Err(
                e @ (Error::Sqlite(_)
                | Error::Corrupt(_)
                | Error::Open { .. }
                | Error::NotArdoise { .. }
                | Error::Sync { .. }),
            ) => {
                panic!("{what:?}: the store failed: {e}")
            }
            Err(_) => self.refused += 1,
        }
    }

    async fn sync(&mut self, d: usize) {
        let till = self.tills[d];
        match till.sync(self.clock).await {
            Ok(_) => {}
            Err(e) if self.syncs_may_fail => {
                assert!(
                    matches!(&e, Error::Sync { retryable: true, .. }),
                    "{}: a sync under network faults failed with a non-retryable error: {e}",
                    till.name
                );
                self.failed_syncs += 1;
            }
            Err(e) => panic!("{}: sync failed: {e}", till.name),
        }
    }

    /// Applies one operation; business refusals are counted, store failures panic.
    pub async fn apply(&mut self, op: &Op) {
        let now = self.clock.now();
        let today = now.date_naive();
        let m = Money::from_minor;
        let r: ardoise_core::Result<Option<Recorded>> = match op.clone() {
            Op::Sync { d } => {
                self.sync(d).await;
                return;
            }
            Op::SyncTogether { a, b } => {
                let (ta, tb) = (self.tills[a], self.tills[b]);
                let (ra, rb) = tokio::join!(ta.sync(self.clock), tb.sync(self.clock));
                for (t, r) in [(ta, ra), (tb, rb)] {
                    if let Err(e) = r {
                        assert!(self.syncs_may_fail, "{}: sync failed: {e}", t.name);
                        assert!(matches!(&e, Error::Sync { retryable: true, .. }), "{}: {e}", t.name);
                        self.failed_syncs += 1;
                    }
                }
                return;
            }
            Op::Advance { hours } => {
                self.clock.advance(TimeDelta::hours(hours));
                return;
            }
            Op::AddCustomer { d, r } => self.tills[d]
                .with(|s| {
                    s.add_customer(
                        NewCustomer {
                            reference: REFS[r].into(),
                            name: format!("Client {}", REFS[r]),
                            phone: Some(format!("06 00 00 00 0{r}")),
                            terms: Terms::Net(10),
                            ..Default::default()
                        },
                        now,
                    )
                })
                .map(|_| None),
            Op::Edit { d, c, field } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let patch = match field {
                    Field::Name(n) => CustomerPatch { name: Some(format!("Nom {n}")), ..Default::default() },
                    Field::Phone(n) => {
                        CustomerPatch { phone: Some(n.map(|n| format!("06 12 34 56 {n:03}"))), ..Default::default() }
                    }
                    Field::Email(n) => {
                        CustomerPatch { email: Some(n.map(|n| format!("client{n}@example.com"))), ..Default::default() }
                    }
                    Field::Limit(cents) => CustomerPatch { credit_limit: Some(cents.map(m)), ..Default::default() },
                    Field::Terms(n) => CustomerPatch { terms: Some(Terms::Net(n)), ..Default::default() },
                    Field::Blocked(b) => {
                        CustomerPatch { blocked: Some(b.then(|| "unpaid".to_owned())), ..Default::default() }
                    }
                    Field::Notes(n) => CustomerPatch { notes: Some(format!("note {n}")), ..Default::default() },
                    Field::ConsentSms(b) => CustomerPatch { consent_sms: Some(b), ..Default::default() },
                };
                s.update_customer(&r, patch, now).map(|_| None)
            }),
            Op::Sale { d, c, cents, back, deposit } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let req = SaleRequest {
                    customer: r,
                    amount: m(cents),
                    date: today.checked_sub_days(Days::new(back)),
                    invoice_ref: None,
                    cashier: format!("cashier {d}"),
                    deposit: deposit.map(m),
                };
                s.sell_on_account(req, now).map(Some)
            }),
            Op::Pay { d, c, cents, aimed } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let invoice = aimed.and_then(|i| {
                    let acc = s.account(&r, today).unwrap();
                    acc.open_invoices.get(i).map(|o| o.reference.clone())
                });
                let req = EntryRequest::Payment { amount: m(cents), method: PaymentMethod::Card, invoice };
                s.record(&r, None, "p", req, now).map(Some)
            }),
            Op::DepositTake { d, c, cents } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let req = EntryRequest::DepositTake { amount: m(cents), method: PaymentMethod::Cash, order_ref: None };
                s.record(&r, None, "p", req, now).map(Some)
            }),
            Op::DepositApply { d, c, cents } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let req = EntryRequest::DepositApply { amount: m(cents), invoice: None };
                s.record(&r, None, "p", req, now).map(Some)
            }),
            Op::DepositRefund { d, c, cents } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let req = EntryRequest::DepositRefund { amount: m(cents), method: PaymentMethod::Cash };
                s.record(&r, None, "p", req, now).map(Some)
            }),
            Op::Reverse { d, c, pick } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let entries = s.timeline(&r, 1_000).unwrap();
                let Some(t) = entries.get(pick % entries.len().max(1)) else { return Ok(None) };
                let req = EntryRequest::Reversal { entry: t.entry.id, reason: "erreur".into() };
                s.record(&r, None, "p", req, now).map(Some)
            }),
            Op::ReverseTwice { a, b, pick } => {
                if a == b {
                    return;
                }
                let (ta, tb) = (self.tills[a], self.tills[b]);
                let shared: Vec<(Uuid, Uuid)> =
                    ta.with(|s| reversible(s)).intersection(&tb.with(|s| reversible(s))).copied().collect();
                let Some(&(entry, cust)) = shared.get(pick % shared.len().max(1)) else { return };
                for till in [ta, tb] {
                    let now = self.clock.now();
                    let r = till.with(|s| {
                        let Some(r) = reference_of(s, cust) else { return Ok(None) };
                        let req = EntryRequest::Reversal { entry, reason: format!("erreur ({})", till.name) };
                        s.record(&r, None, "p", req, now).map(Some)
                    });
                    self.keep(op, r);
                }
                return;
            }
            Op::Dispute { d, c, pick } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                let acc = s.account(&r, today).unwrap();
                let Some(inv) = acc.open_invoices.get(pick % acc.open_invoices.len().max(1)) else { return Ok(None) };
                s.open_dispute(&inv.reference, "pas livré", "p", now).map(|_| None)
            }),
            Op::Note { d, c } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                s.add_note(&r, &format!("passé en boutique ({d})"), "p", now).map(|_| None)
            }),
            Op::Promise { d, c, cents, days } => self.tills[d].with(|s| {
                let Some(r) = customer(s, c) else { return Ok(None) };
                s.promise_to_pay(&r, today + Days::new(days), m(cents), "p", now).map(|_| None)
            }),
        };
        self.keep(op, r);
    }
}
