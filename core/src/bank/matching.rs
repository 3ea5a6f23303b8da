//! Which customer a bank credit is from, decided from what the ledger says: applied only when
//! certain, otherwise ranked suggestions with their reasons, otherwise left. Pure: a [`Book`]
//! (the customers, their open invoices and the accounts seen before) and a transaction in, a
//! [`Decision`] out; the store records it (`Store::import_statements`).
//!
//! Certain, and applied without anyone looking:
//! - the transaction quotes a valid RF payment reference (check digits right) of exactly one
//!   customer: their payment, aimed at the invoices it names (else oldest first);
//! - it names open invoices, as whole tokens, all of one customer, whose open amounts add up to
//!   the amount to the cent.
//!
//! Everything else is a suggestion for a person to confirm, ranked by how much points to each
//! customer: an account (IBAN) seen before for them alone, the payer's name (words compared
//! without case or accents), an invoice named with a partial, over- or short payment (a small
//! gap is shown as a probable bank fee), the amount equal to one of their open invoices or to
//! their balance. Never: a number read inside another (invoice 14 is not in 1814, INV-1 is not
//! INV-10), a debit or a pending entry taken as a payment, an account several customers used
//! taken as proof of one of them.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Direction, Status, Transaction};
use crate::money::Money;
use crate::payref::PaymentReference;
use crate::search::fold;

/// More customers than this sharing an amount (or a name), and it says nothing about who paid.
const AMOUNT_EVIDENCE_MAX: usize = 5;
/// Suggestions kept per transaction, best first.
const SUGGESTIONS_MAX: usize = 5;
/// A payment short of the invoices it names by at most this much (and at most 10 % of them) is
/// shown as a probable bank fee: banks take a few euros off a transfer from abroad.
const FEE_GAP_MAX: Money = Money::from_minor(25_00);

/// One customer as the matcher sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookCustomer {
    pub reference: String,
    pub name: String,
    /// What they owe now (negative: money on account).
    pub balance: Money,
    /// Open invoices, oldest due first: all of them, or (see [`Book`]) those a transaction
    /// names and those whose amount few enough customers have to say who paid.
    pub open: Vec<OpenInvoice>,
    /// What is left to pay on their other open invoices, whose references were not read.
    pub unlisted: Vec<Money>,
}

/// An invoice not yet paid in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenInvoice {
    pub reference: String,
    pub due_on: NaiveDate,
    /// What is left to pay on it.
    pub open: Money,
}

/// The tokens a set of transactions quote, as [`decide`] reads them (in ASCII capitals): an
/// open invoice whose reference is none of them is named by none of these transactions.
pub fn quoted_tokens<'a>(transactions: impl IntoIterator<Item = &'a Transaction>) -> HashSet<String> {
    let mut out = HashSet::new();
    for tx in transactions {
        if tx.status == Status::Booked && tx.direction == Direction::Credit && !tx.reversal {
            out.extend(texts(tx).iter().flat_map(|t| tokens(t)));
        }
    }
    out
}

/// What the ledger says, indexed for matching a whole statement: built once per import.
///
/// A book need not hold every open invoice's reference (on a large shop, reading them all is
/// most of the time an import takes): it decides as one that does as long as each customer
/// lists the invoices the transactions name ([`quoted_tokens`]) and those of every amount few
/// enough customers have for it to be evidence ([`Book::thin`]), and gives the amounts of the
/// others as `unlisted`. Which amounts are thin changes as payments are recorded:
/// [`Book::incomplete`] and [`Book::refresh`] say which customers to read again.
#[derive(Debug, Default)]
pub struct Book {
    customers: Vec<BookCustomer>,
    by_reference: HashMap<String, usize>,
    /// A reference two customers share maps to nobody.
    references: HashMap<PaymentReference, Option<usize>>,
    /// Open invoices by reference in ASCII capitals: (customer, index in their `open`); two
    /// references that differ only by case are both named by a token.
    invoices: HashMap<String, Vec<(usize, usize)>>,
    /// Customers by a key of their name ([`name_key`]): a payer's name finds each customer it
    /// can name in a few look-ups, not by going through everyone sharing a common first name.
    by_name: HashMap<u64, Vec<usize>>,
    /// Each customer's folded name words, folded once.
    names: Vec<Vec<String>>,
    /// Accounts (IBAN, compact, in capitals) to the customers payments from them went to.
    accounts: HashMap<String, Vec<usize>>,
    /// Open amounts (cents) to the customers who owe them, and on what.
    amounts: HashMap<i64, Owed>,
    /// Each customer's version: how many times their account changed in this book.
    versions: Vec<u32>,
}

