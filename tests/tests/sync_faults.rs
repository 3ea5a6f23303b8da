//! Sync through a faulty network and a server that dies: answers dropped after the server
//! applied the request, answers cut, requests duplicated and replayed late, delayed, or cut
//! half way; and the server killed in the middle of a stream of pushes, then restarted on the
//! same database. Once the faults stop and every device syncs, everything converges with
//! nothing lost or doubled.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ardoise_core::customer::{NewCustomer, Terms};
use ardoise_core::{Entry, EntryRequest, Error, Money, PaymentMethod, SaleRequest};
use ardoise_tests::check::assert_converged;
use ardoise_tests::ops::{self, Shop};
use ardoise_tests::proxy::{Faults, Proxy};
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn seed() -> u64 {
    let seed = std::env::var("ARDOISE_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("ARDOISE_FAULT_SEED={seed}");
    seed
}

fn sale(cents: i64, customer: &str) -> SaleRequest {
    SaleRequest {
        customer: customer.into(),
        amount: Money::from_minor(cents),
        date: None,
        invoice_ref: None,
        cashier: "Nino".into(),
        deposit: None,
    }
}

fn is_network(e: &Error) -> bool {
    matches!(e, Error::Sync { code, retryable: true, .. } if code == "network")
}

async fn logged(server: &Server, shop: ardoise_core::Uuid) -> Vec<ardoise_core::Uuid> {
    server.log(shop).await.into_iter().map(|l| l.id).collect()
}

/// Each fault alone, on one push, with what it must and must not have done on each side.
async fn each_fault_alone(backend: Backend) {
    let server = Server::start(backend).await;
    let proxy = Proxy::start(server.addr(), 1).await;
    let shop = server.shop("Fromagerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-02-02");
    let till = Till::open(dir.path(), "till");
    till.enrol(&proxy.base_url(), &server.code(shop).await, &clock).await;
    till.with(|s| {
        s.add_customer(NewCustomer { reference: "C1".into(), name: "Léa".into(), ..Default::default() }, clock.now())
    })
    .unwrap();
    till.sync(&clock).await.unwrap();
    let mut recorded: Vec<Entry> = Vec::new();
    let mut record = |till: &Till, clock: &Clock| {
        let rec = till.with(|s| s.sell_on_account(sale(1_250, "C1"), clock.now())).unwrap();
        recorded.push(rec.entry.clone());
        rec.entry.id
    };

    // The answer is lost after the server applied the push: the till does not know, keeps the
    // event waiting, and the next sync is acknowledged as a repeat, stored once.
    let id = record(&till, &clock);
    proxy.set_faults(Faults { drop_response: 1.0, ..Faults::NONE });
    let e = till.sync(&clock).await.unwrap_err();
    assert!(is_network(&e), "{e}");
    assert!(logged(&server, shop).await.contains(&id), "the server applied the push whose answer was lost");
    let st = till.with(|s| s.sync_status()).unwrap();
    assert_eq!((st.waiting, st.failures), (1, 1), "{st:?}");
    proxy.set_faults(Faults::NONE);
    till.sync(&clock).await.unwrap();
    assert_eq!(logged(&server, shop).await.iter().filter(|l| **l == id).count(), 1);
    assert_eq!(till.with(|s| s.sync_status()).unwrap().waiting, 0);

    // The answer is cut half way: the same.
    let id = record(&till, &clock);
    proxy.set_faults(Faults { cut_response: 1.0, ..Faults::NONE });
    assert!(is_network(&till.sync(&clock).await.unwrap_err()));
    assert!(logged(&server, shop).await.contains(&id));
    assert_eq!(till.with(|s| s.sync_status()).unwrap().waiting, 1);
    proxy.set_faults(Faults::NONE);
    till.sync(&clock).await.unwrap();

    // The request is cut half way: the server applies nothing, the till keeps the event.
    let head = server.head(shop).await;
    let id = record(&till, &clock);
    proxy.set_faults(Faults { cut_request: 1.0, ..Faults::NONE });
    assert!(is_network(&till.sync(&clock).await.unwrap_err()));
    assert_eq!(server.head(shop).await, head, "a cut request wrote nothing");
    assert_eq!(till.with(|s| s.sync_status()).unwrap().waiting, 1);
    proxy.set_faults(Faults::NONE);
    till.sync(&clock).await.unwrap();
    assert!(logged(&server, shop).await.contains(&id));

    // Every request twice, the copy replayed up to 50 ms later, after the till's next
    // requests: the sync succeeds and every copy is a repeat.
    let ids: Vec<_> = (0..3).map(|_| record(&till, &clock)).collect();
    proxy.set_faults(Faults { duplicate: 1.0, max_delay: Duration::from_millis(50), ..Faults::NONE });
    till.sync(&clock).await.unwrap();
    let more = record(&till, &clock);
    till.sync(&clock).await.unwrap();
    proxy.settle().await;
    proxy.set_faults(Faults::NONE);
    let log = logged(&server, shop).await;
    for id in ids.iter().chain([&more]) {
        assert_eq!(log.iter().filter(|l| *l == id).count(), 1, "a duplicated push is stored once");
    }

    // Delayed: only slower.
    let id = record(&till, &clock);
    proxy.set_faults(Faults { delay: 1.0, max_delay: Duration::from_millis(30), ..Faults::NONE });
    till.sync(&clock).await.unwrap();
    proxy.set_faults(Faults::NONE);
    assert!(logged(&server, shop).await.contains(&id));

    let stats = proxy.stats();
    assert!(stats.dropped_responses >= 1 && stats.cut_responses >= 1 && stats.cut_requests >= 1, "{stats:?}");
    assert!(stats.duplicated >= 2 && stats.delayed >= 1, "{stats:?}");
    sync_until_quiet(&[&till], &clock).await;
    assert_converged(&server, shop, &[&till], &recorded, clock.today()).await;
}

/// Random work and many syncs through a proxy that misbehaves on a fifth of the requests;
/// then the faults stop, every device syncs, and everything converges.
async fn random_faults_then_convergence(backend: Backend, len: usize) {
    let seed = seed();
    let server = Server::start(backend).await;
    let proxy = Proxy::start(server.addr(), seed).await;
    let shop = server.shop("Boulangerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-03-02");
    let tills: Vec<Till> = ["till-1", "till-2", "owner-phone"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for t in &tills {
        t.enrol(&proxy.base_url(), &server.code(shop).await, &clock).await;
    }
    let tills: Vec<&Till> = tills.iter().collect();
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)));
    let work_ops = ops::ops(len..len + 1).new_tree(&mut runner).unwrap().current();

    proxy.set_faults(Faults {
        drop_response: 0.06,
        cut_response: 0.03,
        duplicate: 0.06,
        delay: 0.06,
        cut_request: 0.04,
        max_delay: Duration::from_millis(40),
    });
    let mut work = Shop::new(tills.clone(), &clock);
    work.syncs_may_fail = true;
    for (i, op) in work_ops.iter().enumerate() {
        work.apply(op).await;
        // More syncs than the random work has: faults are what this test is about.
        if i % 3 == 0 {
            work.apply(&ops::Op::Sync { d: i % tills.len() }).await;
        }
    }
    proxy.set_faults(Faults::NONE);
    proxy.settle().await;
    let stats = proxy.stats();
    eprintln!("{stats:?}; {} syncs failed; {} writes refused", work.failed_syncs, work.refused);
    // Which kinds a random run meets depends on the seed and the timing; each kind alone is
    // checked exactly in `each_fault_alone`. Here faults must have happened and hurt syncs.
    let faults = stats.dropped_responses + stats.duplicated + stats.cut_requests + stats.delayed + stats.cut_responses;
    assert!(faults >= 5, "{stats:?}");
    // Whether some sync failed outright depends on the timing: the client's retries absorb
    // most faults, which is the point. `each_fault_alone` checks the failures themselves.
    assert!(work.recorded.len() > 20, "too little work to mean anything: {}", work.recorded.len());

    sync_until_quiet(&tills, &clock).await;
    assert_converged(&server, shop, &tills, &work.recorded, clock.today()).await;
}

