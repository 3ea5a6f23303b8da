//! Percentiles of single calls: criterion reports means and medians, the issue asks for p99.

use std::fmt;
use std::time::Instant;

use serde_json::json;

/// The spread of one operation's latency over many single, individually timed calls.
#[derive(Clone, Debug)]
pub struct Latency {
    pub name: String,
    pub samples: usize,
    /// Nanoseconds, like every figure below.
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// Times `samples` calls of `f(k)` one by one, after a tenth as many untimed calls so the
/// statement cache and the page cache are warm, as at a till that has been open a while.
pub fn measure(name: &str, samples: usize, mut f: impl FnMut(usize)) -> Latency {
    let warm = (samples / 10).max(1);
    for k in 0..warm {
        f(samples + k);
    }
    let mut ns: Vec<u64> = Vec::with_capacity(samples);
    for k in 0..samples {
        let t = Instant::now();
        f(k);
        ns.push(t.elapsed().as_nanos() as u64);
    }
    from_samples(name, ns)
}

/// The spread of calls timed elsewhere (nanoseconds each).
pub fn from_samples(name: &str, mut ns: Vec<u64>) -> Latency {
    let samples = ns.len();
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1] as f64;
    let sum: u64 = ns.iter().sum();
    Latency {
        name: name.to_owned(),
        samples,
        mean: sum as f64 / samples as f64,
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        p999: at(0.999),
        max: ns[ns.len() - 1] as f64,
    }
}

impl Latency {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name, "samples": self.samples, "mean_ns": self.mean, "p50_ns": self.p50,
            "p90_ns": self.p90, "p99_ns": self.p99, "p999_ns": self.p999, "max_ns": self.max,
        })
    }
}

/// Picks the unit that keeps three significant digits readable.
pub fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<36} n={:<7} mean {:>9}  p50 {:>9}  p90 {:>9}  p99 {:>9}  p99.9 {:>9}  max {:>9}",
            self.name,
            self.samples,
            human(self.mean),
            human(self.p50),
            human(self.p90),
            human(self.p99),
            human(self.p999),
            human(self.max)
        )
    }
}