/// Customers' names as a book finds them: each one's folded words, and each filed under a key
/// of one or two of them (see [`customers_named`]).
#[derive(Debug, Default)]
pub struct Names {
    words: Vec<Vec<String>>,
    by_key: HashMap<u64, Vec<usize>>,
}

impl Names {
    /// Files the names of customers 0, 1, 2...
    pub fn new<'n>(names: impl Iterator<Item = &'n str>) -> Names {
        let words: Vec<Vec<String>> = names.map(name_words).collect();
        let mut frequency: HashMap<&str, usize> = HashMap::new();
        for w in words.iter().flat_map(|ws| distinct(ws)) {
            *frequency.entry(w).or_default() += 1;
        }
        let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
        for (c, ws) in words.iter().enumerate() {
            if let Some(key) = name_key(ws, |w| frequency[w]) {
                by_key.entry(key).or_default().push(c);
            }
        }
        Names { words, by_key }
    }
}

/// Who owes one amount: how many customers, and what each owes it on. A customer whose account
/// changed is counted out at once, and their entries, of an earlier version of them, are
/// skipped from then on: nothing goes through the dozens of others who owe the same.
#[derive(Debug, Default)]
struct Owed {
    holders: usize,
    /// (customer, their version when pushed, what on); a customer's entries pushed together.
    list: Vec<(usize, u32, Held)>,
}

impl Owed {
    fn push(&mut self, c: usize, version: u32, held: Held) {
        if self.list.last().is_none_or(|&(x, v, _)| (x, v) != (c, version)) {
            self.holders += 1;
        }
        self.list.push((c, version, held));
    }

    /// One of the customers who owed it no longer does as they did (see [`Book::refresh`]).
    fn leave(&mut self) {
        self.holders -= 1;
    }

    fn holders(&self) -> usize {
        self.holders
    }

    /// The entries of customers as they now are (`versions`).
    fn list<'a>(&'a self, versions: &'a [u32]) -> impl Iterator<Item = (usize, Held)> + 'a {
        self.list.iter().filter(move |&&(c, v, _)| versions[c] == v).map(|&(c, _, h)| (c, h))
    }
}

/// The amounts (cents) a customer is counted as owing: each open invoice's, and the balance
/// when they owe one; each once.
fn owed_amounts(open: impl IntoIterator<Item = Money>, balance: Money) -> Vec<i64> {
    let mut amounts: Vec<i64> = open.into_iter().map(Money::minor).collect();
    if balance.is_positive() {
        amounts.push(balance.minor());
    }
    amounts.sort_unstable();
    amounts.dedup();
    amounts
}

/// What a customer owes an amount on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// Their open invoice, by index in their `open`.
    Invoice(usize),
    /// An open invoice whose reference the book did not read.
    Unlisted,
    /// Their balance.
    Balance,
}

impl Book {
    /// `references` maps each payment reference to its customer's reference (`None` when
    /// shared); `accounts` lists (IBAN, customer reference) of payments matched before.
    pub fn new(
        customers: Vec<BookCustomer>,
        references: HashMap<PaymentReference, Option<String>>,
        accounts: &[(String, String)],
    ) -> Book {
        let names = Names::new(customers.iter().map(|c| c.name.as_str()));
        Book::with_names(customers, references, accounts, names)
    }

