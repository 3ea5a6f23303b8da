//! A bank's CSV export read into one [`Statement`] through a [`CsvMapping`] that says which
//! column holds what: CSV exports have no standard, each bank (and each of its web sites) has
//! its own columns, separators and date format.
//!
//! A mapping is JSON, for example (a French bank's export with a running balance):
//!
//! ```json
//! {
//!   "delimiter": ";",
//!   "skip_rows": 2,
//!   "has_header": true,
//!   "date": "Date opération",
//!   "date_format": "%d/%m/%Y",
//!   "value_date": "Date valeur",
//!   "debit": "Débit",
//!   "credit": "Crédit",
//!   "decimal_separator": ",",
//!   "thousands_separator": " ",
//!   "label": "Libellé",
//!   "reference": "Référence",
//!   "balance": "Solde",
//!   "account": "FR76 3000 6000 0112 3456 7890 189"
//! }
//! ```
//!
//! A column is its header's name (trimmed, case ignored) or its 0-based index (`"date": 0`);
//! files without a header row (`"has_header": false`) name columns by index only. The amount
//! is one signed column (`"amount"`) or a `"debit"` and a `"credit"` column.
//!
//! Choices made here:
//! - With a running-balance column each row is checked: the previous row's balance plus the
//!   row's amount must be the row's balance, else the file is refused naming the line. The
//!   opening balance is the first row's balance minus its amount, the closing the last row's.
//!   A file listing the newest row first (its first date later than its last) is read from the
//!   bottom up, and its transactions are returned oldest first.
//! - Without a balance column there is **nothing to check**: opening is 0 and closing is the
//!   movements, so a missing row goes unnoticed (say so to whoever chooses the export).
//! - Amounts: the decimal separator (`,` by default) and the thousands separator (none by
//!   default; a space also matches a non-breaking one) are the mapping's, a leading `+` or `-`
//!   is read, at most two decimals, never rounded. A debit column's amount is a debit whatever
//!   its sign; a row with both a debit and a credit (neither zero), or neither, is refused.
//!   A zero in a signed column is a credit.
//! - A row whose date or amount cannot be read is refused naming it: `line 12, column "Montant"`.
//!   Rows with every field empty are skipped. The bank's rows are all taken as booked, in EUR
//!   (a CSV export names no currency: the mapping is for the shop's EUR account).
//! - The label is the bank's label, the reference column the remittance text.
//! - The bank id: the mapped bank-id column when it has a value ([`IdSource::Transaction`]; a
//!   value repeated in the file gets `/2`, `/3` ... after its second, third occurrence), else
//!   `h:` and a hash as [`camt`](super::camt) makes it, of the account, the dates, direction,
//!   amount, texts, and how many transactions before it say all the same.
//! - The statement id is the mapping's `statement_id`, else the account (or "csv") and the first
//!   and last dates. The account is `account_iban` when it is an IBAN (spaces ignored).
//! - Text is UTF-8 when valid, else Windows-1252, as in the other readers.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{BankError, Direction, IdSource, Statement, Status, Transaction};
use crate::money::{Money, MoneyError};

/// Which column of a bank's CSV export holds what; see the module documentation for the JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// The field separator, one ASCII character: `;` by default (French banks).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Whether a header row names the columns (after the skipped rows): yes by default.
    #[serde(default = "default_true")]
    pub has_header: bool,
    /// Rows before the header (or the data): a bank's title, the account, the export date.
    #[serde(default)]
    pub skip_rows: usize,
    /// The booking date.
    pub date: Column,
    /// A chrono format: `%d/%m/%Y` by default.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    #[serde(default)]
    pub value_date: Option<Column>,
    /// One signed column; or `debit` and `credit`.
    #[serde(default)]
    pub amount: Option<Column>,
    #[serde(default)]
    pub debit: Option<Column>,
    #[serde(default)]
    pub credit: Option<Column>,
    /// `,` by default.
    #[serde(default = "default_decimal")]
    pub decimal_separator: char,
    /// None by default.
    #[serde(default)]
    pub thousands_separator: Option<char>,
    #[serde(default)]
    pub label: Option<Column>,
    #[serde(default)]
    pub counterparty_name: Option<Column>,
    #[serde(default)]
    pub counterparty_iban: Option<Column>,
    #[serde(default)]
    pub reference: Option<Column>,
    /// The bank's own id of the transaction, when the export has one.
    #[serde(default)]
    pub bank_id: Option<Column>,
    /// The running balance after each row.
    #[serde(default)]
    pub balance: Option<Column>,
    /// The account the export is of: its IBAN (kept as the statement's) or any name for it.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub statement_id: Option<String>,
}

