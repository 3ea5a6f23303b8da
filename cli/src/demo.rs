//! `ardoise demo`: a French shop with eight weeks of history, then one day at the till, told.

mod reminders;
mod sync;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use ardoise_core::{
    AccountSummary, CheckoutRules, CustomerKind, Decision, EntryBody, EntryRequest, Error, Money, NewCustomer, Now,
    PaymentMethod, Reason, Recorded, SaleRequest, ShopSettings, Store, Verdict,
};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::output::{self, Failure, RecordedJson, VerdictJson};
use crate::till::{self, Ctx, When};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the shop's history: the same seed tells the same story
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    when: When,
}

/// How a customer pays their slate, which is what makes an account healthy or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Habit {
    /// Settles the whole balance every N days.
    Settles(u64),
    /// Pays each invoice before it is due.
    OnTime,
    /// Pays each invoice 3 to 12 days after it is due.
    Late,
    /// Settled every week until N days ago, then stopped paying.
    Stopped(u64),
    /// Limit 0: pays cash or with deposits, never on account.
    DepositsOnly,
    /// Bought one catering order on receipt, promised on the phone to pay, never did: the
    /// formal notice of the day's reminders.
    Defaulted,
}

const BUSINESS: CustomerKind = CustomerKind::Business;
const CONSUMER: CustomerKind = CustomerKind::Consumer;
/// The town hall buys on account too, under the public buyers' rules (R2192-31).
const PUBLIC: CustomerKind = CustomerKind::Public;

/// The shop's customers: name, kind (business, consumer or public buyer), terms, habit.
const CUSTOMERS: [(&str, CustomerKind, &str, Habit); 36] = [
    ("Hélène Dupré", CONSUMER, "30", Habit::Settles(14)),
    ("Jean-Michel Lefèvre", CONSUMER, "receipt", Habit::Stopped(46)),
    ("Françoise Gérard", CONSUMER, "30", Habit::Late),
    ("Amélie Rousseau", CONSUMER, "30", Habit::Settles(7)),
    ("Noël Caron", CONSUMER, "receipt", Habit::Stopped(38)),
    ("Zoé Lemaître", CONSUMER, "30", Habit::Settles(10)),
    ("Benoît Faure", CONSUMER, "30", Habit::Late),
    ("Cécile Mercier", CONSUMER, "30", Habit::OnTime),
    ("Jérôme Chevalier", CONSUMER, "receipt", Habit::Settles(7)),
    ("Léa Fontaine", CONSUMER, "30", Habit::Settles(14)),
    ("Maëlle Girard", CONSUMER, "30", Habit::OnTime),
    ("Raphaël Bonnet", CONSUMER, "30", Habit::Settles(21)),
    ("Élodie Lambert", CONSUMER, "receipt", Habit::DepositsOnly),
    ("Stéphane Roux", CONSUMER, "30", Habit::Late),
    ("Agnès Perrin", CONSUMER, "30", Habit::Settles(14)),
    ("Grégoire Masson", CONSUMER, "30", Habit::Settles(10)),
    ("Inès Barbier", CONSUMER, "30", Habit::OnTime),
    ("Thérèse Morel", CONSUMER, "30", Habit::Settles(7)),
    ("Loïc Garnier", CONSUMER, "receipt", Habit::Stopped(33)),
    ("Mélanie André", CONSUMER, "30", Habit::Settles(14)),
    ("Frédéric Blanc", CONSUMER, "30", Habit::OnTime),
    ("Anaïs Guérin", CONSUMER, "receipt", Habit::DepositsOnly),
    ("Josée Muller", CONSUMER, "30", Habit::Settles(14)),
    ("Rémi Fabre", CONSUMER, "30", Habit::Settles(10)),
    ("Solène Brunet", CONSUMER, "30", Habit::OnTime),
    ("Hervé Picard", CONSUMER, "30", Habit::Settles(21)),
    ("Boulangerie Martin", BUSINESS, "45eom", Habit::OnTime),
    ("Café de la Gare", BUSINESS, "30", Habit::Late),
    ("Hôtel du Lac", BUSINESS, "eom45", Habit::OnTime),
    ("Restaurant Le Rivage", BUSINESS, "receipt", Habit::Defaulted),
    ("Crèche Les Petits Loups", BUSINESS, "30", Habit::OnTime),
    ("Mairie de Saint-Rémy", PUBLIC, "30", Habit::OnTime),
    ("Épicerie Bio Dubois", BUSINESS, "eom45", Habit::Settles(28)),
    ("Traiteur Lebœuf", BUSINESS, "30", Habit::Late),
    ("École Sainte-Thérèse", BUSINESS, "45eom", Habit::OnTime),
    ("Garage Moreau", BUSINESS, "30", Habit::Settles(28)),
];

