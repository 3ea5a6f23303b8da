//! Every document read back: the formal notice, the court file and the statement as PDF text,
//! the reminder email's HTML; each mandatory mention there, each header block once, and every
//! amount the ledger's.

use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::document::{Document, DocumentKind, Language, euros, long_date};
use ardoise_core::dunning::ladder::StepKind;
use ardoise_core::store::{ReminderRecord, ReminderState};
use ardoise_core::{EntryRequest, Money, Now, PaymentMethod, SaleRequest, Store};
use ardoise_server::send::{Channel, Outgoing, build_message, court_file_pdf, formal_notice_pdf, statement_pdf};
use chrono::{DateTime, Days, NaiveDate};

fn noon(day: NaiveDate) -> Now {
    DateTime::parse_from_rfc3339(&format!("{day}T12:00:00+02:00")).unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// An amount as the PDF text reads it: the no-break spaces are plain spaces in WinAnsi text.
fn pdf_eur(x: Money) -> String {
    euros(x).replace('\u{a0}', " ")
}

fn shop() -> Store {
    let s = Store::open_in_memory().unwrap();
    let mut settings = (*s.settings()).clone();
    settings.shop_name = "Épicerie du Marché".into();
    settings.shop_phone = "04 90 92 12 34".into();
    settings.shop_email = "bonjour@epicerie-du-marche.fr".into();
    settings.shop_address = "12 place de la République, 13210 Saint-Rémy-de-Provence".into();
    settings.payment_url = Some("https://pay.example.fr/{customer_ref}?amount={amount}".into());
    settings.identity = ardoise_core::identity::sample();
    s.set_settings(settings, noon(d("2024-01-01"))).unwrap();
    for (reference, name, kind, lang, address) in [
        (
            "B1",
            "Boulangerie Martin",
            CustomerKind::Business,
            Language::Fr,
            "5 rue des Lilas\n13210 Saint-Rémy-de-Provence",
        ),
        ("P1", "Hélène Dupré", CustomerKind::Consumer, Language::Fr, "8 chemin des Oliviers\n13150 Tarascon"),
        ("E1", "John Smith", CustomerKind::Consumer, Language::En, "3 avenue Victor Hugo\n13100 Aix-en-Provence"),
    ] {
        s.add_customer(
            NewCustomer {
                reference: reference.into(),
                name: name.into(),
                email: Some(format!("{}@example.fr", reference.to_lowercase())),
                kind,
                terms: "30".parse().unwrap(),
                consent_email: true,
                address: Some(address.into()),
                language: lang,
                ..Default::default()
            },
            noon(d("2024-01-01")),
        )
        .unwrap();
    }
    s
}

fn sale(s: &Store, customer: &str, amount: &str, reference: &str, day: &str) {
    let req = SaleRequest {
        customer: customer.into(),
        amount: m(amount),
        date: Some(d(day)),
        invoice_ref: Some(reference.into()),
        cashier: "t".into(),
        ..Default::default()
    };
    s.sell_on_account(req, noon(d(day))).unwrap();
}

fn pay(s: &Store, customer: &str, amount: &str, invoice: &str, day: &str) {
    let req = EntryRequest::Payment { amount: m(amount), method: PaymentMethod::Cash, invoice: Some(invoice.into()) };
    s.record(customer, None, "t", req, noon(d(day))).unwrap();
}

/// Runs the ladder day by day until a reminder of `kind` is queued, every earlier one marked sent.
fn run_until(s: &Store, customer: &str, kind: StepKind, from: &str, to: &str) -> ReminderRecord {
    let mut day = d(from);
    while day <= d(to) {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            if q.customer_ref == customer && q.kind == kind {
                return q;
            }
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
        }
        day = day + Days::new(1);
    }
    panic!("no {kind:?} for {customer} by {to}");
}

fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    (pages.len(), doc.extract_text(&pages).unwrap())
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

fn count(lines: &[&str], wanted: &str) -> usize {
    lines.iter().filter(|l| **l == wanted).count()
}

fn has_iso_date(text: &str) -> bool {
    text.as_bytes()
        .windows(10)
        .any(|w| w.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() }))
}

