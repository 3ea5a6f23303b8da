//! The matcher's rules, one case each, against a small book.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::bank::{IdSource, Status, Transaction};
use crate::payref::PaymentReference;

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn inv(reference: &str, due: &str, open: &str) -> OpenInvoice {
    OpenInvoice { reference: reference.into(), due_on: d(due), open: m(open) }
}

fn customer(reference: &str, name: &str, open: Vec<OpenInvoice>) -> BookCustomer {
    let balance = open.iter().map(|i| i.open).sum();
    BookCustomer { reference: reference.into(), name: name.into(), balance, open, unlisted: vec![] }
}

fn rf(n: u128) -> PaymentReference {
    PaymentReference::for_customer(Uuid::from_u128(n))
}

/// C1 Hélène Dupré owes INV-1 (10.00) and INV-14 (25.00); C2 Marc Petit owes INV-10 (40.00)
/// and 1814 (12.50); C3 Boulangerie Martin owes F-7 (99.90); C4 Jean Martin owes nothing.
fn book(accounts: &[(&str, &str)]) -> Book {
    let customers = vec![
        customer("C1", "Hélène Dupré", vec![inv("INV-1", "2026-01-10", "10.00"), inv("INV-14", "2026-02-10", "25.00")]),
        customer("C2", "Marc Petit", vec![inv("INV-10", "2026-01-05", "40.00"), inv("1814", "2026-03-01", "12.50")]),
        customer("C3", "SARL Boulangerie Martin", vec![inv("F-7", "2026-02-01", "99.90")]),
        customer("C4", "Jean Martin", vec![]),
    ];
    let references: HashMap<PaymentReference, Option<String>> =
        (1..=4).map(|n| (rf(n), Some(format!("C{n}")))).collect();
    let accounts: Vec<(String, String)> = accounts.iter().map(|(i, c)| (i.to_string(), c.to_string())).collect();
    Book::new(customers, references, &accounts)
}

fn credit(amount: &str, text: &str) -> Transaction {
    Transaction {
        bank_id: "T".into(),
        id_source: IdSource::Transaction,
        booking_date: Some(d("2026-03-10")),
        value_date: None,
        amount: m(amount),
        direction: Direction::Credit,
        status: Status::Booked,
        reversal: false,
        counterparty_name: None,
        counterparty_iban: None,
        remittance: Some(text.into()),
        creditor_reference: None,
        end_to_end_id: None,
        bank_label: None,
    }
}

fn applied(decision: Decision) -> (String, Option<String>, Rule) {
    match decision {
        Decision::Apply(a) => (a.customer, a.aim, a.rule),
        other => panic!("expected an applied match, got {other:?}"),
    }
}

fn suggested(decision: Decision) -> Vec<Suggestion> {
    match decision {
        Decision::Suggest(s) => s,
        other => panic!("expected suggestions, got {other:?}"),
    }
}

fn left(decision: Decision) -> String {
    match decision {
        Decision::Leave(why) => why,
        other => panic!("expected nothing, got {other:?}"),
    }
}

#[test]
fn a_valid_reference_of_one_customer_is_applied_whatever_the_amount() {
    let b = book(&[]);
    let tx = credit("7.00", &format!("VIR {}", rf(1)));
    assert_eq!(applied(decide(&tx, &b)), ("C1".into(), None, Rule::Reference));
    // Structured, compact, with the invoice it pays named: aimed at it.
    let mut tx = credit("25.00", "facture INV-14");
    tx.creditor_reference = Some(rf(1).as_str().to_owned());
    assert_eq!(applied(decide(&tx, &b)), ("C1".into(), Some("INV-14".into()), Rule::Reference));
}