const HISTORY_DAYS: u64 = 56;
/// Where formal notices go: a letter needs an address, so a few customers have one.
const ADDRESSES: [(&str, &str); 4] = [
    ("Restaurant Le Rivage", "8 quai du Lac, 13210 Saint-Rémy-de-Provence"),
    ("Café de la Gare", "1 avenue de la Gare, 13210 Saint-Rémy-de-Provence"),
    ("Jean-Michel Lefèvre", "14 rue des Écoles, 13210 Saint-Rémy-de-Provence"),
    ("Cécile Mercier", "3 chemin des Oliviers, 13210 Saint-Rémy-de-Provence"),
];
/// The typical basket of the day's three checkouts.
const BASKET: Money = Money::from_minor(30_00);
const MANAGER: &str = "Sophie Marchand";

/// Tells the story on stdout, or keeps quiet when the result goes out as JSON.
#[derive(Debug)]
struct Teller {
    quiet: bool,
}

impl Teller {
    fn say(&self, text: impl AsRef<str>) {
        if !self.quiet {
            output::emit(text.as_ref());
        }
    }
}

#[derive(Debug)]
struct Shop {
    store: Store,
    rng: StdRng,
    refs: Vec<String>,
    habits: Vec<Habit>,
    balances: HashMap<String, Money>,
    cashier: String,
}

#[derive(Debug, Default)]
struct Tally {
    sales: u32,
    refused: u32,
    payments: u32,
    deposits: u32,
}

pub fn run(ctx: &Ctx, a: DemoArgs) -> Result<(), Failure> {
    let today = a.when.today()?;
    let teller = Teller { quiet: ctx.json };
    let (path, temporary) = match &ctx.db {
        Some(p) => (p.clone(), false),
        None => (temp_db()?, true),
    };
    let store = Store::open(&path)?;
    let existing = store.customer_count()?;
    if existing > 0 {
        return Err(Failure::new(
            "not_empty",
            format!("the demo needs an empty database; {} already has {existing} customers", path.display()),
        ));
    }
    let mut shop = Shop {
        store,
        rng: StdRng::seed_from_u64(a.seed),
        refs: Vec::new(),
        habits: Vec::new(),
        balances: HashMap::new(),
        cashier: ctx.cashier.clone(),
    };
    teller.say(format!("Ardoise demo — Épicerie du Marché, Saint-Rémy (seed {})", a.seed));
    if temporary {
        teller.say(format!(
            "Database: {} (temporary, kept: explore it with `ardoise --db {} customer list`)",
            path.display(),
            path.display()
        ));
    } else {
        teller.say(format!("Database: {}", path.display()));
    }
    let start = today - Days::new(HISTORY_DAYS);
    shop.open_shop(start)?;
    let tally = shop.history(start, today)?;
    teller.say(format!(
        "\nEight weeks of history, {start} to {}: {} customers, {} sales on account, {} payments, {} deposits.\n\
         {} sales on account were refused at the till along the way (paid cash or card instead).",
        today.pred_opt().unwrap_or(today),
        shop.refs.len(),
        tally.sales,
        tally.payments,
        tally.deposits,
        tally.refused
    ));
    let mut story = shop.today(today, &teller)?;
    let customers = shop.refs.len();
    story["sync"] = sync::evening(shop.store, &path, today, &teller)?;
    if ctx.json {
        story["db"] = json!(path.display().to_string());
        story["temporary"] = json!(temporary);
        story["today"] = json!(today);
        story["seed"] = json!(a.seed);
        story["history"] = json!({
            "from": start, "customers": customers, "sales": tally.sales,
            "refused": tally.refused, "payments": tally.payments, "deposits": tally.deposits,
        });
        return output::print_json(&story);
    }
    Ok(())
}

/// A fresh directory that outlives the demo, so the shop can be explored afterwards.
fn temp_db() -> Result<PathBuf, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("ardoise-demo-")
        .tempdir()
        .map_err(|e| Failure::new("io", format!("could not create a temporary directory: {e}")))?;
    Ok(dir.keep().join("ardoise.db"))
}