/// A column by its header's name or its 0-based index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

fn default_delimiter() -> char {
    ';'
}
fn default_true() -> bool {
    true
}
fn default_date_format() -> String {
    "%d/%m/%Y".to_owned()
}
fn default_decimal() -> char {
    ','
}

impl CsvMapping {
    /// A mapping from its JSON.
    pub fn from_json(json: &str) -> Result<CsvMapping, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// A mapped column found in the file: its index and how to name it in an error.
#[derive(Clone, Debug)]
struct Col {
    index: usize,
    shown: String,
}

/// The amount columns, resolved.
enum Amounts {
    Signed(Col),
    Split { debit: Col, credit: Col },
}

fn mapping_error(reason: impl Into<String>) -> BankError {
    BankError::Malformed { element: "CSV mapping".into(), line: 0, reason: reason.into() }
}

/// Reads a CSV export as one statement with `mapping`, or refuses the whole file.
pub fn parse(input: &[u8], mapping: &CsvMapping) -> Result<Vec<Statement>, BankError> {
    if !mapping.delimiter.is_ascii() {
        return Err(mapping_error(format!("the delimiter {:?} is not one ASCII character", mapping.delimiter)));
    }
    let text = super::decode_text(input);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| BankError::Malformed {
            element: "CSV".into(),
            line: line_at(&text, e.position().map_or(0, |p| p.byte() as usize)),
            reason: e.to_string(),
        })?;
        let line = line_at(&text, record.position().map_or(0, |p| p.byte() as usize));
        rows.push((line, record));
    }
    let mut rows = rows.into_iter().skip(mapping.skip_rows);
    let header = if mapping.has_header {
        let (line, h) = rows.next().ok_or_else(|| BankError::Malformed {
            element: "CSV header".into(),
            line: 1,
            reason: "the file ends before its header row".into(),
        })?;
        Some((line, h.iter().map(|f| f.trim().to_owned()).collect::<Vec<_>>()))
    } else {
        None
    };
    let resolve = |c: &Column| -> Result<Col, BankError> {
        match (c, &header) {
            (Column::Index(i), Some((_, names))) => {
                Ok(Col { index: *i, shown: names.get(*i).map_or_else(|| format!("{i}"), |n| format!("{n:?}")) })
            }
            (Column::Index(i), None) => Ok(Col { index: *i, shown: format!("{i}") }),
            (Column::Name(n), Some((line, names))) => names
                .iter()
                .position(|h| h.to_lowercase() == n.trim().to_lowercase())
                .map(|index| Col { index, shown: format!("{:?}", names[index]) })
                .ok_or_else(|| BankError::Malformed {
                    element: format!("line {line} (header)"),
                    line: *line,
                    reason: format!("no column {n:?}; the columns are {}", names.join(", ")),
                }),
            (Column::Name(n), None) => {
                Err(mapping_error(format!("column {n:?} named, but the file has no header row")))
            }
        }
    };
    let optional = |c: &Option<Column>| c.as_ref().map(resolve).transpose();
    let amounts = match (&mapping.amount, &mapping.debit, &mapping.credit) {
        (Some(a), None, None) => Amounts::Signed(resolve(a)?),
        (None, Some(d), Some(c)) => Amounts::Split { debit: resolve(d)?, credit: resolve(c)? },
        _ => return Err(mapping_error("map either \"amount\" (signed) or both \"debit\" and \"credit\"")),
    };
    let cols = Cols {
        date: resolve(&mapping.date)?,
        value_date: optional(&mapping.value_date)?,
        amounts,
        label: optional(&mapping.label)?,
        counterparty_name: optional(&mapping.counterparty_name)?,
        counterparty_iban: optional(&mapping.counterparty_iban)?,
        reference: optional(&mapping.reference)?,
        bank_id: optional(&mapping.bank_id)?,
        balance: optional(&mapping.balance)?,
    };

    let mut read: Vec<Row> = Vec::new();
    for (line, record) in rows {
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        read.push(cols.row(line, &record, mapping)?);
    }
    if read.is_empty() {
        return Err(BankError::Malformed {
            element: "CSV".into(),
            line: 0,
            reason: "no transaction in the file".into(),
        });
    }
    if read.first().map(|r| r.t.booking_date) > read.last().map(|r| r.t.booking_date) {
        read.reverse();
    }

    let account = mapping.account.as_ref().map(|a| a.replace(' ', "").to_uppercase());
    let account_iban = account.clone().filter(|a| super::is_iban(a));
    let first = read.first().and_then(|r| r.t.booking_date);
    let last = read.last().and_then(|r| r.t.booking_date);
    let day = |d: Option<NaiveDate>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
    let id = mapping
        .statement_id
        .clone()
        .unwrap_or_else(|| format!("{}/{}..{}", account.as_deref().unwrap_or("csv"), day(first), day(last)));

    let (opening, closing) = match &cols.balance {
        Some(_) => {
            let balances: Vec<(usize, Money, Money)> =
                read.iter().map(|r| (r.line, r.t.signed(), r.balance.expect("read with the balance column"))).collect();
            let opening = balances[0].2 - balances[0].1;
            for pair in balances.windows(2) {
                let ((_, _, previous), (line, amount, balance)) = (pair[0], pair[1]);
                if previous + amount != balance {
                    return Err(BankError::Unbalanced {
                        statement: format!("{id}, line {line}"),
                        opening: previous,
                        movements: amount,
                        closing: balance,
                    });
                }
            }
            (opening, balances[balances.len() - 1].2)
        }
        None => (Money::ZERO, read.iter().map(|r| r.t.signed()).sum()),
    };

    let mut transactions: Vec<Transaction> = read.into_iter().map(|r| r.t).collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for t in transactions.iter_mut().filter(|t| t.id_source == IdSource::Transaction) {
        let n = seen.entry(t.bank_id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            t.bank_id = format!("{}/{n}", t.bank_id);
        }
    }
    super::finish_hash_ids(account.as_deref(), &mut transactions);
    Ok(vec![Statement {
        id,
        account_iban,
        currency: "EUR".to_owned(),
        opening,
        closing,
        from: first,
        to: last,
        transactions,
    }])
}