#[test]
fn references_of_two_customers_are_only_suggested() {
    let b = book(&[]);
    let s = suggested(decide(&credit("50.00", &format!("{} {}", rf(1), rf(2))), &b));
    let who: Vec<&str> = s.iter().map(|s| s.customer.as_str()).collect();
    assert_eq!(who, ["C1", "C2"]);
    assert!(s.iter().all(|s| s.reasons.contains(&Reason::SeveralReferences)));
}

#[test]
fn a_mistyped_reference_is_never_a_match_and_is_said() {
    let b = book(&[]);
    let good = rf(1).as_str().to_owned();
    // One digit changed: the check digits no longer hold.
    let last = good.chars().last().unwrap();
    let typo = format!("{}{}", &good[..good.len() - 1], if last == '9' { '8' } else { (last as u8 + 1) as char });
    let why = left(decide(&credit("3.00", &format!("paiement {typo}")), &b));
    assert!(why.contains("wrong check digits") && why.contains(&typo), "{why}");
}

#[test]
fn invoices_named_whole_that_add_up_are_applied() {
    let b = book(&[]);
    // Two invoices in one transfer: aimed at the later one, the rest goes to the oldest.
    let (c, aim, rule) = applied(decide(&credit("35.00", "Fact. INV-1 et INV-14 merci"), &b));
    assert_eq!((c.as_str(), aim.as_deref(), rule), ("C1", Some("INV-14"), Rule::Invoices));
    // Case and punctuation around the number do not matter.
    let (c, _, _) = applied(decide(&credit("99.90", "reglement f-7."), &b));
    assert_eq!(c, "C3");
}

#[test]
fn a_number_inside_another_is_never_read() {
    let b = book(&[]);
    // "INV-10" is C2's; INV-1 (C1's, 10.00) must not be read in it, although the amount is its.
    let (c, aim, _) = applied(decide(&credit("40.00", "INV-10"), &b));
    assert_eq!((c.as_str(), aim.as_deref()), ("C2", Some("INV-10")));
    // "1814" is C2's; "14" is no invoice and INV-14 is not in it.
    let (c, _, _) = applied(decide(&credit("12.50", "facture 1814"), &b));
    assert_eq!(c, "C2");
    // "INV-140" names nothing: the amount 25.00 (INV-14's) is only a suggestion.
    let s = suggested(decide(&credit("25.00", "INV-140"), &b));
    assert_eq!(s[0].customer, "C1");
    assert_eq!(s[0].reasons, [Reason::AmountIsInvoice { invoice: "INV-14".into() }]);
}

#[test]
fn partial_over_and_fee_short_payments_are_suggested_with_why() {
    let b = book(&[]);
    let s = suggested(decide(&credit("20.00", "INV-10"), &b));
    assert_eq!(s[0].reasons[0], Reason::Partial { invoices: vec!["INV-10".into()], open: m("40.00") });
    let s = suggested(decide(&credit("45.00", "INV-10"), &b));
    assert_eq!(s[0].reasons[0], Reason::Overpaid { invoices: vec!["INV-10".into()], open: m("40.00") });
    let s = suggested(decide(&credit("97.40", "F-7"), &b));
    assert_eq!(s[0].reasons[0], Reason::FeeGap { invoices: vec!["F-7".into()], gap: m("2.50") });
    assert_eq!(s[0].invoices, ["F-7"]);
    assert!(s[0].reasons[0].to_string().contains("bank fee"));
}

#[test]
fn debits_pending_and_returned_transfers_are_never_payments() {
    let b = book(&[]);
    let mut debit = credit("10.00", &rf(1).to_string());
    debit.direction = Direction::Debit;
    assert!(left(decide(&debit, &b)).contains("money out"));
    let mut returned = credit("10.00", &rf(1).to_string());
    returned.reversal = true;
    assert!(left(decide(&returned, &b)).contains("money out"));
    let mut pending = credit("10.00", &rf(1).to_string());
    pending.status = Status::Pending;
    assert!(left(decide(&pending, &b)).contains("pending"));
}

