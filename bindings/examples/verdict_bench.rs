//! The checkout verdict through the bindings' `Till::check`, called from Rust: the figure the
//! Swift bench (`ios/bench`, the same loop over the same customers) is compared with, so the
//! ratio is what the FFI adds. Built with the release profile, as the library Swift loads.
//! `ios/run-linux-bench.sh` runs both, alternately, on one shop:
//!   cargo run --release -p ardoise-bindings --example verdict_bench -- DB NOW [CALLS]

use std::time::Instant;

use ardoise::Till;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(db), Some(now)) = (args.first(), args.get(1)) else {
        eprintln!("usage: verdict_bench DB NOW [CALLS]");
        std::process::exit(2);
    };
    let calls: usize = args.get(2).map_or(100_000, |c| c.parse().expect("CALLS"));
    let till = Till::open(db.clone()).expect("open the shop");
    let refs = customers(&till);
    // The picks of ios/bench: customer (i * 7919) mod n, the same in both languages.
    let pick = |i: usize| refs[(i * 7919) % refs.len()].clone();
    // The strings are parsed in the loop, as the FFI lifts them for Swift.
    let call = |customer: String| {
        let cart = "25.00".parse().expect("amount");
        till.check(customer, cart, now.parse().expect("NOW: RFC 3339")).expect("verdict")
    };
    let now_ts: chrono::DateTime<chrono::FixedOffset> = now.parse().expect("NOW: RFC 3339");
    let (now_ms, offset) = (now_ts.timestamp_millis(), now_ts.offset().local_minus_utc() / 60);
    // The integer form of the same call (`check_minor`), the one a till's hot path uses.
    let call_minor = |customer: String| till.check_minor(customer, 2_500, now_ms, offset).expect("verdict");
    time("rust_till_check", calls, refs.len(), |i| call(pick(i)));
    time("rust_till_check_minor", calls, refs.len(), |i| call_minor(pick(i)));
}

/// Warms up, then times `calls` single calls of `f(i)` and prints p50, p99 and the mean in µs.
fn time<T>(name: &str, calls: usize, customers: usize, f: impl Fn(usize) -> T) {
    for i in 0..20_000 {
        std::hint::black_box(f(i));
    }
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let t0 = Instant::now();
        std::hint::black_box(f(i));
        times.push(t0.elapsed().as_nanos() as f64 / 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "{name} calls={calls} customers={customers} p50_us={:.2} p99_us={:.2} mean_us={mean:.2}",
        at(0.50),
        at(0.99)
    );
}

/// The first 5,000 customers in the store's order, as the Kotlin and Swift benches take them.
fn customers(till: &Till) -> Vec<String> {
    let mut refs = Vec::new();
    while refs.len() < 5_000 {
        let page = till.list_customers(1_000, refs.len() as u32).expect("list customers");
        if page.is_empty() {
            break;
        }
        refs.extend(page.into_iter().map(|c| c.reference));
    }
    assert!(!refs.is_empty(), "the shop has no customer");
    refs
}