/// The business's notice across 1 July 2024, a partial payment on the first invoice.
fn business_notice(s: &Store) -> (ReminderRecord, Document) {
    sale(s, "B1", "1000", "F-2024-051", "2024-05-16"); // due 15 June
    sale(s, "B1", "234.56", "F-2024-058", "2024-05-25"); // due 24 June
    pay(s, "B1", "300", "F-2024-051", "2024-06-28");
    let notice = run_until(s, "B1", StepKind::FormalNotice, "2024-06-16", "2024-08-31");
    let doc = s.reminder_document(notice.id, notice.created_on).unwrap();
    (notice, doc)
}

#[test]
fn the_formal_notice_says_everything_once_with_the_ledger_figures() {
    let s = shop();
    let (notice, doc) = business_notice(&s);
    let bytes = formal_notice_pdf(&doc).unwrap();
    let (pages, text) = pdf_text(&bytes);
    let l = lines(&text);

    // The figures are the ledger's and the reminder's.
    let account = s.account("B1", notice.created_on).unwrap();
    // The fees the notice charged to the account are open items too, but not invoices it claims.
    let sales: Vec<_> = account.open_invoices.iter().filter(|i| i.reference.starts_with("F-")).collect();
    assert_eq!(sales.len(), doc.invoices.len());
    for inv in sales {
        let row = doc.invoices.iter().find(|r| r.reference == inv.reference).unwrap();
        assert_eq!((row.amount, row.left), (inv.amount, inv.remaining), "{}", inv.reference);
    }
    assert_eq!(doc.principal, notice.amount_due);
    assert_eq!((doc.interest, doc.indemnity), (notice.penalties, notice.indemnity));
    assert_eq!(doc.penalties.iter().map(|p| p.interest).sum::<Money>(), doc.interest);
    assert_eq!(doc.total, notice.amount_due + notice.penalties + notice.indemnity);
    assert_eq!(doc.indemnity, m("80"), "40 EUR per late invoice");
    for row in &doc.invoices {
        for x in [row.amount, row.left] {
            assert!(text.contains(&ardoise_core::document::amount(x).replace('\u{a0}', " ")), "{x} in {text}");
        }
    }
    for x in [doc.principal, doc.interest, doc.indemnity, doc.total] {
        assert!(l.iter().any(|line| *line == pdf_eur(x)), "{} missing from {text}", pdf_eur(x));
    }
    assert!(text.contains("300,00"), "the partial payment shows as paid: {text}");

    // Each header block once: sender, recipient, place and date, subject.
    assert_eq!(count(&l, "12 place de la République"), 1, "{text}");
    assert_eq!(count(&l, "Boulangerie Martin"), 1, "{text}");
    assert_eq!(count(&l, "5 rue des Lilas"), 1, "{text}");
    let dated = format!("Saint-Rémy-de-Provence, le {}", long_date(notice.created_on, Language::Fr));
    assert_eq!(count(&l, &dated), 1, "{text}");
    assert_eq!(l.iter().filter(|x| x.starts_with("Objet :")).count(), 1, "{text}");
    assert!(!has_iso_date(&text), "one date format, the long one: {text}");

    // The mandatory mentions, and the customer's own payment reference beside the IBAN.
    let deadline = long_date(doc.deadline.unwrap(), Language::Fr);
    let reference = s.customer("B1").unwrap().payment_reference();
    assert_eq!(doc.payment_reference, reference);
    for wanted in [
        &format!("Référence de paiement à indiquer : {reference}"),
        "Lettre recommandée avec accusé de réception",
        "Objet : Mise en demeure de payer",
        "SIRET 732 829 320 00074",
        "RCS Tarascon 732 829 320",
        "L441-10",
        "D441-5",
        "continuent de courir jusqu'au complet paiement",
        &format!("au plus tard le {deadline}"),
        "injonction de payer",
        "FR76 3000 6000 0112 3456 7890 189",
        "https://pay.example.fr/B1?amount=",
        "Claire Martin",
        "gérante",
        &format!("Page 1/{pages}"),
    ] {
        assert!(text.replace('\n', " ").contains(wanted), "{wanted:?} missing from {text}");
    }
    assert!(!text.contains("1231-6"), "the consumer's basis is not a business's: {text}");
    // Penalty lines per invoice and period, across 1 July: 14,50 % then 14,25 %.
    assert!(text.contains("14,50 %") && text.contains("14,25 %"), "{text}");

    // The earlier reminders, without the notice itself; nothing but the signature after it.
    assert_eq!(doc.earlier.len(), 3);
    assert!(doc.earlier.iter().all(|e| e.on < notice.created_on));
    let signed = text.find("Claire Martin").unwrap();
    assert!(text.find("Total réclamé").unwrap() < signed);
    assert!(!text[signed..].contains('€'), "no totals after the signature: {}", &text[signed..]);
}