#[test]
fn names_compare_without_case_accents_titles_or_legal_forms() {
    let b = book(&[]);
    let mut tx = credit("5.00", "virement");
    tx.counterparty_name = Some("MME HELENE DUPRE".into());
    let s = suggested(decide(&tx, &b));
    assert_eq!((s.len(), s[0].customer.as_str()), (1, "C1"));
    // "M JEAN MARTIN" has every word of C4's name, not of "Boulangerie Martin".
    tx.counterparty_name = Some("M JEAN MARTIN".into());
    let s = suggested(decide(&tx, &b));
    let who: Vec<&str> = s.iter().map(|s| s.customer.as_str()).collect();
    assert_eq!(who, ["C4"]);
}

#[test]
fn a_known_account_points_to_its_customer_a_shared_one_to_nobody() {
    let b = book(&[
        ("FR76 3000 6000 0112 3456 7890 189", "C2"),
        ("DE89370400440532013000", "C1"),
        ("DE89370400440532013000", "C3"),
    ]);
    let mut tx = credit("5.00", "virement");
    tx.counterparty_iban = Some("FR7630006000011234567890189".into());
    let s = suggested(decide(&tx, &b));
    assert_eq!(s[0].customer, "C2");
    assert!(matches!(s[0].reasons[0], Reason::KnownAccount { .. }));
    tx.counterparty_iban = Some("DE89370400440532013000".into());
    // Shared by two customers: no suggestion on that alone.
    assert!(left(decide(&tx, &b)).contains("no reference"));
    // With the name of one of them: suggested, with the warning.
    tx.counterparty_name = Some("Helene Dupre".into());
    let s = suggested(decide(&tx, &b));
    assert_eq!(s.len(), 1);
    assert!(s[0].reasons.contains(&Reason::SharedAccount { customers: 2 }), "{:?}", s[0].reasons);
}

#[test]
fn suggestions_are_ranked_by_what_points_to_each() {
    let b = book(&[("FR7630006000011234567890189", "C2")]);
    // The amount is C1's INV-1 (10.00), the account is C2's: the account ranks first.
    let mut tx = credit("10.00", "virement");
    tx.counterparty_iban = Some("FR7630006000011234567890189".into());
    let s = suggested(decide(&tx, &b));
    let who: Vec<&str> = s.iter().map(|s| s.customer.as_str()).collect();
    assert_eq!(who, ["C2", "C1"]);
    assert!(s[0].score() > s[1].score());
}

#[test]
fn a_book_refreshed_after_a_payment_no_longer_offers_what_it_paid() {
    let mut b = book(&[]);
    b.refresh(customer("C1", "Hélène Dupré", vec![inv("INV-14", "2026-02-10", "25.00")]));
    // INV-1 is paid: named again, it is no invoice of anyone's.
    assert!(left(decide(&credit("10.00", "INV-1"), &b)).contains("no reference"));
    b.saw_account("FR7630006000011234567890189", "C1");
    let mut tx = credit("1.00", "x");
    tx.counterparty_iban = Some("FR7630006000011234567890189".into());
    assert_eq!(suggested(decide(&tx, &b))[0].customer, "C1");
}

#[test]
fn tokens_keep_joined_numbers_whole() {
    assert_eq!(
        tokens("Fact.INV-10/2026, n°14 (1814)."),
        ["FACT.INV-10/2026", "FACT", "INV-10", "2026", "N", "14", "1814"]
    );
}

#[test]
fn references_that_differ_only_by_case_are_both_named() {
    let customers = vec![
        customer("C1", "Anne", vec![inv("inv-5", "2026-01-10", "10.00")]),
        customer("C2", "Paul", vec![inv("INV-5", "2026-01-10", "10.00")]),
    ];
    let b = Book::new(customers, HashMap::new(), &[]);
    // Either could be meant: never applied to one of them.
    let s = suggested(decide(&credit("10.00", "Inv-5"), &b));
    assert_eq!(s.len(), 2);
}

