//! A till's sales at a till's pace (issue 15): durable sales on account on a copy of the
//! generated shop, one every `ARDOISE_BENCH_PACE_MS` (default 150) rather than back to back,
//! with a bare 4 KiB append + `fdatasync` timed halfway between two sales on the same disk.
//! Back-to-back sales (`--bench shop`) measure what a busy writer pays, SQLite's checkpoints
//! included; a till sells with pauses, in which the store's own thread can do that copying.
//!
//! `cargo bench -p ardoise-core --bench till_pace`; `ARDOISE_BENCH_SALES` (default 600) sets
//! the number of timed sales. Prints one line per figure and writes
//! `target/bench-data/till-pace.json`.

#[path = "shop/dataset.rs"]
#[allow(dead_code)]
mod dataset;
#[path = "shop/latency.rs"]
#[allow(dead_code)]
mod latency;

use std::io::Write as _;
use std::time::{Duration, Instant};

use ardoise_core::{Money, SaleRequest, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use dataset::Size;
use latency::Latency;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = Size::from_env(if measuring { Size::FULL } else { Size::SMOKE });
    let number = |name: &str, default: u64| -> u64 {
        std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}"))).unwrap_or(default)
    };
    let sales = number("ARDOISE_BENCH_SALES", if measuring { 600 } else { 20 }) as usize;
    let pace = Duration::from_millis(number("ARDOISE_BENCH_PACE_MS", 150));
    let shop = dataset::ensure(size);

    let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
    let copy = dataset::synced_copy(&shop.path, dir.path());
    let store = Store::open(&copy).expect("open copy");
    let eligible = dataset::eligible_for_sale(&rusqlite::Connection::open(&copy).expect("open for the customers"));
    let mut rng = StdRng::seed_from_u64(13);
    let mut probe = std::fs::File::create(dir.path().join("fsync-probe")).expect("probe file");
    let page = [0x5au8; 4096];

    let mut sale_ns = Vec::with_capacity(sales);
    let mut floor_ns = Vec::with_capacity(sales);
    let warm = sales / 10;
    for k in 0..warm + sales {
        std::thread::sleep(pace / 2);
        let t = Instant::now();
        probe.write_all(&page).expect("append");
        probe.sync_data().expect("fdatasync");
        let floor = t.elapsed();
        std::thread::sleep(pace / 2);
        let req = SaleRequest {
            customer: eligible[k % eligible.len()].clone(),
            amount: Money::from_minor(rng.random_range(500..8_000)),
            date: None,
            invoice_ref: None,
            cashier: "Bench".into(),
            deposit: None,
        };
        let t = Instant::now();
        store.sell_on_account(req, dataset::now()).expect("sale allowed");
        let sale = t.elapsed();
        if k >= warm {
            sale_ns.push(sale.as_nanos() as u64);
            floor_ns.push(floor.as_nanos() as u64);
        }
    }
    drop(store);
    let sale = latency::from_samples("till_pace/sale_durable", sale_ns);
    let floor = latency::from_samples("till_pace/append_4k_fdatasync", floor_ns);
    eprintln!("{sale}\n{floor}");
    let ratio = |f: fn(&Latency) -> f64| f(&sale) / f(&floor);
    println!(
        "one sale every {} ms on {}: sale / floor p50 {:.2}x, mean {:.2}x, p99 {:.2}x",
        pace.as_millis(),
        size.label(),
        ratio(|l| l.p50),
        ratio(|l| l.mean),
        ratio(|l| l.p99)
    );
    let json = serde_json::json!({
        "shop": size.label(),
        "pace_ms": pace.as_millis() as u64,
        "latencies": [sale.to_json(), floor.to_json()],
        "sale_over_floor": { "p50": ratio(|l| l.p50), "mean": ratio(|l| l.mean), "p99": ratio(|l| l.p99) },
    });
    std::fs::write(dataset::data_dir().join("till-pace.json"), serde_json::to_string_pretty(&json).expect("json"))
        .expect("write till-pace.json");
}