#[test]
fn a_consumer_notice_in_english_prints_nothing_that_is_zero() {
    let s = shop();
    sale(&s, "E1", "180.40", "F-2024-100", "2024-03-01"); // due 31 March
    let notice = run_until(&s, "E1", StepKind::FormalNotice, "2024-04-01", "2024-06-30");
    let doc = s.reminder_document(notice.id, notice.created_on).unwrap();
    assert_eq!((doc.language, doc.interest, doc.indemnity), (Language::En, Money::ZERO, Money::ZERO));
    let (_, text) = pdf_text(&formal_notice_pdf(&doc).unwrap());
    let l = lines(&text);
    assert_eq!(count(&l, "John Smith"), 1, "{text}");
    assert!(text.contains(&long_date(notice.created_on, Language::En)), "{text}");
    assert!(
        text.contains("Subject: Formal notice to pay") || text.contains("Subject : Formal notice to pay"),
        "{text}"
    );
    assert!(text.contains("Interest keeps running until payment in full."), "{text}");
    let quote = format!("Payment reference to quote: {}", s.payment_reference("E1").unwrap());
    assert!(text.replace('\n', " ").contains(&quote), "{quote:?} missing from {text}");
    assert!(l.contains(&pdf_eur(m("180.40")).as_str()), "{text}");
    for absent in ["0,00", "D441-5", "L441-10", "indemnity", "Interest\n"] {
        assert!(!text.contains(absent), "{absent:?} printed for a consumer: {text}");
    }
    assert!(!has_iso_date(&text), "{text}");
}

#[test]
fn the_court_file_fills_the_request_for_the_right_court() {
    let s = shop();
    let (notice, _) = business_notice(&s);
    s.set_reminder_state(notice.id, ReminderState::Sent, Some("posted"), noon(notice.created_on)).unwrap();
    let file = run_until(&s, "B1", StepKind::CourtFile, "2024-07-26", "2024-09-30");
    let doc = s.reminder_document(file.id, file.created_on).unwrap();
    assert_eq!(doc.kind, DocumentKind::CourtFile);
    let (_, text) = pdf_text(&court_file_pdf(&doc).unwrap());
    let flat = text.replace('\n', " ");
    for wanted in [
        "REQUÊTE EN INJONCTION DE PAYER",
        "Cerfa n° 12946",
        "Tribunal de commerce",
        "1. Créancier (demandeur)",
        "Épicerie du Marché SARL",
        "SIRET 732 829 320 00074",
        "TVA FR44732829320",
        "Représenté par Claire Martin, gérante",
        "2. Débiteur (défendeur)",
        "Boulangerie Martin",
        "Qualité : commerçant",
        "article 1407 du Code de procédure civile",
        "L441-10",
        "4. Relances et mise en demeure",
        ": Mise en demeure (courrier)",
        "5. Pièces jointes",
        "Facture F-2024-051 du 16 mai 2024",
        "Accusé de réception de la mise en demeure",
        "Fait à Saint-Rémy-de-Provence",
    ] {
        assert!(flat.contains(wanted), "{wanted:?} missing from {text}");
    }
    assert!(l_total(&text, &doc), "the total claimed is the document's: {text}");
    assert!(!has_iso_date(&text), "{text}");
    // A consumer's file goes to the judicial court.
    sale(&s, "P1", "500", "F-2024-200", "2024-06-01");
    let file = run_until(&s, "P1", StepKind::CourtFile, "2024-07-01", "2024-10-31");
    let doc = s.reminder_document(file.id, file.created_on).unwrap();
    let (_, text) = pdf_text(&court_file_pdf(&doc).unwrap());
    assert!(text.contains("Cerfa n° 12948") && text.contains("Tribunal judiciaire"), "{text}");
    assert!(text.contains("1231-6"), "{text}");
}

