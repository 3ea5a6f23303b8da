//! The generated shop the benchmarks run on: customers with French names and two years of
//! ledger, built once from a seeded rng through the store's own ingest, and cached on disk.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ardoise_core::search::fold;
use ardoise_core::{Customer, CustomerKind, Entry, EntryBody, Money, Now, PaymentMethod, Store, Terms};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use uuid::Uuid;

const SEED: u64 = 0xA4D0_15E5;
/// Bumped whenever the generator changes, so a file cached by an older one is rebuilt.
const GENERATOR: i64 = 4;
/// One transaction per batch: large enough that commits do not dominate, small enough that
/// the WAL of one transaction stays a few hundred MB.
const BATCH: usize = 50_000;
/// History covers about two years before the dataset's "today".
const HISTORY_DAYS: u64 = 730;
/// The device every generated entry claims to come from (not the store's own device, so
/// sales recorded later by the bench never collide with these sequence numbers).
const SOURCE_DEVICE: Uuid = Uuid::from_u128(0x0a7d_0153_0000_4000_8000_0000_0000_0001);

/// How big a shop to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub customers: usize,
    pub entries: usize,
}

impl Size {
    pub const FULL: Size = Size { customers: 50_000, entries: 5_000_000 };
    /// What `cargo test --benches` runs on: the bench binary only has to work, not to measure.
    pub const SMOKE: Size = Size { customers: 200, entries: 10_000 };

    /// The size, unless `ARDOISE_BENCH_CUSTOMERS` / `ARDOISE_BENCH_ENTRIES` scale it.
    pub fn from_env(default: Size) -> Size {
        let var = |name: &str, d: usize| {
            std::env::var(name).ok().map(|v| v.replace('_', "").parse().expect(name)).unwrap_or(d)
        };
        Size {
            customers: var("ARDOISE_BENCH_CUSTOMERS", default.customers).max(1),
            entries: var("ARDOISE_BENCH_ENTRIES", default.entries),
        }
    }

    /// "50k-5m" for the full size: the cache file's name.
    pub fn label(self) -> String {
        fn short(n: usize) -> String {
            match n {
                n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
                n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
                n => n.to_string(),
            }
        }
        format!("{}-{}", short(self.customers), short(self.entries))
    }
}

/// How long building the cached file took, as recorded in it when it was built.
#[derive(Clone, Copy, Debug)]
pub struct Generation {
    pub customers_secs: f64,
    pub entries_secs: f64,
    pub total_secs: f64,
}

/// A complete generated shop on disk.
#[derive(Debug)]
pub struct Shop {
    pub path: PathBuf,
    pub size: Size,
    pub generation: Generation,
    pub file_bytes: u64,
}

/// The dataset's "today": every entry is dated before it.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date")
}

/// Mid-morning on that day at a French till.
pub fn now() -> Now {
    let paris = FixedOffset::east_opt(3600).expect("valid offset");
    paris.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single().expect("valid time")
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data")
}

/// The cached shop of this size, built first if it is missing or incomplete.
pub fn ensure(size: Size) -> Shop {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join(format!("shop-{}.db", size.label()));
    let generation = match read_marker(&path, size) {
        Some(g) => {
            eprintln!("dataset: reusing {} (built in {:.0} s)", path.display(), g.total_secs);
            g
        }
        None => build(&path, size),
    };
    let file_bytes = std::fs::metadata(&path).expect("dataset file").len();
    Shop { path, size, generation, file_bytes }
}