struct Cols {
    date: Col,
    value_date: Option<Col>,
    amounts: Amounts,
    label: Option<Col>,
    counterparty_name: Option<Col>,
    counterparty_iban: Option<Col>,
    reference: Option<Col>,
    bank_id: Option<Col>,
    balance: Option<Col>,
}

struct Row {
    line: usize,
    t: Transaction,
    balance: Option<Money>,
}

impl Cols {
    fn row(&self, line: usize, record: &::csv::StringRecord, mapping: &CsvMapping) -> Result<Row, BankError> {
        let error = |c: &Col, reason: String| BankError::Malformed {
            element: format!("line {line}, column {}", c.shown),
            line,
            reason,
        };
        let field = |c: &Col| -> Result<&str, BankError> {
            record
                .get(c.index)
                .map(str::trim)
                .ok_or_else(|| error(c, format!("the row has {} fields, no column {}", record.len(), c.index)))
        };
        let text = |c: &Option<Col>| -> Result<Option<String>, BankError> {
            Ok(match c {
                Some(c) => Some(field(c)?).filter(|t| !t.is_empty()).map(str::to_owned),
                None => None,
            })
        };
        let date = |c: &Col| -> Result<NaiveDate, BankError> {
            let t = field(c)?;
            NaiveDate::parse_from_str(t, &mapping.date_format)
                .map_err(|_| error(c, format!("{t:?} is not a date as {}", mapping.date_format)))
        };
        let amount = |c: &Col| -> Result<Option<Money>, BankError> {
            let t = field(c)?;
            if t.is_empty() {
                return Ok(None);
            }
            parse_amount(t, mapping).map(Some).map_err(|reason| error(c, reason))
        };
        let (signed, direction) = match &self.amounts {
            Amounts::Signed(c) => {
                let a = amount(c)?.ok_or_else(|| error(c, "no amount".into()))?;
                (a, if a.is_negative() { Direction::Debit } else { Direction::Credit })
            }
            Amounts::Split { debit, credit } => match (amount(debit)?, amount(credit)?) {
                (Some(d), None) => (-d.abs(), Direction::Debit),
                (Some(d), Some(c)) if c.is_zero() => (-d.abs(), Direction::Debit),
                (None, Some(c)) => (c, Direction::Credit),
                (Some(d), Some(c)) if d.is_zero() => (c, Direction::Credit),
                (Some(_), Some(_)) => return Err(error(debit, "both a debit and a credit on one row".into())),
                (None, None) => return Err(error(debit, "neither a debit nor a credit".into())),
            },
        };
        if direction == Direction::Credit && signed.is_negative() {
            let c = match &self.amounts {
                Amounts::Split { credit, .. } => credit,
                Amounts::Signed(c) => c,
            };
            return Err(error(c, format!("a negative credit {signed}")));
        }
        let balance = match &self.balance {
            Some(c) => Some(amount(c)?.ok_or_else(|| error(c, "no balance".into()))?),
            None => None,
        };
        let mut t = Transaction {
            bank_id: String::new(),
            id_source: IdSource::Hash,
            booking_date: Some(date(&self.date)?),
            value_date: self.value_date.as_ref().map(date).transpose()?,
            amount: signed.abs(),
            direction,
            status: Status::Booked,
            reversal: false,
            counterparty_name: text(&self.counterparty_name)?,
            counterparty_iban: text(&self.counterparty_iban)?.map(|i| i.replace(' ', "").to_uppercase()),
            remittance: text(&self.reference)?,
            creditor_reference: None,
            end_to_end_id: None,
            bank_label: text(&self.label)?,
        };
        match text(&self.bank_id)? {
            Some(id) => (t.bank_id, t.id_source) = (id, IdSource::Transaction),
            None => t.bank_id = super::camt::hash_content(&t),
        }
        Ok(Row { line, t, balance })
    }
}