fn l_total(text: &str, doc: &Document) -> bool {
    lines(text).contains(&pdf_eur(doc.total).as_str())
}

#[test]
fn the_statement_pdf_matches_the_ledger() {
    let s = shop();
    sale(&s, "P1", "42.30", "F-1", "2024-03-02");
    sale(&s, "P1", "1250", "F-2", "2024-03-09");
    pay(&s, "P1", "42.30", "F-1", "2024-03-20");
    let doc = s.statement_document("P1", d("2024-03-01"), d("2024-04-30"), d("2024-05-02")).unwrap();
    let (_, text) = pdf_text(&statement_pdf(&doc).unwrap());
    let l = lines(&text);
    let account = s.account("P1", d("2024-04-30")).unwrap();
    assert_eq!(doc.statement.closing_balance, account.balance);
    for wanted in [
        "Relevé de compte du 1er mars 2024 au 30 avril 2024",
        "Hélène Dupré",
        "Solde à la fin de la période",
        "F-2",
        "Achat sur compte",
        "Règlement",
        "Le 2 mai 2024",
    ] {
        assert!(l.contains(&wanted), "{wanted:?} missing from {text}");
    }
    assert!(l.contains(&"1 250,00"), "{text}");
    assert!(text.contains(&format!("Échu et impayé au 30 avril 2024 : {}", pdf_eur(m("1250")))), "{text}");
    assert_eq!(count(&l, "Hélène Dupré"), 1);
    assert!(!has_iso_date(&text), "{text}");
    let quote = format!("Référence de paiement à indiquer : {}", s.payment_reference("P1").unwrap());
    assert!(l.contains(&quote.as_str()), "{quote:?} missing from {text}");
    assert_ne!(s.payment_reference("P1").unwrap(), s.payment_reference("B1").unwrap());
}

#[test]
fn a_reminder_email_has_a_text_and_an_html_part_with_a_table_and_a_button() {
    let s = shop();
    sale(&s, "P1", "1234.56", "F-9", "2024-03-01");
    let first = run_until(&s, "P1", StepKind::Reminder, "2024-04-01", "2024-04-30");
    let doc = s.reminder_document(first.id, first.created_on).unwrap();
    let o = Outgoing {
        reminder_id: first.id,
        channel: Channel::Email,
        recipient: first.recipient.clone().unwrap(),
        customer_name: first.customer_name.clone(),
        shop_name: "Épicerie du Marché".into(),
        shop_email: "bonjour@epicerie-du-marche.fr".into(),
        subject: first.subject.clone(),
        body: first.body.clone(),
        amount_due: first.amount_due.to_string(),
        penalties: "0".into(),
        indemnity: "0".into(),
        formal_notice: false,
        date: first.created_on,
        document: Some(doc),
    };
    let (message, _) = build_message(&o).unwrap();
    let raw = message.formatted();
    let parsed = mailparse::parse_mail(&raw).unwrap();
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    let plain = parsed.subparts[0].get_body().unwrap();
    let html = parsed.subparts[1].get_body().unwrap();
    assert!(plain.contains("1 234,56 EUR") && plain.contains("facture F-9 du 1er mars 2024"), "{plain}");
    assert!(!has_iso_date(&plain) && !has_iso_date(&html), "{plain}\n{html}");
    assert!(
        html.contains("<table")
            && html.contains("<td style=\"padding: 4px 10px; border-bottom: 1px solid #ddd\">F-9</td>"),
        "{html}"
    );
    assert!(html.contains("1er mars 2024") && html.contains("1\u{a0}234,56\u{a0}€"), "{html}");
    assert!(html.contains("<a href=\"https://pay.example.fr/P1?amount=1234.56\""), "{html}");
    assert!(html.contains(">Payer en ligne</a>"), "{html}");
    // Both parts ask for the customer's payment reference, which a transfer's label gives back.
    let quote = format!("Référence de paiement à indiquer : {}", s.payment_reference("P1").unwrap());
    assert!(plain.contains(&quote) && html.contains(&quote), "{plain}\n{html}");
    assert_eq!(ardoise_core::payref::find_in(&html), vec![s.payment_reference("P1").unwrap()]);
    // The invoice line of the text became the table: not printed twice.
    assert!(!html.contains("facture F-9 du"), "{html}");
}