/// The generation figures if the file is complete: the marker row is written last, in its own
/// transaction, and only then is the file renamed into place.
fn read_marker(path: &Path, size: Size) -> Option<Generation> {
    if !path.exists() {
        return None;
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let row = conn
        .query_row(
            "SELECT customers, entries, customers_secs, entries_secs, total_secs FROM bench_dataset
             WHERE generator = ?1 AND seed = ?2",
            params![GENERATOR, SEED as i64],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .ok()??;
    let stored: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM entries", [], |r| r.get(0)).ok()?;
    let complete = row.0 as usize == size.customers && row.1 as usize == size.entries && stored == row.1;
    complete.then_some(Generation { customers_secs: row.2, entries_secs: row.3, total_secs: row.4 })
}

fn build(path: &Path, size: Size) -> Generation {
    let partial = path.with_extension("db.partial");
    for p in [path.to_path_buf(), partial.clone()] {
        for suffix in ["", "-wal", "-shm"] {
            let mut s = p.clone().into_os_string();
            s.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(s));
        }
    }
    eprintln!("dataset: building {} customers and {} entries in {}", size.customers, size.entries, partial.display());
    let mut rng = StdRng::seed_from_u64(SEED);
    let store = Store::open(&partial).expect("create dataset");
    let start = Instant::now();

    let counts = entries_per_customer(&mut rng, size);
    let profiles: Vec<Profile> = (0..size.customers).map(|i| Profile::new(&mut rng, i, counts[i])).collect();
    for (i, p) in profiles.iter().enumerate() {
        store.ingest_customer(&p.customer, at(p.since, 8 * 3600)).expect("ingest customer");
        if (i + 1) % 10_000 == 0 {
            eprintln!("dataset: {} customers ({:.0} s)", i + 1, start.elapsed().as_secs_f64());
        }
    }
    let customers_secs = start.elapsed().as_secs_f64();
    eprintln!(
        "dataset: {} customers in {customers_secs:.1} s ({:.0}/s, one transaction each)",
        size.customers,
        size.customers as f64 / customers_secs
    );

    let entries_start = Instant::now();
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH + 10_000);
    let mut seq = 1u64;
    let mut done = 0usize;
    let mut reported = 0usize;
    for (i, p) in profiles.iter().enumerate() {
        batch.extend(p.entries(&mut rng, i, &mut seq));
        if batch.len() >= BATCH || i + 1 == profiles.len() {
            done += store.ingest(&batch, now()).expect("ingest entries");
            batch.clear();
            if done - reported >= 500_000 || i + 1 == profiles.len() {
                reported = done;
                let secs = entries_start.elapsed().as_secs_f64();
                eprintln!("dataset: {done} entries ({secs:.0} s, {:.0} entries/s)", done as f64 / secs);
            }
        }
    }
    assert_eq!(done, size.entries, "the generator must emit exactly the requested entries");
    let entries_secs = entries_start.elapsed().as_secs_f64();
    drop(store);
    let total_secs = start.elapsed().as_secs_f64();
    let generation = Generation { customers_secs, entries_secs, total_secs };

    let conn = Connection::open(&partial).expect("reopen dataset");
    conn.execute_batch(
        "CREATE TABLE bench_dataset (generator INTEGER, seed INTEGER, customers INTEGER, entries INTEGER,
         customers_secs REAL, entries_secs REAL, total_secs REAL)",
    )
    .expect("marker table");
    conn.execute(
        "INSERT INTO bench_dataset VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            GENERATOR,
            SEED as i64,
            size.customers as i64,
            size.entries as i64,
            customers_secs,
            entries_secs,
            total_secs
        ],
    )
    .expect("marker row");
    // Leaves a single file behind: the WAL is checkpointed and removed when the last
    // connection closes.
    drop(conn);
    std::fs::rename(&partial, path).expect("move dataset into place");
    eprintln!(
        "dataset: built in {total_secs:.0} s (entries: {entries_secs:.0} s, {:.0} entries/s)",
        size.entries as f64 / entries_secs
    );
    generation
}

fn at(date: NaiveDate, secs: u32) -> Now {
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).expect("time of day");
    date.and_time(t).and_utc().fixed_offset()
}

fn utc(date: NaiveDate, secs: u32) -> DateTime<Utc> {
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).expect("time of day");
    date.and_time(t).and_utc()
}