/// `minute` may run past 59: a busy morning's entries stay in the order they were typed.
fn at(date: NaiveDate, hour: u32, minute: u32) -> Now {
    let secs = (hour * 60 + minute) * 60;
    till::local_at(date, NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0).unwrap_or_default())
}

fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

/// "Hélène Dupré" -> "helene.dupre": the ASCII a mailbox would use.
fn mailbox(name: &str, sep: &str) -> String {
    // The fold drops what is not a letter with an accent; "Lebœuf" should still read "leboeuf".
    let folded = ardoise_core::search::fold(&name.replace('œ', "oe"));
    folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(sep)
}

impl Shop {
    fn open_shop(&mut self, start: NaiveDate) -> Result<(), Failure> {
        let now = at(start, 8, 0);
        let settings = ShopSettings {
            shop_name: "Épicerie du Marché".into(),
            shop_phone: "04 90 92 12 34".into(),
            shop_email: "bonjour@epicerie-du-marche.fr".into(),
            shop_address: "12 place de la République, 13210 Saint-Rémy-de-Provence".into(),
            payment_url: Some("https://pay.epicerie-du-marche.fr/{customer_ref}?amount={amount}".into()),
            // Its formal notices and court files can then be written (`reminders pdf`).
            identity: ardoise_core::identity::sample(),
            checkout: CheckoutRules::default(),
            ..Default::default()
        };
        self.store.set_settings(settings, now)?;
        for (i, (name, kind, terms, habit)) in CUSTOMERS.iter().enumerate() {
            let business = &(*kind != CONSUMER);
            let rng = &mut self.rng;
            let limit = match habit {
                Habit::DepositsOnly => 0,
                _ if *business => [600, 800, 1000][rng.random_range(0..3)],
                _ => [100, 150, 200, 250, 300, 400][rng.random_range(0..6)],
            };
            // Room for the invoice she forgets, whatever the seed drew.
            let limit = if *name == reminders::FORGETFUL { limit.max(300) } else { limit };
            let mobile = if *business { 4 } else { 6 + rng.random_range(0..2) };
            let phone = format!(
                "+33 {mobile} {:02} {:02} {:02} {:02}",
                rng.random_range(0..100),
                rng.random_range(0..100),
                rng.random_range(0..100),
                rng.random_range(0..100)
            );
            // The forgotten invoice of the day's reminders goes by email, whatever the seed.
            let email = match (*business, rng.random_bool(0.8) || *name == reminders::FORGETFUL) {
                (true, _) => Some(format!("contact@{}.fr", mailbox(name, "-"))),
                (false, true) => Some(format!("{}@exemple.fr", mailbox(name, "."))),
                (false, false) => None,
            };
            let address = ADDRESSES.iter().find(|(n, _)| n == name).map(|(_, a)| (*a).to_owned());
            let reference = format!("C{:03}", i + 1);
            let email_known = email.is_some();
            self.store.add_customer(
                NewCustomer {
                    reference: reference.clone(),
                    name: (*name).into(),
                    email,
                    phone: Some(phone),
                    kind: *kind,
                    credit_limit: Some(Money::from_minor(limit * 100)),
                    terms: terms.parse()?,
                    consent_email: email_known,
                    consent_sms: !business,
                    address,
                    ..Default::default()
                },
                now,
            )?;
            self.refs.push(reference);
            self.habits.push(*habit);
        }
        Ok(())
    }