    /// [`Book::new`] with the customers' names already filed (`names`, in the same order): a
    /// store files them while it reads the rest.
    pub fn with_names(
        customers: Vec<BookCustomer>,
        references: HashMap<PaymentReference, Option<String>>,
        accounts: &[(String, String)],
        names: Names,
    ) -> Book {
        let by_reference: HashMap<String, usize> =
            customers.iter().enumerate().map(|(i, c)| (c.reference.clone(), i)).collect();
        let references =
            references.into_iter().map(|(rf, c)| (rf, c.and_then(|c| by_reference.get(&c).copied()))).collect();
        let mut book = Book { references, by_reference, customers, ..Book::default() };
        for (iban, customer) in accounts {
            book.saw_account(iban, customer);
        }
        (book.names, book.by_name) = (names.words, names.by_key);
        book.versions = vec![0; book.customers.len()];
        for c in 0..book.customers.len() {
            book.index_amounts(c);
        }
        book
    }

    fn index_of(&self, reference: &str) -> Option<usize> {
        self.by_reference.get(reference).copied()
    }

    /// A customer's account changed (a payment of this statement was recorded): what the
    /// rest of the statement is matched against is the account as it now is.
    /// Returns the customers to read again with more invoices listed (see [`Book::incomplete`]),
    /// now that amounts this changed may have become evidence.
    pub fn refresh(&mut self, customer: BookCustomer) -> Vec<String> {
        let Some(c) = self.index_of(&customer.reference) else { return Vec::new() };
        let old = std::mem::replace(&mut self.customers[c], customer);
        for inv in &old.open {
            let key = inv.reference.to_ascii_uppercase();
            if let Some(list) = self.invoices.get_mut(&key) {
                list.retain(|(x, _)| *x != c);
                if list.is_empty() {
                    self.invoices.remove(&key);
                }
            }
        }
        let before = Self::owed_by(&old);
        for cents in &before {
            if let Some(owed) = self.amounts.get_mut(cents) {
                owed.leave();
            }
        }
        let changed: HashSet<i64> = before.into_iter().chain(Self::owed_by(&self.customers[c])).collect();
        self.versions[c] += 1;
        self.index_amounts(c);
        self.unlisted_at(changed)
    }

    /// Whether an amount (cents) is evidence of who paid: few enough customers owe it.
    pub fn thin(&self, cents: i64) -> bool {
        self.amounts.get(&cents).is_none_or(|owed| owed.holders() <= AMOUNT_EVIDENCE_MAX)
    }

    /// The customers with an unlisted invoice of an amount that is evidence: to be read again
    /// listing those ([`Book::refresh`]) before the book decides as a complete one.
    pub fn incomplete(&self) -> Vec<String> {
        self.unlisted_at(self.amounts.keys().copied().collect())
    }