/// A rough normal deviate: enough for a skewed spread of account activity.
fn normal(rng: &mut StdRng) -> f64 {
    (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0
}

/// Exactly `size.entries` spread log-normally: most accounts see some tens of entries, a few
/// businesses thousands, and a few new customers none yet.
fn entries_per_customer(rng: &mut StdRng, size: Size) -> Vec<usize> {
    let weights: Vec<f64> = (0..size.customers).map(|_| normal(rng).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights.iter().map(|w| (size.entries as f64 * w / total) as usize).collect();
    // Each count lost less than one to rounding down, so one more for the first few evens it out.
    let short = size.entries - counts.iter().sum::<usize>();
    for c in counts.iter_mut().take(short) {
        *c += 1;
    }
    counts
}

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Marie", "Jean", "Pierre", "Michel", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Philippe", "Françoise",
    "Alain", "Nicolas", "Christophe", "Stéphane", "Valérie", "Sandrine", "Laurent", "Céline", "Frédéric", "Hélène",
    "Éric", "Aurélie", "Sébastien", "Julien", "Émilie", "Camille", "Léa", "Chloé", "Manon", "Inès", "Thomas", "Lucas",
    "Hugo", "Théo", "Mathéo", "Noé", "Zoé", "Anaïs", "Maëlle", "Gaëlle", "Loïc", "Raphaël", "Jérôme", "Benoît",
    "Clément", "Noémie", "Élodie", "Cécile", "Agnès", "Geneviève", "Joël", "Noël", "Mélanie", "Jérémy", "Hervé",
    "André", "René", "Josiane", "Thérèse", "Margaux", "Océane", "Maëva", "Bérénice", "Gérard",
];

#[rustfmt::skip]
const LAST: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
    "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure",
    "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer",
    "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier",
    "Jean", "Pérez", "Marchand", "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt",
    "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc",
    "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Lacroix", "Fabre", "Dupuis",
    "Olivier", "Rodriguez", "Da Silva", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume",
    "Adam", "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Julien",
    "Benoît", "Paris", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet", "Collet",
    "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Carré", "Breton", "Rémy",
    "Schneider", "Perrot", "Guyot", "Barre", "Marty", "Cousin", "Bégué", "Lefebvre", "Dupré", "Besnard", "Hamon",
    "Le Goff", "Quéré", "Tessier", "Bouvier",
];

#[rustfmt::skip]
const TRADES: &[&str] = &[
    "Boulangerie", "Café", "Garage", "Restaurant", "Pharmacie", "Fleuriste", "Épicerie", "Brasserie", "Menuiserie",
    "Plomberie", "Salon", "Crèche", "Cave", "Traiteur", "SARL", "EURL",
];

/// Common names are much more common: rank r is drawn with weight 1 / (r + 5).
fn zipf<'a>(rng: &mut StdRng, names: &[&'a str]) -> &'a str {
    let total: f64 = (0..names.len()).map(|r| 1.0 / (r as f64 + 5.0)).sum();
    let mut x = rng.random::<f64>() * total;
    for (r, n) in names.iter().enumerate() {
        x -= 1.0 / (r as f64 + 5.0);
        if x <= 0.0 {
            return n;
        }
    }
    names[names.len() - 1]
}

/// How an account behaves, decided once per customer.
#[derive(Debug)]
struct Profile {
    customer: Customer,
    /// First day of activity.
    since: NaiveDate,
    entries: usize,
    /// Stops paying from this day on (about one customer in ten).
    defaults_from: Option<NaiveDate>,
}