/// Polls `cond` (the tills run meanwhile); a bound, not a timing assertion: it only turns a
/// hang into a failure.
async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "waited two minutes for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in seed.to_le_bytes().iter().cycle().take(32).enumerate() {
        out[i] = b.wrapping_add(i as u8);
    }
    out
}

/// Three devices sell and sync without pause while the server is killed (every request in
/// flight dropped wherever it is) and restarted on the same database, three times.
async fn server_killed_mid_pushes(backend: Backend) {
    let mut server = Server::start(backend).await;
    let shop = server.shop("Quincaillerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-04-06");
    let tills: Vec<Till> = ["till-1", "till-2", "owner-phone"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for (i, t) in tills.iter().enumerate() {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
        let new = NewCustomer {
            reference: format!("C{i}"),
            name: format!("Client {i}"),
            terms: Terms::Net(30),
            ..Default::default()
        };
        t.with(|s| s.add_customer(new, clock.now())).unwrap();
    }
    let tills: Vec<&Till> = tills.iter().collect();
    sync_until_quiet(&tills, &clock).await;

    let ok = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let recorded = std::sync::Mutex::new(Vec::<Entry>::new());
    let worker = |i: usize| {
        let (ok, failed, done, recorded, clock) = (&ok, &failed, &done, &recorded, &clock);
        let till = tills[i];
        async move {
            let mut n = 0i64;
            while !done.load(Ordering::SeqCst) {
                n += 1;
                // Sell to every customer in turn, and now and then take a payment.
                let customer = format!("C{}", n % 3);
                let rec = till.with(|s| {
                    if n % 4 == 0 {
                        let pay = EntryRequest::Payment {
                            amount: Money::from_minor(500),
                            method: PaymentMethod::Cash,
                            invoice: None,
                        };
                        s.record(&customer, None, "Nino", pay, clock.now())
                    } else {
                        s.sell_on_account(sale(100 + n, &customer), clock.now())
                    }
                });
                recorded.lock().unwrap().push(rec.unwrap_or_else(|e| panic!("{}: {e}", till.name)).entry);
                match till.sync(clock).await {
                    Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                    Err(e) => {
                        assert!(matches!(e, Error::Sync { retryable: true, .. }), "{}: {e}", till.name);
                        failed.fetch_add(1, Ordering::SeqCst)
                    }
                };
                tokio::task::yield_now().await;
            }
        }
    };
    let controller = async {
        for cycle in 0..3 {
            let target = ok.load(Ordering::SeqCst) + 8;
            wait_for("syncs to succeed", || ok.load(Ordering::SeqCst) >= target).await;
            server.stop().await;
            // Let the tills knock on a closed door for a while before coming back.
            let target = failed.load(Ordering::SeqCst) + 6;
            wait_for("syncs to fail", || failed.load(Ordering::SeqCst) >= target).await;
            server.restart().await;
            eprintln!(
                "cycle {cycle}: {} syncs ok, {} failed",
                ok.load(Ordering::SeqCst),
                failed.load(Ordering::SeqCst)
            );
        }
        let target = ok.load(Ordering::SeqCst) + 8;
        wait_for("syncs to succeed after the last restart", || ok.load(Ordering::SeqCst) >= target).await;
        done.store(true, Ordering::SeqCst);
    };
    tokio::join!(worker(0), worker(1), worker(2), controller);
    assert!(failed.load(Ordering::SeqCst) >= 18, "the outages were felt by the tills");

    sync_until_quiet(&tills, &clock).await;
    let recorded = recorded.into_inner().unwrap();
    assert_converged(&server, shop, &tills, &recorded, clock.today()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_alone_on_sqlite() {
    each_fault_alone(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_alone_on_postgres() {
    each_fault_alone(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_then_convergence_on_sqlite() {
    random_faults_then_convergence(Backend::Sqlite, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_then_convergence_on_postgres() {
    random_faults_then_convergence(Backend::Postgres, 150).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_pushes_on_sqlite() {
    server_killed_mid_pushes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_pushes_on_postgres() {
    server_killed_mid_pushes(Backend::Postgres).await;
}