    fn unlisted_at(&self, amounts: HashSet<i64>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for cents in amounts {
            if !self.thin(cents) {
                continue;
            }
            for (c, held) in self.amounts.get(&cents).into_iter().flat_map(|o| o.list(&self.versions)) {
                let who = &self.customers[c].reference;
                if held == Held::Unlisted && !out.contains(who) {
                    out.push(who.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// The amounts a customer is counted as owing ([`owed_amounts`]).
    fn owed_by(c: &BookCustomer) -> Vec<i64> {
        owed_amounts(c.open.iter().map(|i| i.open).chain(c.unlisted.iter().copied()), c.balance)
    }

    /// A payment from this account went to this customer.
    pub fn saw_account(&mut self, iban: &str, customer: &str) {
        let Some(c) = self.index_of(customer) else { return };
        let seen = self.accounts.entry(compact_iban(iban)).or_default();
        if !seen.contains(&c) {
            seen.push(c);
        }
    }

    fn index_amounts(&mut self, c: usize) {
        let customer = &self.customers[c];
        let v = self.versions[c];
        for (k, inv) in customer.open.iter().enumerate() {
            self.invoices.entry(inv.reference.to_ascii_uppercase()).or_default().push((c, k));
            self.amounts.entry(inv.open.minor()).or_default().push(c, v, Held::Invoice(k));
        }
        for open in &customer.unlisted {
            self.amounts.entry(open.minor()).or_default().push(c, v, Held::Unlisted);
        }
        if customer.balance.is_positive() {
            self.amounts.entry(customer.balance.minor()).or_default().push(c, v, Held::Balance);
        }
    }
}

/// How many customers owe each amount, counted without making a book: which amounts are
/// evidence ([`Holders::thin`] says as [`Book::thin`] would) decides which invoices a book of
/// a large shop needs listed.
#[derive(Debug, Default)]
pub struct Holders(HashMap<i64, usize>);

impl Holders {
    /// Counts one customer owing these open amounts and this balance (counted when owed), each
    /// amount once however often they owe it.
    pub fn add(&mut self, open: impl IntoIterator<Item = Money>, balance: Money) {
        for cents in owed_amounts(open, balance) {
            *self.0.entry(cents).or_default() += 1;
        }
    }

    pub fn thin(&self, cents: i64) -> bool {
        self.0.get(&cents).is_none_or(|&n| n <= AMOUNT_EVIDENCE_MAX)
    }
}

/// What to do with one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Certain: record it as this customer's payment.
    Apply(Apply),
    /// Not certain: these customers, best first, for a person to confirm.
    Suggest(Vec<Suggestion>),
    /// Nothing to do with any customer, with why.
    Leave(String),
}

/// A payment to record, and why it is certain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apply {
    pub customer: String,
    /// The invoice the payment is aimed at (the rest goes to the oldest open ones).
    pub aim: Option<String>,
    pub rule: Rule,
}

/// Why a payment was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi(name = "BankMatchRule"))]
pub enum Rule {
    /// The customer's RF payment reference, quoted by the payer.
    Reference,
    /// Open invoices named by the payer, adding up to the amount.
    Invoices,
    /// A person confirmed it.
    Confirmed,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Reference => "reference",
            Rule::Invoices => "invoices",
            Rule::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        [Rule::Reference, Rule::Invoices, Rule::Confirmed].into_iter().find(|r| r.as_str() == s)
    }
}

/// A customer the transaction may be from, with what points to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "BankSuggestion"))]
pub struct Suggestion {
    pub customer: String,
    /// Their open invoices the transaction names or whose amount it has.
    pub invoices: Vec<String>,
    pub reasons: Vec<Reason>,
}

impl Suggestion {
    /// How strongly the reasons point to this customer: the ranking, not a probability.
    pub fn score(&self) -> u32 {
        self.reasons.iter().map(Reason::weight).sum()
    }
}

/// One thing that points to a customer (or, for the last two, a warning).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi(name = "BankReason"))]
pub enum Reason {
    /// Payments from this account went to this customer only.
    KnownAccount { iban: String },
    /// The payer's name has every word of the customer's.
    Name { payer: String },
    /// Invoices of theirs are named; the amount pays them in part.
    Partial { invoices: Vec<String>, open: Money },
    /// Invoices of theirs are named; the amount is more than they owe on them.
    Overpaid { invoices: Vec<String>, open: Money },
    /// Invoices of theirs are named; the amount is short by a bank fee's size.
    FeeGap { invoices: Vec<String>, gap: Money },
    /// The amount is what one of their invoices owes.
    AmountIsInvoice { invoice: String },
    /// The amount is their balance.
    AmountIsBalance,
    /// Valid references of several customers: which one paid is not certain.
    SeveralReferences,
    /// A reference with wrong check digits was written: mistyped, and never taken as a match.
    MistypedReference { written: String },
    /// The account was used for several customers: no proof of any one.
    SharedAccount { customers: u32 },
}

impl Reason {
    fn weight(&self) -> u32 {
        match self {
            Reason::KnownAccount { .. } => 40,
            Reason::FeeGap { .. } => 35,
            Reason::Name { .. } | Reason::Partial { .. } | Reason::Overpaid { .. } | Reason::SeveralReferences => 30,
            Reason::AmountIsInvoice { .. } => 20,
            Reason::AmountIsBalance => 15,
            Reason::MistypedReference { .. } | Reason::SharedAccount { .. } => 0,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::KnownAccount { iban } => write!(f, "payments from {iban} went to this customer before"),
            Reason::Name { payer } => write!(f, "the payer's name ({payer}) is the customer's"),
            Reason::Partial { invoices, open } => {
                write!(f, "a partial payment of {} (open {open} EUR)", invoices.join(", "))
            }
            Reason::Overpaid { invoices, open } => {
                write!(f, "more than {} owe (open {open} EUR)", invoices.join(", "))
            }
            Reason::FeeGap { invoices, gap } => {
                write!(f, "pays {} less {gap} EUR, probably a bank fee", invoices.join(", "))
            }
            Reason::AmountIsInvoice { invoice } => write!(f, "the amount is what {invoice} owes"),
            Reason::AmountIsBalance => write!(f, "the amount is the customer's balance"),
            Reason::SeveralReferences => write!(f, "payment references of several customers are quoted"),
            Reason::MistypedReference { written } => {
                write!(f, "{written} has wrong check digits: not taken as a reference")
            }
            Reason::SharedAccount { customers } => {
                write!(f, "this account paid for {customers} customers: no proof of any one")
            }
        }
    }
}

/// Decides what one transaction is (see the module's documentation).
pub fn decide(tx: &Transaction, book: &Book) -> Decision {
    if tx.status != Status::Booked {
        return Decision::Leave("pending: the bank has not booked it yet".into());
    }
    if tx.direction == Direction::Debit || tx.reversal {
        return Decision::Leave("money out (a debit or a returned transfer), not a payment".into());
    }
    let texts = texts(tx);
    let tokens: Vec<String> = texts.iter().flat_map(|t| tokens(t)).collect();
    let named = named_invoices(book, &tokens);
    let mistyped = mistyped_references(&texts);

    // Valid references naming customers, each customer once.
    let mut by_reference: Vec<usize> = Vec::new();
    for rf in tx.payment_references() {
        if let Some(Some(c)) = book.references.get(&rf)
            && !by_reference.contains(c)
        {
            by_reference.push(*c);
        }
    }
    if let [c] = by_reference[..] {
        let aim = latest_named(book, c, &named);
        return Decision::Apply(Apply { customer: book.customers[c].reference.clone(), aim, rule: Rule::Reference });
    }

    let mut found: BTreeMap<usize, Vec<Reason>> = BTreeMap::new();
    let mut invoices: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for &c in &by_reference {
        found.entry(c).or_default().push(Reason::SeveralReferences);
    }
    // Named invoices, by customer.
    let mut named_by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(c, k) in &named {
        named_by.entry(c).or_default().push(k);
    }
    if let (1, Some((&c, ks))) = (named_by.len(), named_by.iter().next())
        && by_reference.is_empty()
    {
        let open: Money = ks.iter().map(|&k| book.customers[c].open[k].open).sum();
        if open == tx.amount {
            let aim = latest_named(book, c, &named);
            return Decision::Apply(Apply { customer: book.customers[c].reference.clone(), aim, rule: Rule::Invoices });
        }
    }
    for (&c, ks) in &named_by {
        let refs: Vec<String> = ks.iter().map(|&k| book.customers[c].open[k].reference.clone()).collect();
        let open: Money = ks.iter().map(|&k| book.customers[c].open[k].open).sum();
        let gap = open - tx.amount;
        let reason = if gap.is_negative() {
            Reason::Overpaid { invoices: refs.clone(), open }
        } else if gap <= FEE_GAP_MAX && gap.minor() * 10 <= open.minor() {
            Reason::FeeGap { invoices: refs.clone(), gap }
        } else {
            Reason::Partial { invoices: refs.clone(), open }
        };
        found.entry(c).or_default().push(reason);
        invoices.entry(c).or_default().extend(refs);
    }
    // The account.
    if let Some(iban) = tx.counterparty_iban.as_deref().map(compact_iban)
        && let Some(seen) = book.accounts.get(&iban)
    {
        match seen[..] {
            [c] => found.entry(c).or_default().push(Reason::KnownAccount { iban: iban.clone() }),
            _ => {
                for &c in seen {
                    found.entry(c).or_default().push(Reason::SharedAccount { customers: seen.len() as u32 });
                }
            }
        }
    }
    // The payer's name.
    // The payer's name; banks without one copy it into their label.
    if let Some(payer) = tx.counterparty_name.as_ref().or(tx.bank_label.as_ref()) {
        let named = customers_named(book, payer);
        if named.len() <= AMOUNT_EVIDENCE_MAX {
            for c in named {
                found.entry(c).or_default().push(Reason::Name { payer: payer.clone() });
            }
        }
    }
    // The amount: evidence only when few customers have it.
    if let Some(owed) = book.amounts.get(&tx.amount.minor())
        && owed.holders() <= AMOUNT_EVIDENCE_MAX
    {
        for (c, held) in owed.list(&book.versions) {
            let reason = match held {
                // Not read: the book is incomplete (`Book::incomplete`), never to be guessed.
                Held::Unlisted => continue,
                Held::Invoice(k) => {
                    let invoice = book.customers[c].open[k].reference.clone();
                    let listed = invoices.entry(c).or_default();
                    if !listed.contains(&invoice) {
                        listed.push(invoice.clone());
                    }
                    Reason::AmountIsInvoice { invoice }
                }
                Held::Balance => Reason::AmountIsBalance,
            };
            let reasons = found.entry(c).or_default();
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }

    let mut suggestions: Vec<Suggestion> = found
        .into_iter()
        .map(|(c, mut reasons)| {
            reasons.extend(mistyped.iter().map(|w| Reason::MistypedReference { written: w.clone() }));
            Suggestion {
                customer: book.customers[c].reference.clone(),
                invoices: invoices.remove(&c).unwrap_or_default(),
                reasons,
            }
        })
        .filter(|s| s.score() > 0)
        .collect();
    suggestions.sort_by(|a, b| b.score().cmp(&a.score()).then_with(|| a.customer.cmp(&b.customer)));
    suggestions.truncate(SUGGESTIONS_MAX);
    if suggestions.is_empty() {
        let mut why = "no reference, open invoice, account or name of a customer".to_owned();
        for w in &mistyped {
            why.push_str(&format!("; {}", Reason::MistypedReference { written: w.clone() }));
        }
        return Decision::Leave(why);
    }
    Decision::Suggest(suggestions)
}

/// The texts a payer or their bank wrote, where references and invoice numbers are looked for.
fn texts(tx: &Transaction) -> Vec<&str> {
    [&tx.creditor_reference, &tx.remittance, &tx.bank_label, &tx.end_to_end_id]
        .into_iter()
        .filter_map(|t| t.as_deref())
        .collect()
}

/// Whole tokens, in ASCII capitals (as a store compares them with invoice references; invoice
/// numbers are ASCII in practice): runs of letters, digits and the joiners invoice numbers use
/// (`-`, `/`, `_`, `.`) inside a run, and the parts of a run between `.`, `/` or `_` (a payer
/// writes "Fact.INV-10/2026"). "INV-10" is never read as "INV-1", nor "1814" as "14"; a hyphen
/// never splits, since invoice numbers are made with it.
fn tokens(text: &str) -> Vec<String> {
    let joiner = |c: char| matches!(c, '-' | '/' | '_' | '.');
    let mut out = Vec::new();
    for t in text.split(|c: char| !(c.is_alphanumeric() || joiner(c))) {
        let t = t.trim_matches(joiner);
        if t.is_empty() {
            continue;
        }
        out.push(t.to_ascii_uppercase());
        if t.contains(['.', '/', '_']) {
            out.extend(
                t.split(['.', '/', '_'])
                    .map(|p| p.trim_matches('-'))
                    .filter(|p| !p.is_empty())
                    .map(str::to_ascii_uppercase),
            );
        }
    }
    out
}

/// Open invoices whose reference is one of the tokens: (customer, invoice), each once.
fn named_invoices(book: &Book, tokens: &[String]) -> Vec<(usize, usize)> {
    let mut named = Vec::new();
    for t in tokens {
        for &hit in book.invoices.get(t).map(Vec::as_slice).unwrap_or_default() {
            if !named.contains(&hit) {
                named.push(hit);
            }
        }
    }
    named
}

/// Of this customer's named invoices, the one due last: the payment is aimed at it and the rest
/// goes to the oldest open ones, which covers the others named when they are the oldest.
fn latest_named(book: &Book, c: usize, named: &[(usize, usize)]) -> Option<String> {
    named
        .iter()
        .filter(|(nc, _)| *nc == c)
        .map(|&(_, k)| &book.customers[c].open[k])
        .max_by_key(|i| i.due_on)
        .map(|i| i.reference.clone())
}

/// "RF" and two digits starting a token, not valid: a reference typed wrong.
fn mistyped_references(texts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for t in texts {
        let bytes = t.as_bytes();
        for start in 0..bytes.len() {
            let at_boundary = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            let looks = bytes.len() >= start + 5
                && bytes[start..start + 2].eq_ignore_ascii_case(b"RF")
                && bytes[start + 2].is_ascii_digit()
                && bytes[start + 3].is_ascii_digit();
            if !at_boundary || !looks {
                continue;
            }
            // As printed: groups of up to four separated by single spaces.
            let written: String = t[start..]
                .split(' ')
                .take_while(|g| !g.is_empty() && g.len() <= 4 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
                .collect::<Vec<_>>()
                .join(" ");
            let written = if written.len() < 5 {
                t[start..].chars().take_while(char::is_ascii_alphanumeric).collect()
            } else {
                written
            };
            if crate::payref::find_in(&written).is_empty() && !out.contains(&written) {
                out.push(written);
            }
        }
    }
    out
}

/// A name's words, folded (no case, no accents), without one-letter initials and legal forms.
fn name_words(name: &str) -> Vec<String> {
    const NOT_A_NAME: [&str; 14] =
        ["m", "mr", "mme", "mlle", "mrs", "ms", "sarl", "sas", "sasu", "eurl", "sa", "sci", "ste", "et"];
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && !NOT_A_NAME.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Customers every word of whose name the payer's name has. Each customer is found under one
/// key made of one or two of their words, all of which such a payer's name has: the payer's
/// words and pairs of words are the only keys to look up.
fn customers_named(book: &Book, payer: &str) -> Vec<usize> {
    let words = name_words(payer);
    let words: Vec<&str> = distinct(&words).collect();
    let mut out: Vec<usize> = Vec::new();
    let mut found = |key: u64| {
        for &c in book.by_name.get(&key).map(Vec::as_slice).unwrap_or_default() {
            if book.names[c].iter().all(|t| words.contains(&t.as_str())) {
                out.push(c);
            }
        }
    };
    for (i, a) in words.iter().enumerate() {
        found(key_of(a, ""));
        for b in &words[i + 1..] {
            found(key_of(a, b));
        }
    }
    out
}

/// Where a name is filed: its one word, or its two rarest words (by `frequency`); a name of no
/// word is filed nowhere (it names nobody).
fn name_key<'w>(words: &'w [String], frequency: impl Fn(&'w str) -> usize) -> Option<u64> {
    let mut rarest: Vec<&str> = distinct(words).collect();
    rarest.sort_by_key(|w| (frequency(w), *w));
    match rarest[..] {
        [] => None,
        [one] => Some(key_of(one, "")),
        [a, b, ..] => Some(key_of(a, b)),
    }
}

/// One word (`b` empty) or two, whichever comes first, as a key: a key two names share by
/// chance only adds a candidate that the comparison of words then turns down.
fn key_of(a: &str, b: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (a.min(b), a.max(b)).hash(&mut h);
    h.finish()
}

/// Each word once, in order.
fn distinct(words: &[String]) -> impl Iterator<Item = &str> {
    words.iter().enumerate().filter(move |(i, w)| !words[..*i].contains(w)).map(|(_, w)| w.as_str())
}

/// An IBAN as compared: without spaces, in capitals.
pub fn compact_iban(iban: &str) -> String {
    iban.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