    /// Day by day until yesterday: the morning's payments, then the day's sales on account,
    /// each sold only if the till's verdict lets it through.
    fn history(&mut self, start: NaiveDate, today: NaiveDate) -> Result<Tally, Failure> {
        let mut tally = Tally::default();
        // Payments planned per day: (customer index, amount, the invoice it pays).
        let mut due: BTreeMap<NaiveDate, Vec<(usize, Money, String)>> = BTreeMap::new();
        let offsets: Vec<u64> = self.habits.iter().map(|_| self.rng.random_range(0..7)).collect();
        let mut day = start;
        // Counted in opening days, so "every 7 days" does not fall on the closed Sunday forever.
        let mut n: u64 = 0;
        while day < today {
            if day.weekday() == Weekday::Sun {
                // Open on Sunday morning for orders only: deposits, no sales on account (but the
                // story's two scripted orders are picked up whatever the day).
                tally.deposits += self.history_deposits(day, today)?;
                tally.sales += self.scripted_sales(day, today)?;
                day = add_days(day, 1);
                continue;
            }
            n += 1;
            // The back office runs the reminders first thing, before the till opens.
            self.reminder_round(day, today)?;
            let mut minute = 0;
            let mut next_time = || {
                minute += 1;
                minute
            };
            // Morning: what is owed gets paid, including what was promised for the closed Sunday.
            while let Some(promised) = due.first_entry().filter(|e| *e.key() <= day) {
                for (i, amount, invoice) in promised.remove() {
                    self.pay_invoice(i, amount, &invoice, day, at(day, 9, next_time()))?;
                    tally.payments += 1;
                }
            }
            for (i, offset) in offsets.iter().enumerate() {
                let settle_day = match self.habits[i] {
                    Habit::Settles(every) => (n + offset) % every == 0,
                    Habit::Stopped(ago) => (n + offset) % 7 == 0 && add_days(day, ago) < today,
                    _ => false,
                };
                let owed = self.balances.get(&self.refs[i]).copied().unwrap_or_default();
                if settle_day && owed.is_positive() {
                    self.pay(i, owed, day, at(day, 9, next_time()))?;
                    tally.payments += 1;
                }
            }
            // The day's baskets on account.
            for (i, &(_, kind, _, _)) in CUSTOMERS.iter().enumerate() {
                let business = kind != CONSUMER;
                let buys = self.rng.random_bool(if business { 0.25 } else { 0.22 });
                let cents =
                    if business { self.rng.random_range(2_000..12_000) } else { self.rng.random_range(380..4_800) };
                if !buys || self.habits[i] == Habit::Defaulted {
                    continue;
                }
                let now = at(day, 9, next_time());
                match self.sell(i, Money::from_minor(cents), day, now, None, None) {
                    Ok(rec) => {
                        tally.sales += 1;
                        self.promise(&mut due, i, &rec, today);
                    }
                    Err(Error::Refused(_)) => tally.refused += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            tally.deposits += self.history_deposits(day, today)?;
            tally.sales += self.scripted_sales(day, today)?;
            day = add_days(day, 1);
        }
        Ok(tally)
    }

    /// When (if ever) the customer will pay the invoice just sold, by their habit.
    fn promise(
        &mut self,
        due: &mut BTreeMap<NaiveDate, Vec<(usize, Money, String)>>,
        i: usize,
        rec: &Recorded,
        today: NaiveDate,
    ) {
        let EntryBody::Sale { amount, due_on, invoice_ref, .. } = &rec.entry.body else { return };
        let issued = rec.entry.business_date;
        let pay_on = match self.habits[i] {
            Habit::OnTime => {
                let span = (*due_on - issued).num_days().max(0) as u64;
                add_days(issued, self.rng.random_range(0..=span))
            }
            Habit::Late => add_days(*due_on, self.rng.random_range(3..=12)),
            _ => return,
        };
        // Not the day of the sale (the morning's payments come before it), and not on the closed
        // Sunday, which would push an on-time payment past its due date.
        let mut pay_on = pay_on.max(add_days(issued, 1));
        if pay_on.weekday() == Weekday::Sun && self.habits[i] == Habit::OnTime {
            pay_on = pay_on.pred_opt().filter(|d| *d > issued).unwrap_or(pay_on);
        }
        if pay_on < today {
            due.entry(pay_on).or_default().push((i, *amount, invoice_ref.clone()));
        }
    }

    /// A few deposits along the way: a cake picked up three days later, a banquet and a
    /// hamper still to come.
    fn history_deposits(&mut self, day: NaiveDate, today: NaiveDate) -> Result<u32, Failure> {
        let ago = (today - day).num_days();
        let taken = match ago {
            18 => Some((9, "25.00", "GATEAU-0418", PaymentMethod::Card)),
            9 => Some((28, "150.00", "BANQUET-0612", PaymentMethod::Transfer)),
            4 => Some((12, "30.00", "PANIER-0703", PaymentMethod::Cash)),
            _ => None,
        };
        let mut count = 0;
        if let Some((i, amount, order, method)) = taken {
            let req = EntryRequest::DepositTake { amount: money(amount), method, order_ref: Some(order.into()) };
            self.record(i, req, day, at(day, 17, 0))?;
            count += 1;
        }
        if ago == 15 {
            // The cake is picked up: sold on account, and the deposit settles part of it.
            let now = at(day, 16, 30);
            let _ = self.sell(9, money("52.00"), day, now, Some("GATEAU-0418"), Some(money("25.00")));
        }
        Ok(count)
    }

    fn sell(
        &mut self,
        i: usize,
        amount: Money,
        day: NaiveDate,
        now: Now,
        invoice_ref: Option<&str>,
        deposit: Option<Money>,
    ) -> Result<Recorded, Error> {
        let req = SaleRequest {
            customer: self.refs[i].clone(),
            amount,
            date: Some(day),
            invoice_ref: invoice_ref.map(str::to_owned),
            cashier: self.cashier.clone(),
            deposit,
        };
        let rec = self.store.sell_on_account(req, now)?;
        self.balances.insert(self.refs[i].clone(), rec.balance);
        Ok(rec)
    }

    fn pay(&mut self, i: usize, amount: Money, day: NaiveDate, now: Now) -> Result<Recorded, Failure> {
        let method = [PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Cheque][self.rng.random_range(0..3)];
        self.record(i, EntryRequest::Payment { amount, method, invoice: None }, day, now)
    }

    /// Customers who pay invoice by invoice name the one they pay, so an invoice they forgot
    /// stays unpaid instead of soaking up the next payment.
    fn pay_invoice(
        &mut self,
        i: usize,
        amount: Money,
        invoice: &str,
        day: NaiveDate,
        now: Now,
    ) -> Result<Recorded, Failure> {
        let method = [PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Cheque][self.rng.random_range(0..3)];
        let req = EntryRequest::Payment { amount, method, invoice: Some(invoice.to_owned()) };
        self.record(i, req, day, now)
    }

    fn record(&mut self, i: usize, req: EntryRequest, day: NaiveDate, now: Now) -> Result<Recorded, Failure> {
        let rec = self.store.record(&self.refs[i], Some(day), &self.cashier, req, now)?;
        self.balances.insert(self.refs[i].clone(), rec.balance);
        Ok(rec)
    }

    fn name(&self, i: usize) -> String {
        format!("{} ({})", CUSTOMERS[i].0, self.refs[i])
    }

    /// The first customer (not in `skip`) whose verdict for `amount` passes `pick`.
    fn find(
        &self,
        amount: Money,
        now: Now,
        skip: &[usize],
        pick: impl Fn(&Verdict) -> bool,
    ) -> Result<Option<(usize, Verdict)>, Failure> {
        for i in (0..self.refs.len()).filter(|i| !skip.contains(i)) {
            let v = self.store.check(&self.refs[i], amount, now)?;
            if pick(&v) {
                return Ok(Some((i, v)));
            }
        }
        Ok(None)
    }

    /// Today at the till, told step by step. Returns the same story as JSON.
    fn today(&mut self, today: NaiveDate, t: &Teller) -> Result<Value, Failure> {
        let mut story = json!({});
        let clean = |v: &Verdict| v.decision == Decision::Allow && v.reasons.is_empty();

        // 1. A regular buys on account.
        let basket = money("23.40");
        let now = at(today, 9, 12);
        t.say(format!("\n== Today, {today} ==\n\n1. A sale on account"));
        let Some((good, _)) = self.find(basket, now, &[], clean)? else {
            return Err(Failure::new("demo", "no customer in good standing to sell to"));
        };
        let rec = self.sell(good, basket, today, now, None, None)?;
        t.say(format!(
            "{} buys {basket} EUR of groceries on account ({}).\n{}",
            self.name(good),
            invoice_text(&rec),
            output::balance_line(rec.balance, rec.deposits)
        ));
        story["sale"] = json!(RecordedJson::new(&rec));

        // 2. A cake ordered three days ago with a deposit, picked up today.
        let cake = money("38.00");
        let deposit = money("15.00");
        let now = at(today, 10, 40);
        let Some((baker, _)) = self.find(cake, now, &[good], clean)? else {
            return Err(Failure::new("demo", "no customer in good standing to order a cake"));
        };
        let ordered = today - Days::new(3);
        let order = format!("GATEAU-{}", 1000 + self.rng.random_range(0..9000));
        let take =
            EntryRequest::DepositTake { amount: deposit, method: PaymentMethod::Cash, order_ref: Some(order.clone()) };
        let taken = self.record(baker, take, ordered, at(ordered, 17, 45))?;
        t.say(format!(
            "\n2. A deposit taken, then used\nOn {ordered}, {} ordered a birthday cake ({order}) and left a {deposit} EUR deposit in cash.\n{}",
            self.name(baker),
            output::balance_line(taken.balance, taken.deposits)
        ));
        // One sale: the deposit pays its part and only the rest goes on account.
        let sold = self.sell(baker, cake, today, now, None, Some(deposit))?;
        t.say(format!(
            "Today the cake is picked up: {cake} EUR ({}); the {deposit} EUR deposit pays part of it, the rest {} EUR goes on account.\n{}",
            invoice_text(&sold),
            cake - deposit,
            output::balance_line(sold.balance, sold.deposits)
        ));
        story["deposit"] = json!({ "taken": RecordedJson::new(&taken), "sale": RecordedJson::new(&sold) });

        // 3. Three checkouts, chosen by what the till actually answers.
        let now = at(today, 11, 15);
        t.say(format!("\n3. Three checkouts of {BASKET} EUR on account"));
        let used = [good, baker];
        let overdue_is = |v: &Verdict, d: Decision| {
            v.decision == d && v.reasons.iter().any(|r| matches!(r, Reason::Overdue { decision, .. } if *decision == d))
        };
        let allowed = self.find(BASKET, now, &used, clean)?;
        let warned = match self.find(BASKET, now, &used, |v| overdue_is(v, Decision::Warn))? {
            Some(w) => Some(w),
            None => self.find(BASKET, now, &used, |v| v.decision == Decision::Warn)?,
        };
        let refused = match self.find(BASKET, now, &used, |v| overdue_is(v, Decision::Refuse))? {
            Some(r) => Some(r),
            None => self.find(BASKET, now, &used, |v| v.decision == Decision::Refuse)?,
        };
        let mut checkouts = Vec::new();
        for (label, found) in [("allowed", &allowed), ("warned", &warned), ("refused", &refused)] {
            match found {
                Some((_, v)) => {
                    t.say(format!("\n{}", output::verdict_block(v)));
                    checkouts.push(json!(VerdictJson::new(v)));
                }
                None => t.say(format!("\n(No customer in this shop would be {label} today.)")),
            }
        }
        story["checkouts"] = json!(checkouts);

        // 4. The manager overrides the refusal, and the sale goes through.
        if let Some((i, _)) = refused {
            let reason = "customer for twelve years, settles at the end of the month";
            let now = at(today, 11, 20);
            let ov = self.store.override_checkout(&self.refs[i], BASKET, MANAGER, reason, now)?;
            let rec = self.sell(i, BASKET, today, at(today, 11, 21), None, None)?;
            t.say(format!(
                "\n4. A manager override\n{MANAGER} allows {} EUR on account for {} today: {reason}.\n\
                 The sale goes through ({}), recorded with the override:",
                ov.amount,
                self.name(i),
                invoice_text(&rec)
            ));
            if let Some(v) = &rec.verdict {
                for r in &v.reasons {
                    t.say(format!("  - {}", r.message()));
                }
            }
            t.say(output::balance_line(rec.balance, rec.deposits));
            story["override"] = json!(ov);
            story["override_sale"] = json!(RecordedJson::new(&rec));
        }

        // 5. Who owes the shop what, tonight.
        let mut accounts: Vec<AccountSummary> =
            self.refs.iter().map(|r| self.store.account(r, today)).collect::<Result<_, _>>()?;
        let owed: Money = accounts.iter().map(|a| a.balance.clamp_zero()).sum();
        let overdue: Money = accounts.iter().map(|a| a.overdue).sum();
        let held: Money = accounts.iter().map(|a| a.deposits_available).sum();
        let late = accounts.iter().filter(|a| a.overdue.is_positive()).count();
        accounts
            .sort_by(|a, b| b.balance.cmp(&a.balance).then_with(|| a.customer.reference.cmp(&b.customer.reference)));
        accounts.truncate(10);
        t.say(format!(
            "\n5. Balances tonight\nCustomers owe {owed} EUR in all, {overdue} EUR of it overdue ({late} customers late); \
             deposits held: {held} EUR.\nTop debtors:\n{}",
            output::accounts_table(&accounts)
        ));
        story["totals"] = json!({ "owed": owed, "overdue": overdue, "deposits_held": held, "customers_late": late });
        story["top_debtors"] = json!(accounts);

        // 6. The reminders of the day.
        story["dunning"] = self.day_reminders(today, t)?;
        Ok(story)
    }
}

fn invoice_text(rec: &Recorded) -> String {
    match &rec.entry.body {
        EntryBody::Sale { invoice_ref, due_on, .. } => format!("invoice {invoice_ref}, due {due_on}"),
        other => output::describe(other),
    }
}

/// The demo's own amounts are literals known to be valid.
fn money(s: &str) -> Money {
    Money::parse(s).unwrap_or_default()
}