mod narrowed {
    //! A book that lists only the invoices a statement names and those of thin amounts, read
    //! again when it says so, decides as the whole one, payment after payment.

    use proptest::prelude::*;

    use super::*;

    const REFS: [&str; 8] = ["INV-1", "inv-1", "INV-10", "14", "1814", "F-7", "f-70", "2026"];
    const NAMES: [&str; 4] = ["Hélène Dupré", "Marc Petit", "Jean Martin", "SARL Martin"];
    const AMOUNTS: [i64; 4] = [1000, 2500, 1250, 4000];
    const CUSTOMERS: usize = 9;

    /// Each invoice owned by at most one customer, open for one of a few amounts: with nine
    /// customers, some amounts are owed by more than five of them (no evidence) until payments
    /// thin them out.
    fn ledger() -> impl Strategy<Value = Vec<BookCustomer>> {
        let invoices = prop::collection::vec((0..CUSTOMERS + 1, 0..AMOUNTS.len()), 30);
        (invoices, prop::collection::vec(0..NAMES.len(), CUSTOMERS)).prop_map(|(owners, names)| {
            let mut cs: Vec<BookCustomer> =
                (0..CUSTOMERS).map(|c| customer(&format!("C{c}"), NAMES[names[c]], vec![])).collect();
            for (r, (owner, amount)) in owners.into_iter().enumerate() {
                if owner < CUSTOMERS {
                    let reference = REFS.get(r).map_or_else(|| format!("X-{r}"), |s| s.to_string());
                    let due = NaiveDate::from_ymd_opt(2026, 1, 1 + (r % 28) as u32).unwrap();
                    cs[owner].open.push(OpenInvoice {
                        reference,
                        due_on: due,
                        open: Money::from_minor(AMOUNTS[amount]),
                    });
                }
            }
            for c in &mut cs {
                c.open.sort_by_key(|i| i.due_on);
                c.balance = c.open.iter().map(|i| i.open).sum();
            }
            cs
        })
    }

    fn statement() -> impl Strategy<Value = Vec<Transaction>> {
        let word = prop_oneof![
            (0..REFS.len()).prop_map(|r| REFS[r].to_owned()),
            (0..REFS.len()).prop_map(|r| REFS[r].to_lowercase()),
            Just("Fact.INV-10/2026".to_owned()),
            Just("virement".to_owned()),
            (1..=CUSTOMERS as u128).prop_map(|n| rf(n).to_string()),
        ];
        let tx = (prop::collection::vec(word, 0..4), 0..AMOUNTS.len() + 1, 0..NAMES.len() + 1, any::<bool>());
        prop::collection::vec(tx, 1..16).prop_map(|txs| {
            txs.into_iter()
                .map(|(words, amount, name, debit)| {
                    let cents = AMOUNTS.get(amount).copied().unwrap_or(777);
                    let mut t = credit(&Money::from_minor(cents).to_string(), &words.join(" "));
                    t.counterparty_name = NAMES.get(name).map(|n| n.to_string());
                    if debit {
                        t.direction = Direction::Debit;
                    }
                    t
                })
                .collect()
        })
    }

    /// The customer as a store reads them for `book`: the named invoices and those of thin
    /// amounts listed, the others' amounts only.
    fn read(whole: &BookCustomer, book: &Book, tokens: &HashSet<String>) -> BookCustomer {
        let (open, others): (Vec<OpenInvoice>, Vec<OpenInvoice>) = whole
            .open
            .iter()
            .cloned()
            .partition(|i| tokens.contains(&i.reference.to_ascii_uppercase()) || book.thin(i.open.minor()));
        BookCustomer { open, unlisted: others.into_iter().map(|i| i.open).collect(), ..whole.clone() }
    }

