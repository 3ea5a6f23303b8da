//! The server restored from an older backup (SQLite, `VACUUM INTO` while it serves): the log
//! lost the events received since, which the devices hold. After a new epoch given by the
//! operator, or without one, each device that reads a history the log no longer holds being
//! told so (`cursor_ahead`, `history_differs`) and resyncing alone, the server must have every
//! event again, once, and all devices agree (docs/SYNC.md, "Epochs": "Nothing is lost, nothing
//! doubled"). A read never changes the shop's epoch: any device could forge one.
//!
//! The two `restore_then_*` tests are the whole story with random work; the last two are the
//! smallest cases of the two ways it fails today (see each one's comment).

use std::path::Path;

use ardoise_core::customer::{CustomerKind, NewCustomer, Terms};
use ardoise_core::store::ReminderState;
use ardoise_core::{Entry, Error, Money, SaleRequest};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_tests::check::assert_converged;
use ardoise_tests::ops::{self, Op, Shop};
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn work(seed: u8, len: usize) -> Vec<Op> {
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
    ops::ops(len..len + 1).new_tree(&mut runner).unwrap().current()
}

async fn run(shop: &mut Shop<'_>, ops: &[Op]) {
    for op in ops {
        shop.apply(op).await;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    /// The operator runs `new-epoch` after restoring.
    Operator,
    /// Nobody does: each device whose cursor the restored log cannot continue is refused and
    /// resyncs alone; the shop's epoch never changes.
    DevicesResyncThemselves,
}

/// Three devices work and sync; the backup is taken; they go on, a fourth device is enrolled,
/// each device creates a customer and sells to it, then to the customer of the next device;
/// more work waits offline; the backup is restored. The device enrolled after the backup is
/// refused (401) with its events kept until it is given a new code; every other device resyncs
/// fully at its next sync (its cursor is beyond the restored log, or names an event it no
/// longer holds there); then all sync until quiet and must have converged.
async fn restore(recovery: Recovery) {
    let mut server = Server::start(Backend::Sqlite).await;
    let shop = server.shop("Primeur").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-05-04");
    let first: Vec<Till> = ["till-1", "till-2", "owner-phone"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for t in &first {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    let late = Till::open(dir.path(), "till-3");
    let mut all: Vec<&Till> = first.iter().collect();
    let mut work_done = Shop::new(all.clone(), &clock);

    // Before the backup.
    run(&mut work_done, &work(1, 80)).await;
    sync_until_quiet(&all, &clock).await;
    let backup = dir.path().join("backup.db");
    server.backup_sqlite(&backup).await;
    let head_at_backup = server.head(shop).await;

    // After it: more work, synced everywhere, by the three devices and by a fourth enrolled
    // after the backup; then more work that waits in the outboxes.
    late.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    all.push(&late);
    work_done.tills = all.clone();
    run(&mut work_done, &work(2, 80)).await;
    // Make sure the lost part of the log holds entries of every device.
    for (i, t) in all.iter().enumerate() {
        let reference = format!("R{i}");
        let new = NewCustomer {
            reference: reference.clone(),
            name: format!("Client {i}"),
            terms: Terms::Net(30),
            ..Default::default()
        };
        t.with(|s| s.add_customer(new, clock.now())).unwrap();
        let sale = SaleRequest {
            customer: reference,
            amount: Money::from_minor(4_200),
            cashier: "Zoé".into(),
            ..Default::default()
        };
        let rec = t.with(|s| s.sell_on_account(sale, clock.now())).unwrap();
        work_done.recorded.push(rec.entry);
    }
    sync_until_quiet(&all, &clock).await;
    // And sales to the customers the other devices created since the backup, as when a
    // customer opened at one till comes back to pay at another.
    for (i, t) in all.iter().enumerate() {
        let sale = SaleRequest {
            customer: format!("R{}", (i + 1) % all.len()),
            amount: Money::from_minor(1_700),
            cashier: "Zoé".into(),
            ..Default::default()
        };
        work_done.recorded.push(t.with(|s| s.sell_on_account(sale, clock.now())).unwrap().entry);
    }
    sync_until_quiet(&all, &clock).await;
    let head_before = server.head(shop).await;
    assert!(head_before > head_at_backup, "events were received after the backup");
    // Work that waits in the outboxes of every device but the owner's phone, which therefore
    // has nothing to push when it is the first to sync after the restore.
    work_done.tills = vec![all[0], all[1], &late];
    let offline: Vec<Op> =
        work(3, 30).into_iter().filter(|op| !matches!(op, Op::Sync { .. } | Op::SyncTogether { .. })).collect();
    run(&mut work_done, &offline).await;
    assert!(all.iter().any(|t| t.with(|s| s.sync_status()).unwrap().waiting > 0));
    assert_eq!(all[2].with(|s| s.sync_status()).unwrap().waiting, 0);

    // Restore.
    server.stop().await;
    server.restore_sqlite(&backup);
    server.restart().await;
    assert_eq!(server.head(shop).await, head_at_backup, "the restored log is the backup's");
    let epoch = match recovery {
        Recovery::Operator => server.db().new_epoch(shop).await.unwrap(),
        Recovery::DevicesResyncThemselves => server.db().shop(shop).await.unwrap().epoch,
    };

    // The device enrolled after the backup is unknown to the restored server: refused, its
    // events kept, until the operator gives it a new code.
    let waiting = late.with(|s| s.sync_status()).unwrap().waiting;
    let e = late.sync(&clock).await.unwrap_err();
    assert!(matches!(&e, Error::Sync { code, retryable: false, .. } if code == "unauthorized"), "{e}");
    let st = late.with(|s| s.sync_status()).unwrap();
    assert_eq!(st.waiting, waiting, "nothing is lost while refused");
    assert!(st.failures >= 1 && st.last_error.as_deref().is_some_and(|m| m.contains("unauthorized")), "{st:?}");
    late.enrol(&server.base_url(), &server.code(shop).await, &clock).await;

    // Every device resyncs fully at its next sync, the first one to pull included: the phone,
    // whose cursor is beyond the restored head.
    for t in [&first[2], &first[0], &first[1]] {
        let r = t.sync(&clock).await.unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(r.epoch_reset, "{}: resynced fully", t.name);
        assert_eq!(t.enrolment().epoch, epoch, "{}", t.name);
    }
    sync_until_quiet(&all, &clock).await;
    assert_eq!(server.db().shop(shop).await.unwrap().epoch, epoch, "no read changed the epoch");
    assert!(server.head(shop).await >= head_before);
    assert_converged(&server, shop, &all, &work_done.recorded, clock.today()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_then_new_epoch_by_the_operator() {
    restore(Recovery::Operator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_then_each_device_beyond_the_log_resyncs_alone() {
    restore(Recovery::DevicesResyncThemselves).await;
}

/// Nobody runs `new-epoch`, and the first device to sync after the restore has events the
/// backup lost plus a new one: its push meets `sequence_gap`, it pushes its lost events again
/// and the head grows back past the other devices' cursors before any of them pulls, so no
/// pull is ever beyond the head and the epoch never changes. The shop sequences the other
/// devices had already read now name other events (`history_differs`: each resyncs alone):
/// they must still end up with every event, and the server with theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_without_new_epoch_where_a_push_refills_the_log_first() {
    let mut server = Server::start(Backend::Sqlite).await;
    let shop = server.shop("Caviste").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-06-01");
    let a = Till::open(dir.path(), "till-a");
    let b = Till::open(dir.path(), "till-b");
    for t in [&a, &b] {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    let mut recorded: Vec<Entry> = Vec::new();
    let sell = |t: &Till, recorded: &mut Vec<Entry>| {
        let sale = SaleRequest {
            customer: "C".into(),
            amount: Money::from_minor(1_000),
            cashier: "Max".into(),
            ..Default::default()
        };
        recorded.push(t.with(|s| s.sell_on_account(sale, clock.now())).unwrap().entry);
    };
    let new =
        NewCustomer { reference: "C".into(), name: "Camille".into(), terms: Terms::Net(30), ..Default::default() };
    a.with(|s| s.add_customer(new, clock.now())).unwrap();
    sync_until_quiet(&[&a, &b], &clock).await;
    let backup = dir.path().join("backup.db");
    server.backup_sqlite(&backup).await;

    // After the backup: B sells once and syncs; A pulls it, sells three times and syncs. B
    // does not sync again before the restore.
    sell(&b, &mut recorded);
    b.sync(&clock).await.unwrap();
    a.sync(&clock).await.unwrap();
    for _ in 0..3 {
        sell(&a, &mut recorded);
    }
    a.sync(&clock).await.unwrap();

    server.stop().await;
    server.restore_sqlite(Path::new(&backup));
    server.restart().await;

    // A sells again and is the first to sync.
    let epoch = server.db().shop(shop).await.unwrap().epoch;
    sell(&a, &mut recorded);
    a.sync(&clock).await.unwrap();
    sync_until_quiet(&[&a, &b], &clock).await;
    assert_eq!(server.db().shop(shop).await.unwrap().epoch, epoch);
    assert_converged(&server, shop, &[&a, &b], &recorded, clock.today()).await;
}

/// The operator does run `new-epoch`. After the backup, till A creates a customer and till B
/// sells to it; after the restore, B happens to resync before A. B's sale comes back to a
/// server that lost the customer's creation: refused as "unknown customer" and consumed, it
/// must still reach A and the server once A has resynced the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_where_an_entry_comes_back_before_its_customer() {
    let mut server = Server::start(Backend::Sqlite).await;
    let shop = server.shop("Droguerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-06-08");
    let a = Till::open(dir.path(), "till-a");
    let b = Till::open(dir.path(), "till-b");
    for t in [&a, &b] {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    sync_until_quiet(&[&a, &b], &clock).await;
    let backup = dir.path().join("backup.db");
    server.backup_sqlite(&backup).await;

    let new = NewCustomer { reference: "N".into(), name: "Noé".into(), terms: Terms::Net(30), ..Default::default() };
    a.with(|s| s.add_customer(new, clock.now())).unwrap();
    a.sync(&clock).await.unwrap();
    b.sync(&clock).await.unwrap();
    let sale = SaleRequest {
        customer: "N".into(),
        amount: Money::from_minor(2_500),
        cashier: "Lou".into(),
        ..Default::default()
    };
    let recorded = vec![b.with(|s| s.sell_on_account(sale, clock.now())).unwrap().entry];
    b.sync(&clock).await.unwrap();

    server.stop().await;
    server.restore_sqlite(&backup);
    server.restart().await;
    server.db().new_epoch(shop).await.unwrap();

    assert!(b.sync(&clock).await.unwrap().epoch_reset);
    assert!(a.sync(&clock).await.unwrap().epoch_reset);
    sync_until_quiet(&[&b, &a], &clock).await;
    assert_converged(&server, shop, &[&a, &b], &recorded, clock.today()).await;
}

/// The back office's merged ledger (the reminder dispatcher's copy, kept on disk beside the
/// database) read events the restored log lost. Its next round rebuilds it rather than being
/// refused (`cursor_ahead`) at every round, and once the till has resynced alone, the sale it
/// pushed again is reminded. No one changed the shop's epoch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_then_the_merged_ledger_rebuilds_itself() {
    let mut server = Server::start(Backend::Sqlite).await;
    let shop = server.shop("Mercerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-03-02");
    let a = Till::open(dir.path(), "till-a");
    a.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    let backup = dir.path().join("backup.db");
    server.backup_sqlite(&backup).await;

    // After the backup: the shop's details, a customer who takes reminders by email, a sale.
    a.with(|s| {
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Mercerie".into();
        settings.shop_email = "bonjour@mercerie.fr".into();
        s.set_settings(settings, clock.now())?;
        let new = NewCustomer {
            reference: "C1".into(),
            name: "Hélène Dupré".into(),
            email: Some("c1@example.fr".into()),
            kind: CustomerKind::Consumer,
            terms: Terms::Net(30),
            consent_email: true,
            ..Default::default()
        };
        s.add_customer(new, clock.now())?;
        let sale = SaleRequest {
            customer: "C1".into(),
            amount: Money::from_minor(8_420),
            cashier: "Léa".into(),
            ..Default::default()
        };
        s.sell_on_account(sale, clock.now())
    })
    .unwrap();
    a.sync(&clock).await.unwrap();
    let mail = dir.path().join("mail");
    let cfg = DispatchConfig {
        data_dir: dir.path().join("merged"),
        grace_minutes: 0,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(mail.clone()),
            sms: None,
            letters_dir: dir.path().join("letters"),
        },
    };
    let before = Dispatcher::new(server.db().clone(), cfg.clone()).unwrap();
    assert!(before.run_shop(shop, clock.now()).await.unwrap().applied > 0, "the copy read the sale");
    drop(before);

    server.stop().await;
    server.restore_sqlite(&backup);
    server.restart().await;
    assert_eq!(server.head(shop).await, 0);
    let epoch = server.db().shop(shop).await.unwrap().epoch;

    // The restarted process finds its copy ahead of the log: its cursors start over, not
    // refused at every round. The copy keeps what it read, which the till still holds: the
    // overdue sale is reminded once.
    let dispatcher = Dispatcher::new(server.db().clone(), cfg).unwrap();
    clock.advance(chrono::Duration::days(45));
    let round = dispatcher.run_shop(shop, clock.now()).await.unwrap();
    assert_eq!((round.queued_by_ladder, round.sent), (1, 1), "{round:?}");
    // The till resyncs alone and pushes its sale again: recognised, not reminded twice.
    assert!(a.sync(&clock).await.unwrap().epoch_reset);
    clock.advance(chrono::Duration::days(1));
    let round = dispatcher.run_shop(shop, clock.now()).await.unwrap();
    assert_eq!((round.queued_by_ladder, round.sent), (0, 0), "{round:?}");
    let sent: Vec<_> = std::fs::read_dir(&mail).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(std::fs::read_to_string(&sent[0]).unwrap().contains("c1@example.fr"));
    // The outcome reaches the till through the log.
    a.sync(&clock).await.unwrap();
    let reminders = a.with(|s| s.reminders(None, Some("C1"), 10)).unwrap();
    assert_eq!(reminders.iter().map(|r| r.state).collect::<Vec<_>>(), [ReminderState::Sent], "{reminders:?}");
    assert_eq!(server.db().shop(shop).await.unwrap().epoch, epoch);
}
