//! What "converged" means, checked: every device shows the same customers, accounts, ledgers,
//! timelines and disputes; the money adds up to the entries recorded by the devices, each
//! once; and the server's log holds every event of every device exactly once.

use std::collections::{BTreeMap, BTreeSet};

use ardoise_core::store::{Dispute, TimelineItem};
use ardoise_core::{AccountSummary, Customer, Effect, Entry, EntryBody, Money, Store, Uuid};
use chrono::NaiveDate;

use crate::server::Server;
use crate::till::Till;

/// Everything that must be equal on every device once all have synced.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub customers: Vec<Customer>,
    pub accounts: Vec<AccountSummary>,
    pub timelines: Vec<Vec<TimelineItem>>,
    pub entries: Vec<Entry>,
    pub disputes: Vec<Dispute>,
}

pub fn picture(s: &Store, today: NaiveDate) -> Picture {
    let mut customers = s.customers(100_000, 0).unwrap();
    customers.sort_by_key(|c| c.id);
    let accounts = customers.iter().map(|c| s.account(&c.reference, today).unwrap()).collect();
    let timelines = customers.iter().map(|c| s.customer_timeline(&c.reference, 100_000).unwrap()).collect();
    let mut entries = s.entries().unwrap();
    entries.sort_by_key(|e| e.id);
    // Listed newest first by local row: the order of arrival, which differs between devices.
    let mut disputes = s.disputes(None).unwrap();
    disputes.sort_by_key(|d| d.id);
    Picture { customers, accounts, timelines, entries, disputes }
}

/// Panics at the first difference, naming it.
pub fn assert_same(a: &Picture, b: &Picture, what: &str) {
    fn list<T: PartialEq + std::fmt::Debug>(field: &str, what: &str, a: &[T], b: &[T]) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x, y, "{what}: {field}[{i}] differ");
        }
        assert_eq!(a.len(), b.len(), "{what}: not as many {field}");
    }
    list("customers", what, &a.customers, &b.customers);
    list("accounts", what, &a.accounts, &b.accounts);
    list("entries", what, &a.entries, &b.entries);
    list("timelines", what, &a.timelines, &b.timelines);
    list("disputes", what, &a.disputes, &b.disputes);
}

/// What each customer's account must add up to, from the entries alone: every entry moves
/// money by its effect, except that of several reversals of one entry only the first in fold
/// order counts (docs/SYNC.md).
pub fn expected_effects(entries: &[Entry]) -> BTreeMap<Uuid, Effect> {
    let by_id: BTreeMap<Uuid, &Entry> = entries.iter().map(|e| (e.id, e)).collect();
    let mut first_reversal: BTreeMap<Uuid, &Entry> = BTreeMap::new();
    for e in entries {
        if let EntryBody::Reversal { of, .. } = &e.body {
            let slot = first_reversal.entry(*of).or_insert(e);
            if e.order_key() < slot.order_key() {
                *slot = e;
            }
        }
    }
    let mut out: BTreeMap<Uuid, Effect> = BTreeMap::new();
    for e in entries {
        let effect = match &e.body {
            EntryBody::Reversal { of, .. } if first_reversal[of].id == e.id => {
                let target = by_id.get(of).unwrap_or_else(|| panic!("reversal {} of an unknown entry {of}", e.id));
                let t = target.body.effect(None);
                Effect { balance: -t.balance, deposits: -t.deposits }
            }
            EntryBody::Reversal { .. } => Effect::default(),
            body => body.effect(None),
        };
        let sum = out.entry(e.customer).or_default();
        sum.balance += effect.balance;
        sum.deposits += effect.deposits;
    }
    out
}

/// The whole check, after `sync_until_quiet`. `recorded` holds every entry the devices'
/// writes returned, which is the truth the rest is compared with.
pub async fn assert_converged(server: &Server, shop: Uuid, tills: &[&Till], recorded: &[Entry], today: NaiveDate) {
    // Every device is done: nothing waits, nothing failed, nothing was refused.
    let rejections = server.rejections(shop).await;
    for t in tills {
        let st = t.with(|s| s.sync_status()).unwrap();
        assert_eq!(
            (st.waiting, st.failures, st.rejected),
            (0, 0, 0),
            "{}: {st:?}; the server refused: {rejections:?}",
            t.name
        );
        t.with(|s| s.audit()).unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
    // The same picture everywhere.
    let pictures: Vec<Picture> = tills.iter().map(|t| t.with(|s| picture(s, today))).collect();
    for (t, p) in tills.iter().zip(&pictures).skip(1) {
        assert_same(&pictures[0], p, &format!("{} and {}", tills[0].name, t.name));
    }
    let p = &pictures[0];

    // The ledger is exactly the entries recorded, each once.
    let mut want: Vec<Entry> = recorded.to_vec();
    want.sort_by_key(|e| e.id);
    let ids: BTreeSet<Uuid> = want.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), want.len(), "an entry was recorded twice with one id");
    assert_eq!(p.entries.len(), want.len(), "entries held vs recorded");
    for (held, rec) in p.entries.iter().zip(&want) {
        assert_eq!(held, rec, "an entry changed on its way");
    }

    // The money: each account is the sum of its entries' effects, and so is the shop.
    let effects = expected_effects(&want);
    let (mut shop_balance, mut shop_expected) = (Money::ZERO, Money::ZERO);
    for a in &p.accounts {
        let e = effects.get(&a.customer.id).copied().unwrap_or_default();
        assert_eq!(a.balance, e.balance, "balance of {}", a.customer.reference);
        assert_eq!(a.deposits_available, e.deposits.clamp_zero(), "deposits of {}", a.customer.reference);
        shop_balance += a.balance;
    }
    for e in effects.values() {
        shop_expected += e.balance;
    }
    assert_eq!(shop_balance, shop_expected, "the shop's balance vs the sum of every entry's effect");
    let customers: BTreeSet<Uuid> = p.customers.iter().map(|c| c.id).collect();
    assert!(effects.keys().all(|c| customers.contains(c)), "an entry for a customer no device has");

    // The server: a gapless log holding every event of every device once, in device order.
    let log = server.log(shop).await;
    let head = server.head(shop).await;
    assert_eq!(log.len() as u64, head, "log length vs head");
    assert!(log.iter().enumerate().all(|(i, l)| l.shop_seq == i as u64 + 1), "the shop sequence has a gap");
    let logged_ids: BTreeSet<Uuid> = log.iter().map(|l| l.id).collect();
    assert_eq!(logged_ids.len(), log.len(), "an event is twice in the log");
    let logged_entries: BTreeSet<Uuid> = log.iter().filter(|l| l.kind == "entry").map(|l| l.id).collect();
    assert_eq!(logged_entries, ids, "entries in the server's log vs entries recorded");
    let devices = server.devices(shop).await;
    for t in tills {
        let me = t.device_id();
        let mine: Vec<(u64, Uuid, String)> =
            log.iter().filter(|l| l.device == me).map(|l| (l.device_seq, l.id, l.kind.clone())).collect();
        let outbox = t.outbox();
        assert_eq!(mine, outbox, "{}: its events in the server's log vs its outbox", t.name);
        let info = devices.iter().find(|d| d.id == me).expect("the device is known to the server");
        assert_eq!(info.expected_seq, outbox.len() as u64 + 1, "{}: the sequence the server expects", t.name);
    }
    let ours: Vec<_> = rejections.iter().filter(|r| tills.iter().any(|t| t.device_id() == r.0)).collect();
    assert!(ours.is_empty(), "the server refused events of these tills: {ours:?}");
}