    fn complete(book: &mut Book, ledger: &[BookCustomer], tokens: &HashSet<String>, mut pending: Vec<String>) {
        while let Some(who) = pending.pop() {
            let whole = ledger.iter().find(|c| c.reference == who).unwrap();
            let again = read(whole, book, tokens);
            pending.extend(book.refresh(again));
        }
    }

    proptest! {
        #[test]
        fn decides_as_the_whole_book(mut ledger in ledger(), txs in statement()) {
            let tokens = quoted_tokens(&txs);
            let references: HashMap<PaymentReference, Option<String>> =
                (0..CUSTOMERS).map(|n| (rf(n as u128 + 1), Some(format!("C{n}")))).collect();
            let mut whole = Book::new(ledger.clone(), references.clone(), &[]);
            // Counted without a book, the amounts that are evidence are the book's.
            let mut holders = Holders::default();
            for c in &ledger {
                holders.add(c.open.iter().map(|i| i.open), c.balance);
            }
            for cents in AMOUNTS.iter().copied().chain(ledger.iter().map(|c| c.balance.minor())) {
                prop_assert_eq!(holders.thin(cents), whole.thin(cents), "{}", cents);
            }
            // At first nothing but the named invoices is listed: the book says whom to read again.
            let bare: Vec<BookCustomer> = ledger
                .iter()
                .map(|c| {
                    let (open, others): (Vec<OpenInvoice>, Vec<OpenInvoice>) =
                        c.open.iter().cloned().partition(|i| tokens.contains(&i.reference.to_ascii_uppercase()));
                    BookCustomer { open, unlisted: others.into_iter().map(|i| i.open).collect(), ..c.clone() }
                })
                .collect();
            let mut narrow = Book::new(bare, references, &[]);
            let pending = narrow.incomplete();
            complete(&mut narrow, &ledger, &tokens, pending);
            for tx in &txs {
                let decided = decide(tx, &whole);
                prop_assert_eq!(&decided, &decide(tx, &narrow), "{:?}", tx);
                // A payment settles the customer's oldest invoice: both books learn it.
                if let Decision::Apply(a) = decided {
                    let c = ledger.iter_mut().find(|c| c.reference == a.customer).unwrap();
                    if !c.open.is_empty() {
                        let paid = c.open.remove(0);
                        c.balance -= paid.open;
                    }
                    let c = c.clone();
                    whole.refresh(c.clone());
                    let pending = narrow.refresh(read(&c, &narrow, &tokens));
                    complete(&mut narrow, &ledger, &tokens, pending);
                }
            }
        }
    }
}

mod names {
    //! The payer's name finds, through the book's keys, exactly the customers a comparison with
    //! every customer's name finds.

    use proptest::prelude::*;

    use super::*;

    const WORDS: [&str; 8] = ["Jean", "Martin", "Pierre", "Dupré", "dupre", "Marie", "SARL", "Le"];

    fn name() -> impl Strategy<Value = String> {
        prop::collection::vec(0..WORDS.len(), 0..5)
            .prop_map(|ws| ws.into_iter().map(|w| WORDS[w]).collect::<Vec<_>>().join(" "))
    }

    proptest! {
        #[test]
        fn finds_whom_a_scan_of_everyone_finds(names in prop::collection::vec(name(), 1..30), payer in name()) {
            let customers: Vec<BookCustomer> =
                names.iter().enumerate().map(|(i, n)| customer(&format!("C{i}"), n, vec![])).collect();
            let book = Book::new(customers, HashMap::new(), &[]);
            let payer_words = name_words(&payer);
            let mut scanned: Vec<usize> = (0..names.len())
                .filter(|&c| {
                    let theirs = name_words(&names[c]);
                    !theirs.is_empty() && theirs.iter().all(|t| payer_words.contains(t))
                })
                .collect();
            let mut found = customers_named(&book, &payer);
            found.sort_unstable();
            scanned.sort_unstable();
            prop_assert_eq!(found, scanned);
        }
    }
}
