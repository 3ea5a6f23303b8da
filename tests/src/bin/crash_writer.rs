//! A till that never stops writing: the crash test kills it with SIGKILL at random moments.
//!
//! Usage: `ardoise-crash-writer DB START_SEQ`. It prints the id of each entry once its
//! transaction has committed, so every id printed must survive the kill.

use std::io::Write;

use ardoise_core::{EntryRequest, Money, NewCustomer, PaymentMethod, SaleRequest, Store, Terms};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(start)) = (args.next(), args.next()) else {
        eprintln!("usage: ardoise-crash-writer DB START");
        std::process::exit(2);
    };
    let start: u64 = start.parse().unwrap_or(0);
    let store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("open failed: {e}");
            std::process::exit(3);
        }
    };
    let now = || chrono::Local::now().fixed_offset();
    let customers = ["K1", "K2", "K3", "K4"];
    for c in customers {
        if store.customer(c).is_err() {
            let new = NewCustomer {
                reference: c.into(),
                name: format!("Crash {c}"),
                terms: Terms::Net(30),
                ..Default::default()
            };
            store.add_customer(new, now()).expect("add customer");
        }
    }
    let mut out = std::io::stdout().lock();
    for n in start.. {
        let c = customers[(n % 4) as usize];
        let cents = 100 + (n * 37 % 5000) as i64;
        let recorded = if n % 3 == 2 {
            let req = EntryRequest::Payment {
                amount: Money::from_minor(cents / 2),
                method: PaymentMethod::Cash,
                invoice: None,
            };
            store.record(c, None, "crash", req, now())
        } else {
            let req = SaleRequest {
                customer: c.into(),
                amount: Money::from_minor(cents),
                date: None,
                invoice_ref: None,
                cashier: "crash".into(),
                deposit: None,
            };
            store.sell_on_account(req, now())
        };
        match recorded {
            Ok(r) => {
                // Printed only after commit: the parent counts on it.
                if writeln!(out, "{}", r.entry.id).and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
            Err(e) => {
                eprintln!("write failed: {e}");
                std::process::exit(4);
            }
        }
    }
}