/// The line of the record starting at byte `at`. The csv crate starts a record after a CRLF at
/// its `\n`, and counts lines so too: the line is counted here from its first character.
fn line_at(text: &str, mut at: usize) -> usize {
    while text.as_bytes().get(at).is_some_and(|b| *b == b'\r' || *b == b'\n') {
        at += 1;
    }
    1 + text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// An amount as the mapping writes it: its separators, a leading sign, at most 2 decimals.
fn parse_amount(text: &str, mapping: &CsvMapping) -> Result<Money, String> {
    let mut s = text.to_owned();
    if let Some(sep) = mapping.thousands_separator {
        s = s.replace(sep, "");
        if sep == ' ' {
            s = s.replace(['\u{a0}', '\u{202f}'], "");
        }
    }
    if mapping.decimal_separator != '.' {
        if s.contains('.') {
            return Err(format!("{text:?} is not an amount like 1234{}50", mapping.decimal_separator));
        }
        s = s.replace(mapping.decimal_separator, ".");
    }
    let s = s.strip_prefix('+').unwrap_or(&s);
    Money::parse(s).map_err(|e| match e {
        MoneyError::TooManyDecimals(_) => format!("{text:?} has more than 2 decimals, EUR has cents"),
        MoneyError::TooLarge(_) => format!("{text:?} is too large"),
        MoneyError::Malformed(_) => format!("{text:?} is not an amount like -1234{}50", mapping.decimal_separator),
    })
}
