//! Property tests of the ledger: any sequence of till operations keeps every account equal to
//! its entries, and replaying the entries elsewhere gives the same accounts.

use chrono::{Days, NaiveDate, TimeDelta};
use proptest::prelude::*;

use crate::customer::NewCustomer;
use crate::error::Error;
use crate::money::Money;
use crate::store::till::customer_rows::customer_id;
use crate::store::till::tests::at;
use crate::store::*;
use crate::{EntryRequest, PaymentMethod, SaleRequest};
use uuid::Uuid;

const CUSTOMERS: [&str; 3] = ["A", "B", "C"];

#[derive(Clone, Debug)]
enum Op {
    Sale { c: usize, cents: i64, back: u64, deposit: Option<i64> },
    Pay { c: usize, cents: i64, aimed: Option<usize> },
    DepositTake { c: usize, cents: i64 },
    DepositApply { c: usize, cents: i64, aimed: Option<usize> },
    DepositRefund { c: usize, cents: i64 },
    CreditNote { c: usize, cents: i64, aimed: Option<usize> },
    Adjust { c: usize, cents: i64 },
    WriteOff { c: usize, cents: i64, aimed: Option<usize> },
    Reverse { c: usize, pick: usize },
    Dispute { c: usize, aimed: usize },
    Advance { days: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CUSTOMERS.len();
    let cents = 1i64..20_000;
    let aimed = proptest::option::weighted(0.3, 0usize..4);
    prop_oneof![
        6 => (c.clone(), cents.clone(), prop_oneof![4 => Just(0u64), 1 => 1u64..60], proptest::option::weighted(0.2, 1i64..5_000))
            .prop_map(|(c, cents, back, deposit)| Op::Sale { c, cents, back, deposit }),
        4 => (c.clone(), cents.clone(), aimed.clone()).prop_map(|(c, cents, aimed)| Op::Pay { c, cents, aimed }),
        1 => (c.clone(), cents.clone()).prop_map(|(c, cents)| Op::DepositTake { c, cents }),
        1 => (c.clone(), cents.clone(), aimed.clone()).prop_map(|(c, cents, aimed)| Op::DepositApply { c, cents, aimed }),
        1 => (c.clone(), cents.clone()).prop_map(|(c, cents)| Op::DepositRefund { c, cents }),
        1 => (c.clone(), cents.clone(), aimed.clone()).prop_map(|(c, cents, aimed)| Op::CreditNote { c, cents, aimed }),
        1 => (c.clone(), -5_000i64..5_000).prop_map(|(c, cents)| Op::Adjust { c, cents }),
        1 => (c.clone(), cents.clone(), aimed).prop_map(|(c, cents, aimed)| Op::WriteOff { c, cents, aimed }),
        2 => (c.clone(), 0usize..50).prop_map(|(c, pick)| Op::Reverse { c, pick }),
        1 => (c, 0usize..4).prop_map(|(c, aimed)| Op::Dispute { c, aimed }),
        3 => (1u64..20).prop_map(|days| Op::Advance { days }),
    ]
}

fn counts(s: &Store) -> (i64, i64, i64) {
    let q = |sql: &str| s.conn().query_row(sql, [], |r| r.get(0)).unwrap();
    (q("SELECT count(*) FROM entries"), q("SELECT count(*) FROM outbox"), q("SELECT count(*) FROM overrides"))
}

fn open_ref(s: &Store, c: &str, today: NaiveDate, aimed: Option<usize>) -> Option<String> {
    let acc = s.account(c, today).unwrap();
    aimed.and_then(|i| acc.open_invoices.get(i).map(|o| o.reference.clone()))
}

/// Runs the operations; an operation the store refuses must leave the database unchanged.
fn run(ops: &[Op]) -> (Store, NaiveDate) {
    let s = Store::open_in_memory().unwrap();
    let start = crate::parse_date("2026-01-01").unwrap();
    for (i, r) in CUSTOMERS.iter().enumerate() {
        let limit = (i == 2).then(|| Money::from_minor(50_000));
        let new = NewCustomer {
            reference: (*r).into(),
            name: format!("Client {r}"),
            credit_limit: limit,
            terms: crate::Terms::Net(30),
            ..Default::default()
        };
        s.add_customer(new, at("2026-01-01")).unwrap();
    }
    let mut today = start;
    for (n, op) in ops.iter().enumerate() {
        // Distinct, increasing times of day, as at a real till.
        let now = at(&today.to_string()) + TimeDelta::seconds(n as i64);
        let m = Money::from_minor;
        let before = counts(&s);
        let result = match op.clone() {
            Op::Advance { days } => {
                today = today + Days::new(days);
                continue;
            }
            Op::Sale { c, cents, back, deposit } => {
                let date = today.checked_sub_days(Days::new(back)).filter(|d| *d >= start).unwrap_or(start);
                let req = SaleRequest {
                    customer: CUSTOMERS[c].into(),
                    amount: m(cents),
                    date: Some(date),
                    invoice_ref: None,
                    cashier: "p".into(),
                    deposit: deposit.map(m),
                };
                s.sell_on_account(req, now).map(|_| ())
            }
            Op::Dispute { c, aimed } => {
                let Some(invoice) = open_ref(&s, CUSTOMERS[c], today, Some(aimed)) else { continue };
                // A dispute is not an entry: an error must leave the disputes as they were.
                let disputes = s.disputes(None).unwrap().len();
                if let Err(e) = s.open_dispute(&invoice, "wrong price", "p", now) {
                    assert!(!matches!(e, Error::Sqlite(_) | Error::Corrupt(_)), "{op:?}: {e}");
                    assert_eq!(s.disputes(None).unwrap().len(), disputes);
                }
                continue;
            }
            Op::Reverse { c, pick } => {
                let entries: Vec<_> = s.timeline(CUSTOMERS[c], 1000).unwrap();
                let Some(target) = entries.get(pick % entries.len().max(1)) else { continue };
                let req = EntryRequest::Reversal { entry: target.entry.id, reason: "mistake".into() };
                s.record(CUSTOMERS[c], None, "p", req, now).map(|_| ())
            }
            other => {
                let (c, req) = match other {
                    Op::Pay { c, cents, aimed } => (
                        c,
                        EntryRequest::Payment {
                            amount: m(cents),
                            method: PaymentMethod::Card,
                            invoice: open_ref(&s, CUSTOMERS[c], today, aimed),
                        },
                    ),
                    Op::DepositTake { c, cents } => (
                        c,
                        EntryRequest::DepositTake { amount: m(cents), method: PaymentMethod::Cash, order_ref: None },
                    ),
                    Op::DepositApply { c, cents, aimed } => (
                        c,
                        EntryRequest::DepositApply {
                            amount: m(cents),
                            invoice: open_ref(&s, CUSTOMERS[c], today, aimed),
                        },
                    ),
                    Op::DepositRefund { c, cents } => {
                        (c, EntryRequest::DepositRefund { amount: m(cents), method: PaymentMethod::Cash })
                    }
                    Op::CreditNote { c, cents, aimed } => (
                        c,
                        EntryRequest::CreditNote {
                            amount: m(cents),
                            reason: "returned".into(),
                            invoice: open_ref(&s, CUSTOMERS[c], today, aimed),
                        },
                    ),
                    Op::Adjust { c, cents } => (c, EntryRequest::Adjustment { amount: m(cents), reason: "fix".into() }),
                    Op::WriteOff { c, cents, aimed } => (
                        c,
                        EntryRequest::WriteOff {
                            amount: m(cents),
                            reason: "lost".into(),
                            invoice: open_ref(&s, CUSTOMERS[c], today, aimed),
                        },
                    ),
                    _ => unreachable!(),
                };
                s.record(CUSTOMERS[c], None, "p", req, now).map(|_| ())
            }
        };
        if let Err(e) = result {
            assert!(!matches!(e, Error::Sqlite(_) | Error::Corrupt(_)), "{op:?}: {e}");
            assert_eq!(counts(&s), before, "{op:?} failed with {e} but wrote something");
        }
    }
    (s, today)
}

/// The checkout's overdue and disputed figures as the items say them, one query each: what the
/// account row's list of open dues must give.
fn overdue_from_items(s: &Store, c: &str, today: NaiveDate) -> (Money, u32, Option<NaiveDate>, Money, u32) {
    let id = customer_id(&s.conn(), c).unwrap();
    let (sum, n, min): (i64, u32, Option<String>) = s
        .conn()
        .query_row(
            "SELECT coalesce(sum(amount - settled), 0), count(*), min(due_on) FROM items i
             WHERE customer_id = ?1 AND open = 1 AND due_on < ?2
               AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.invoice = i.entry_uuid AND d.state = 'open')",
            rusqlite::params![id, today.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let (disputed, k): (i64, u32) = s
        .conn()
        .query_row(
            "SELECT coalesce(sum(i.amount - i.settled), 0), count(*) FROM disputes d JOIN items i ON i.entry_uuid = d.invoice
             WHERE d.customer_id = ?1 AND d.state = 'open' AND i.open = 1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (Money::from_minor(sum), n, min.map(|d| crate::parse_date(&d).unwrap()), Money::from_minor(disputed), k)
}

/// What must be equal between two databases holding the same entries.
fn state(s: &Store, today: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    for c in CUSTOMERS {
        let a = s.account(c, today).unwrap();
        out.push(format!(
            "{c} bal {} dep {} od {} cr {} {:?}",
            a.balance, a.deposits_available, a.overdue, a.credit_on_account, a.open_invoices
        ));
    }
    let conn = s.conn();
    let mut stmt = conn.prepare("SELECT reference, amount, settled, cancelled FROM items ORDER BY reference").unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}:{}:{}:{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?
            ))
        })
        .unwrap();
    out.extend(rows.map(|r| r.unwrap()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn accounts_always_match_their_entries(ops in proptest::collection::vec(op(), 1..80)) {
        let (s, today) = run(&ops);
        s.audit().unwrap();
        for c in CUSTOMERS {
            for day in [today, today + Days::new(15), today + Days::new(90)] {
                let a = s.account(c, day).unwrap();
                prop_assert!(a.overdue <= a.balance.clamp_zero(), "{c}: overdue {} > balance {}", a.overdue, a.balance);
                let open: Money = a.open_invoices.iter().map(|i| i.remaining).sum();
                prop_assert_eq!(a.balance, open - a.credit_on_account);
                let snap = {
                    let conn = s.conn();
                    let noon = at(&day.to_string());
                    let ask = till::verdict::Ask { customer: c, cart: Money::ZERO, day, now: noon, overrides: till::verdict::Overrides::Ignore };
                    till::verdict::snapshot(&conn, s.device_id(), &crate::CheckoutRules::default(), ask).unwrap()
                };
                let got = (snap.overdue, snap.overdue_invoices, snap.oldest_overdue_due, snap.disputed, snap.disputed_invoices);
                prop_assert_eq!(got, overdue_from_items(&s, c, day), "{} on {}", c, day);
            }
        }
    }

    #[test]
    fn replaying_the_entries_elsewhere_gives_the_same_accounts(ops in proptest::collection::vec(op(), 1..60), chunk in 1usize..7) {
        // Only entries are replayed here; a dispute is a record of its own, which would make the
        // overdue figures differ (the sync tests carry disputes).
        let ops: Vec<Op> = ops.into_iter().filter(|o| !matches!(o, Op::Dispute { .. })).collect();
        let (s, today) = run(&ops);
        let entries = s.entries().unwrap();
        let customers: Vec<_> = CUSTOMERS.iter().map(|c| s.customer(c).unwrap()).collect();
        // Once in the order they were recorded, in chunks; once in fold order, which needs no
        // refold at all: both must agree with the original.
        let mut in_fold_order = entries.clone();
        in_fold_order.sort_by_key(|e| e.order_key());
        for order in [entries.clone(), in_fold_order] {
            let r = Store::open_in_memory().unwrap();
            for c in &customers {
                r.ingest_customer(c, at("2026-01-01")).unwrap();
            }
            for part in order.chunks(chunk) {
                r.ingest(part, at("2026-01-01")).unwrap();
            }
            prop_assert_eq!(r.ingest(&order, at("2026-01-01")).unwrap(), 0, "ingesting twice adds nothing");
            r.audit().unwrap();
            prop_assert_eq!(state(&r, today), state(&s, today));
            prop_assert_eq!(r.outbox_len().unwrap(), 0, "entries from elsewhere are not ours to push");
        }
    }

    #[test]
    fn the_verdict_shown_is_the_one_the_sale_enforces(
        ops in proptest::collection::vec(op(), 0..50),
        asks in proptest::collection::vec((0..CUSTOMERS.len(), 1i64..60_000), 1..10),
        grant in proptest::option::weighted(0.5, (0..CUSTOMERS.len(), 1i64..60_000)),
        enrolled in any::<bool>(),
        scored in any::<bool>(),
        limit in proptest::option::weighted(0.5, 0i64..80_000),
    ) {
        let (s, today) = run(&ops);
        // Every rule in play: a shop default limit, a till out of touch for days (enrolled, never
        // synced), the day's risk scores and a manager's override.
        let mut settings = (*s.settings()).clone();
        settings.checkout.default_credit_limit = limit.map(Money::from_minor);
        s.set_settings(settings, at("2026-01-01")).unwrap();
        if enrolled {
            let e = Enrolment { server_url: "https://bo.example".into(), shop_id: Uuid::nil(), token: "t".into(), epoch: Uuid::nil() };
            s.set_enrolment(&e, at("2026-01-01")).unwrap();
        }
        let now = at(&today.to_string()) + TimeDelta::hours(6);
        if scored {
            s.refresh_risk(now).unwrap();
        }
        if let Some((c, cents)) = grant {
            let _ = s.override_checkout(CUSTOMERS[c], Money::from_minor(cents), "Marc", "pays on Friday", now);
        }
        for (c, cents) in asks {
            let (c, cart) = (CUSTOMERS[c], Money::from_minor(cents));
            let shown = s.check(c, cart, now).unwrap();
            let req = SaleRequest { customer: c.into(), amount: cart, cashier: "p".into(), ..Default::default() };
            match s.sell_on_account(req, now) {
                Err(Error::Refused(enforced)) => {
                    prop_assert_eq!(shown.decision, crate::Decision::Refuse);
                    prop_assert_eq!(*enforced, shown);
                }
                Ok(rec) => {
                    prop_assert_ne!(shown.decision, crate::Decision::Refuse);
                    prop_assert_eq!(rec.verdict, Some(shown));
                }
                Err(e) => prop_assert!(false, "{c} {cart}: {e}"),
            }
        }
    }
}
