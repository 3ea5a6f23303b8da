//! Convergence against the real server on loopback: two tills and the owner's phone of one
//! shop, each enrolled with its own one-time code, work offline at random (customers added and
//! edited concurrently, sales, payments, deposits, reversals, two devices reversing the same
//! entry, disputes, notes, promises), syncing now and then, in any order, sometimes two at once.
//! Once every device has synced until quiet, all show the same customers, accounts, ledgers
//! and timelines; every account is the sum of the effects of the entries the devices recorded,
//! each once; and the server's log holds every event of every device exactly once.
//!
//! One server per backend for the whole property, one new shop per case. Cases:
//! `ARDOISE_SYNC_CASES` overrides the default count of each test.

use ardoise_tests::check::assert_converged;
use ardoise_tests::ops::{self, Op, Shop};
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use proptest::test_runner::{Config, TestRunner};

async fn one_shop(server: &Server, ops: &[Op]) {
    let shop = server.shop("Épicerie du coin").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-01-05");
    let tills: Vec<Till> = ["till-1", "till-2", "owner-phone"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for t in &tills {
        let code = server.code(shop).await;
        let e = t.enrol(&server.base_url(), &code, &clock).await;
        assert_eq!(e.shop_id, shop);
    }
    let tills: Vec<&Till> = tills.iter().collect();
    let mut work = Shop::new(tills.clone(), &clock);
    for op in ops {
        work.apply(op).await;
    }
    sync_until_quiet(&tills, &clock).await;
    assert_converged(server, shop, &tills, &work.recorded, clock.today()).await;
}

fn cases(default: u32) -> u32 {
    std::env::var("ARDOISE_SYNC_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn property(backend: Backend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(Server::start(backend));
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 128,
        max_shrink_time: 120_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&ops::ops(1..60), |ops| {
        rt.block_on(one_shop(&server, &ops));
        Ok(())
    });
    drop(server);
    if let Err(e) = result {
        panic!("{e}");
    }
}

// SQLite's cases are split in two tests so that the runner spreads them over the cores.
#[test]
fn devices_converge_through_the_server_on_sqlite_1() {
    property(Backend::Sqlite, cases(100));
}

#[test]
fn devices_converge_through_the_server_on_sqlite_2() {
    property(Backend::Sqlite, cases(100));
}

#[test]
fn devices_converge_through_the_server_on_postgres() {
    property(Backend::Postgres, cases(32));
}
