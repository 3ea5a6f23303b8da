//! Property tests of sync without the network: three devices work offline on one shop and
//! exchange events through an in-memory log with the server's rules (per-device order, one
//! shop sequence); in any order of syncs they end with identical customers, accounts, ledgers
//! and timelines, and the money adds up to every entry recorded once.

use chrono::{Days, TimeDelta};
use proptest::prelude::*;

use crate::customer::{CustomerPatch, NewCustomer};
use crate::money::Money;
use crate::store::till::tests::at;
use crate::store::*;
use crate::sync::protocol::{Change, PushResponse};
use crate::{EntryRequest, PaymentMethod, SaleRequest};
use uuid::Uuid;

const DEVICES: usize = 3;
const REFS: [&str; 4] = ["A", "B", "C", "D"];

#[derive(Clone, Debug)]
enum Op {
    AddCustomer { d: usize, r: usize },
    Rename { d: usize, c: usize, n: u8 },
    Limit { d: usize, c: usize, cents: Option<i64> },
    Phone { d: usize, c: usize, n: u8 },
    Sale { d: usize, c: usize, cents: i64, back: u64 },
    Pay { d: usize, c: usize, cents: i64 },
    Deposit { d: usize, c: usize, cents: i64 },
    Reverse { d: usize, c: usize, pick: usize },
    Dispute { d: usize, c: usize },
    Note { d: usize, c: usize },
    Promise { d: usize, c: usize, cents: i64 },
    Sync { d: usize },
    Advance { days: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0..DEVICES;
    let c = 0..8usize;
    let cents = 1i64..20_000;
    prop_oneof![
        2 => (d.clone(), 0..REFS.len()).prop_map(|(d, r)| Op::AddCustomer { d, r }),
        1 => (d.clone(), c.clone(), any::<u8>()).prop_map(|(d, c, n)| Op::Rename { d, c, n }),
        1 => (d.clone(), c.clone(), proptest::option::of(0i64..100_000)).prop_map(|(d, c, cents)| Op::Limit { d, c, cents }),
        1 => (d.clone(), c.clone(), any::<u8>()).prop_map(|(d, c, n)| Op::Phone { d, c, n }),
        6 => (d.clone(), c.clone(), cents.clone(), prop_oneof![3 => Just(0u64), 1 => 1u64..40])
            .prop_map(|(d, c, cents, back)| Op::Sale { d, c, cents, back }),
        4 => (d.clone(), c.clone(), cents.clone()).prop_map(|(d, c, cents)| Op::Pay { d, c, cents }),
        1 => (d.clone(), c.clone(), cents.clone()).prop_map(|(d, c, cents)| Op::Deposit { d, c, cents }),
        2 => (d.clone(), c.clone(), 0usize..20).prop_map(|(d, c, pick)| Op::Reverse { d, c, pick }),
        1 => (d.clone(), c.clone()).prop_map(|(d, c)| Op::Dispute { d, c }),
        1 => (d.clone(), c.clone()).prop_map(|(d, c)| Op::Note { d, c }),
        1 => (d.clone(), c.clone(), cents).prop_map(|(d, c, cents)| Op::Promise { d, c, cents }),
        5 => d.prop_map(|d| Op::Sync { d }),
        2 => (1u64..15).prop_map(|days| Op::Advance { days }),
    ]
}

/// The server's log, with its rules: events accepted in each device's order, numbered by
/// one gapless shop sequence.
#[derive(Default)]
struct Log {
    changes: Vec<Change>,
}

impl Log {
    fn sync(&mut self, s: &mut Store, now: Now) {
        loop {
            let batch = s.push_batch(7).unwrap();
            let Some(last) = batch.last().map(|e| e.seq) else { break };
            for event in batch {
                let cursor = self.changes.len() as u64 + 1;
                self.changes.push(Change { cursor, device_id: s.device_id(), event });
            }
            let resp = PushResponse { epoch: Uuid::nil(), acked_through: last, rejected: vec![], head: 0 };
            s.acknowledge(&resp, now).unwrap();
        }
        loop {
            let after = s.sync_cursor().unwrap() as usize;
            let page: Vec<Change> = self.changes.iter().skip(after).take(5).cloned().collect();
            let Some(next) = page.last().map(|c| c.cursor) else { break };
            let report = s.apply_changes(&page, next, now).unwrap();
            assert_eq!(report.skipped, 0, "{page:?}");
        }
    }
}

fn local_customers(s: &Store) -> Vec<String> {
    s.customers(100, 0).unwrap().into_iter().map(|c| c.reference).collect()
}

fn pick(s: &Store, c: usize) -> Option<String> {
    let all = local_customers(s);
    (!all.is_empty()).then(|| all[c % all.len()].clone())
}

/// Everything that must be equal on every device once they have all synced.
fn picture(s: &Store, today: chrono::NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut customers = s.customers(100, 0).unwrap();
    customers.sort_by_key(|c| c.id);
    for c in customers {
        out.push(format!("{c:?}"));
        out.push(format!("{:?}", s.account(&c.reference, today).unwrap()));
        out.push(format!("{:?}", s.customer_timeline(&c.reference, 1000).unwrap()));
    }
    let mut entries: Vec<String> = s.entries().unwrap().into_iter().map(|e| format!("{e:?}")).collect();
    entries.sort();
    out.extend(entries);
    out
}

fn run(ops: &[Op]) {
    let mut devices: Vec<Store> = (0..DEVICES).map(|_| Store::open_in_memory().unwrap()).collect();
    let mut log = Log::default();
    let mut today = crate::parse_date("2026-01-05").unwrap();
    for (n, op) in ops.iter().enumerate() {
        let now = at(&today.to_string()) + TimeDelta::seconds(n as i64);
        let m = Money::from_minor;
        // Business refusals (limits, unknown invoices, nothing to reverse) are fine: what is
        // tested is what the devices agree on afterwards.
        let _ = match op.clone() {
            Op::Advance { days } => {
                today = today + Days::new(days);
                Ok(())
            }
            Op::Sync { d } => {
                log.sync(&mut devices[d], now);
                Ok(())
            }
            Op::AddCustomer { d, r } => devices[d]
                .add_customer(
                    NewCustomer {
                        reference: REFS[r].into(),
                        name: format!("Client {}", REFS[r]),
                        terms: crate::Terms::Net(10),
                        ..Default::default()
                    },
                    now,
                )
                .map(|_| ()),
            Op::Rename { d, c, n } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .update_customer(&r, CustomerPatch { name: Some(format!("Nom {n}")), ..Default::default() }, now)
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Limit { d, c, cents } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .update_customer(&r, CustomerPatch { credit_limit: Some(cents.map(m)), ..Default::default() }, now)
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Phone { d, c, n } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .update_customer(
                        &r,
                        CustomerPatch { phone: Some(Some(format!("06 12 34 56 {n:02}"))), ..Default::default() },
                        now,
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Sale { d, c, cents, back } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .sell_on_account(
                        SaleRequest {
                            customer: r,
                            amount: m(cents),
                            date: today.checked_sub_days(Days::new(back)),
                            invoice_ref: None,
                            cashier: format!("till {d}"),
                            deposit: None,
                        },
                        now,
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Pay { d, c, cents } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .record(
                        &r,
                        None,
                        "p",
                        EntryRequest::Payment { amount: m(cents), method: PaymentMethod::Cash, invoice: None },
                        now,
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Deposit { d, c, cents } => match pick(&devices[d], c) {
                Some(r) => devices[d]
                    .record(
                        &r,
                        None,
                        "p",
                        EntryRequest::DepositTake { amount: m(cents), method: PaymentMethod::Cash, order_ref: None },
                        now,
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            Op::Reverse { d, c, pick: p } => match pick(&devices[d], c) {
                Some(r) => {
                    let entries = devices[d].timeline(&r, 100).unwrap();
                    match entries.get(p % entries.len().max(1)) {
                        Some(t) => devices[d]
                            .record(
                                &r,
                                None,
                                "p",
                                EntryRequest::Reversal { entry: t.entry.id, reason: "erreur".into() },
                                now,
                            )
                            .map(|_| ()),
                        None => Ok(()),
                    }
                }
                None => Ok(()),
            },
            Op::Dispute { d, c } => match pick(&devices[d], c) {
                Some(r) => {
                    let acc = devices[d].account(&r, today).unwrap();
                    match acc.open_invoices.first() {
                        Some(inv) => devices[d].open_dispute(&inv.reference, "pas livré", "p", now).map(|_| ()),
                        None => Ok(()),
                    }
                }
                None => Ok(()),
            },
            Op::Note { d, c } => match pick(&devices[d], c) {
                Some(r) => devices[d].add_note(&r, "passé en boutique", "p", now),
                None => Ok(()),
            },
            Op::Promise { d, c, cents } => match pick(&devices[d], c) {
                Some(r) => devices[d].promise_to_pay(&r, today + Days::new(7), m(cents), "p", now).map(|_| ()),
                None => Ok(()),
            },
        };
    }
    let end = at(&today.to_string()) + TimeDelta::hours(1);
    for _ in 0..2 {
        for s in &mut devices {
            log.sync(s, end);
        }
    }
    let reference = picture(&devices[0], today);
    for (i, s) in devices.iter().enumerate().skip(1) {
        let other = picture(s, today);
        assert_eq!(reference.len(), other.len(), "device {i}");
        for (a, b) in reference.iter().zip(&other) {
            assert_eq!(a, b, "device 0 and device {i} differ");
        }
    }
    // Nothing lost or doubled: every entry recorded anywhere is here once, and the balances
    // add up to the entries' effects.
    let s = &devices[0];
    let logged: std::collections::BTreeSet<Uuid> =
        log.changes.iter().filter(|c| c.event.kind == "entry").map(|c| c.event.id).collect();
    let held: std::collections::BTreeSet<Uuid> = s.entries().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(logged, held);
    s.audit().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn devices_syncing_in_any_order_agree(ops in proptest::collection::vec(op(), 1..60)) {
        run(&ops);
    }
}
