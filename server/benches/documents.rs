//! Issue 16: rendering one formal notice PDF and one reminder email (text and HTML), from a
//! document built on a real store: a business with two invoices across 1 July 2024, a partial
//! payment, three reminders sent before the notice. Only the rendering is timed; building the
//! document from the store is timed apart, as the dispatcher does both per letter.
//!
//! `cargo bench -p ardoise-server --bench documents`; under `cargo test --benches` each runs once.

use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::document::Language;
use ardoise_core::dunning::ladder::StepKind;
use ardoise_core::store::ReminderState;
use ardoise_core::{EntryRequest, Money, Now, PaymentMethod, SaleRequest, Store};
use ardoise_server::send::{Channel, Outgoing, build_message, formal_notice_pdf};
use chrono::{DateTime, Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};

fn noon(day: NaiveDate) -> Now {
    DateTime::parse_from_rfc3339(&format!("{day}T12:00:00+02:00")).unwrap()
}

fn shop() -> Store {
    let s = Store::open_in_memory().unwrap();
    let mut settings = (*s.settings()).clone();
    settings.shop_name = "Épicerie du Marché".into();
    settings.shop_email = "bonjour@epicerie-du-marche.fr".into();
    settings.shop_address = "12 place de la République, 13210 Saint-Rémy-de-Provence".into();
    settings.payment_url = Some("https://pay.example.fr/{customer_ref}?amount={amount}".into());
    settings.identity = ardoise_core::identity::sample();
    let start = noon("2024-01-01".parse().unwrap());
    s.set_settings(settings, start).unwrap();
    s.add_customer(
        NewCustomer {
            reference: "B1".into(),
            name: "Boulangerie Martin".into(),
            email: Some("b1@example.fr".into()),
            kind: CustomerKind::Business,
            terms: "30".parse().unwrap(),
            consent_email: true,
            address: Some("5 rue des Lilas\n13210 Saint-Rémy-de-Provence".into()),
            language: Language::Fr,
            ..Default::default()
        },
        start,
    )
    .unwrap();
    for (amount, reference, day) in [("1000", "F-2024-051", "2024-05-16"), ("234.56", "F-2024-058", "2024-05-25")] {
        let day: NaiveDate = day.parse().unwrap();
        let req = SaleRequest {
            customer: "B1".into(),
            amount: Money::parse(amount).unwrap(),
            date: Some(day),
            invoice_ref: Some(reference.into()),
            cashier: "t".into(),
            ..Default::default()
        };
        s.sell_on_account(req, noon(day)).unwrap();
    }
    let pay = EntryRequest::Payment {
        amount: Money::parse("300").unwrap(),
        method: PaymentMethod::Cash,
        invoice: Some("F-2024-051".into()),
    };
    s.record("B1", None, "t", pay, noon("2024-06-28".parse().unwrap())).unwrap();
    s
}

fn bench(c: &mut Criterion) {
    let s = shop();
    let mut day: NaiveDate = "2024-06-16".parse().unwrap();
    let (mut notice, mut reminder) = (None, None);
    while notice.is_none() {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            if q.kind == StepKind::FormalNotice {
                notice = Some(q);
            } else {
                reminder.get_or_insert(q.clone());
                s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
            }
        }
        day = day + Days::new(1);
    }
    let (notice, reminder) = (notice.unwrap(), reminder.unwrap());
    let doc = s.reminder_document(notice.id, notice.created_on).unwrap();
    let email_doc = s.reminder_document(reminder.id, reminder.created_on).unwrap();
    let email = Outgoing {
        reminder_id: reminder.id,
        channel: Channel::Email,
        recipient: "b1@example.fr".into(),
        customer_name: reminder.customer_name.clone(),
        shop_name: "Épicerie du Marché".into(),
        shop_email: "bonjour@epicerie-du-marche.fr".into(),
        subject: reminder.subject.clone(),
        body: reminder.body.clone(),
        amount_due: reminder.amount_due.to_string(),
        penalties: "0".into(),
        indemnity: "0".into(),
        formal_notice: false,
        date: reminder.created_on,
        document: Some(email_doc),
    };

    let mut g = c.benchmark_group("documents");
    g.bench_function("formal notice: document from the store", |b| {
        b.iter(|| s.reminder_document(notice.id, notice.created_on).unwrap())
    });
    g.bench_function("formal notice: PDF", |b| b.iter(|| formal_notice_pdf(&doc).unwrap()));
    g.bench_function("reminder email: text and HTML, formatted", |b| {
        b.iter(|| build_message(&email).unwrap().0.formatted())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