impl Profile {
    fn new(rng: &mut StdRng, i: usize, entries: usize) -> Profile {
        let last_day = today() - Days::new(1);
        let business = rng.random_bool(0.08);
        let first = zipf(rng, FIRST);
        let last = if rng.random_bool(0.05) {
            format!("{}-{}", zipf(rng, LAST), zipf(rng, LAST))
        } else {
            zipf(rng, LAST).to_owned()
        };
        let name = if business {
            format!("{} {last}", TRADES[rng.random_range(0..TRADES.len())])
        } else {
            format!("{first} {last}")
        };
        let phone = rng.random_bool(0.85).then(|| {
            let n: u32 = rng.random_range(0..100_000_000);
            let d = format!("{n:08}");
            let mobile = if rng.random_bool(0.5) { '6' } else { '7' };
            if rng.random_bool(0.3) {
                format!("+33 {mobile} {} {} {} {}", &d[0..2], &d[2..4], &d[4..6], &d[6..8])
            } else {
                format!("0{mobile} {} {} {} {}", &d[0..2], &d[2..4], &d[4..6], &d[6..8])
            }
        });
        let email = rng.random_bool(0.4).then(|| {
            let local: String = fold(&name).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '.' }).collect();
            format!("{local}{}@exemple.fr", i % 97)
        });
        let terms = match rng.random_range(0..10) {
            0 => Terms::Net(15),
            1 => Terms::DaysThenEndOfMonth(45),
            2 => Terms::EndOfMonthThenDays(30),
            _ => Terms::Net(30),
        };
        // Half the accounts have their own limit; the shop sets no default, so the others
        // are limited only by overdue invoices.
        let credit_limit = rng.random_bool(0.5).then(|| Money::from_minor(rng.random_range(2..=40) * 5_000));
        let blocked = rng.random_bool(0.005).then(|| "chèque impayé".to_owned());
        let customer = Customer {
            id: uuid(rng),
            reference: format!("C{:06}", i + 1),
            name,
            email,
            phone,
            kind: if business { CustomerKind::Business } else { CustomerKind::Consumer },
            credit_limit,
            terms,
            blocked,
            consent_email: rng.random_bool(0.5),
            consent_sms: rng.random_bool(0.5),
            notes: String::new(),
            address: None,
            language: Default::default(),
            paperless_from: None,
        };
        let since = if rng.random_bool(0.7) {
            today() - Days::new(HISTORY_DAYS)
        } else {
            today() - Days::new(rng.random_range(20..HISTORY_DAYS))
        };
        let defaults_from = rng.random_bool(0.1).then(|| last_day - Days::new(rng.random_range(35..=240)));
        Profile { customer, since, entries, defaults_from }
    }

    /// The account's entries in fold order, so ingest folds each one incrementally. Sales are
    /// paid by their due date; a defaulting customer's later payments become unpaid sales.
    fn entries(&self, rng: &mut StdRng, i: usize, seq: &mut u64) -> Vec<Entry> {
        // A defaulter stops buying on account once the till refuses them, some weeks after
        // they stop paying; everyone else buys until yesterday.
        let last_day = match self.defaults_from {
            Some(cut) => (cut.max(self.since) + Days::new(rng.random_range(20..=45))).min(today() - Days::new(1)),
            None => today() - Days::new(1),
        };
        let span = (last_day - self.since).num_days() as u64;
        let terms = self.customer.terms;
        let mut planned: Vec<(NaiveDate, u32, EntryBody)> = Vec::with_capacity(self.entries);
        let mut invoice = 0u32;
        let mut sale = |rng: &mut StdRng, day: NaiveDate| {
            invoice += 1;
            let amount = Money::from_minor(((rng.random_range(5.7f64..9.6)).exp() / 10.0).round() as i64 * 10);
            let body = EntryBody::Sale {
                amount,
                invoice_ref: format!("F{:06}-{invoice:05}", i + 1),
                due_on: terms.due_date(day),
                override_id: None,
            };
            (amount, body, invoice)
        };
        let pick_secs = |rng: &mut StdRng| rng.random_range(8 * 3600..19 * 3600);
        // A recent sale whose due date is still to come, on every kind of terms.
        let recent = |rng: &mut StdRng| (last_day - Days::new(rng.random_range(0..=10))).max(self.since);
        let mut left = self.entries;
        while left > 0 {
            let day = self.since + Days::new(rng.random_range(0..=span));
            let secs = pick_secs(rng);
            if left == 1 {
                let d = recent(rng);
                planned.push((d, pick_secs(rng), sale(rng, d).1));
                left -= 1;
            } else if left >= 3 && day > self.since && rng.random_bool(0.02) {
                // A deposit taken on an order, used when the order is collected.
                let before = rng.random_range(1..=(day - self.since).num_days().min(30)) as u64;
                let (amount, body, n) = sale(rng, day);
                let method = method(rng);
                planned.push((
                    day - Days::new(before),
                    pick_secs(rng),
                    EntryBody::DepositReceived { amount, method, order_ref: Some(format!("CMD-{:06}-{n}", i + 1)) },
                ));
                planned.push((day, secs, body));
                planned.push((day, secs + 60, EntryBody::DepositApplied { amount, invoice: None }));
                left -= 3;
            } else {
                let (amount, body, _) = sale(rng, day);
                planned.push((day, secs, body));
                let due = terms.due_date(day);
                let pay_day = day + Days::new(rng.random_range(0..=(due - day).num_days()) as u64);
                let pay_secs = if pay_day == day { secs + rng.random_range(60..3600) } else { pick_secs(rng) };
                if self.defaults_from.is_some_and(|cut| pay_day >= cut) {
                    let cut = self.defaults_from.unwrap_or(last_day).max(self.since);
                    let d = cut + Days::new(rng.random_range(0..=(last_day - cut).num_days()) as u64);
                    planned.push((d, pick_secs(rng), sale(rng, d).1));
                } else if pay_day > last_day {
                    // Not paid yet: another sale instead, still within its terms.
                    let d = recent(rng);
                    planned.push((d, pick_secs(rng), sale(rng, d).1));
                } else {
                    planned.push((
                        pay_day,
                        pay_secs,
                        EntryBody::Payment { amount, method: method(rng), invoice: None },
                    ));
                }
                left -= 2;
            }
        }
        // Stable: a deposit's sale and its use share a day and keep their order.
        planned.sort_by_key(|(d, s, _)| (*d, *s));
        planned
            .into_iter()
            .map(|(date, secs, body)| {
                let recorded_at = utc(date, secs);
                let e = Entry {
                    id: time_ordered(rng, recorded_at),
                    device_id: SOURCE_DEVICE,
                    device_seq: *seq,
                    customer: self.customer.id,
                    business_date: date,
                    recorded_at,
                    cashier: CASHIERS[*seq as usize % CASHIERS.len()].to_owned(),
                    body,
                };
                *seq += 1;
                e
            })
            .collect()
    }
}

const CASHIERS: &[&str] = &["Anna", "Samir", "Lucie"];

fn method(rng: &mut StdRng) -> PaymentMethod {
    match rng.random_range(0..10) {
        0..=3 => PaymentMethod::Card,
        4..=6 => PaymentMethod::Cash,
        7..=8 => PaymentMethod::Cheque,
        _ => PaymentMethod::Transfer,
    }
}

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// A UUIDv7 from the moment the entry was typed in, as tills now number their entries, with
/// the seeded rng's bits so the shop stays reproducible.
fn time_ordered(rng: &mut StdRng, at: DateTime<Utc>) -> Uuid {
    let ms = u64::try_from(at.timestamp_millis()).expect("after 1970");
    uuid::Builder::from_unix_timestamp_millis(ms, &rng.random()).into_uuid()
}

/// A copy of the shop at `from` in `dir` (a folder beside the cache, on the same disk), synced:
/// writes never grow the cache, fsync costs what it costs there, and nothing timed waits for
/// the kernel to write the gigabytes of the copy out.
pub fn synced_copy(from: &Path, dir: &Path) -> PathBuf {
    let copy = dir.join("shop.db");
    std::fs::copy(from, &copy).expect("copy the shop");
    std::fs::File::open(&copy).and_then(|f| f.sync_all()).expect("sync the copy");
    copy
}

/// Customers a sale on account is always allowed for (no limit, not blocked, nothing overdue),
/// 2,000 of them shuffled: sales go to many in turn, so no account piles up open invoices.
pub fn eligible_for_sale(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT c.reference FROM customers c JOIN accounts a ON a.customer_id = c.id
             WHERE c.credit_limit IS NULL AND c.blocked IS NULL AND (a.oldest_due IS NULL OR a.oldest_due >= ?1)",
        )
        .expect("prepare");
    let rows = stmt.query_map([today().to_string()], |r| r.get(0)).expect("eligible");
    let mut eligible: Vec<String> = rows.collect::<Result<_, _>>().expect("eligible rows");
    eligible.shuffle(&mut StdRng::seed_from_u64(11));
    eligible.truncate(2_000);
    eligible
}
