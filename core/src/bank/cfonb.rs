//! The French CFONB 120 "relevé de compte sur support informatique" read into [`Statement`]s.
//!
//! The format (CFONB brochure of July 2004, with the SEPA qualifiers of August 2007): records
//! of 120 characters, one per line (LF or CRLF) or one unbroken stream, each starting with its
//! code: `01` ancien solde, `04` mouvement, `05` complément of the `04` before it, `07` nouveau
//! solde. Each `01` ... `07` group is one statement of one account; a file may hold several, of
//! one account or several. Positions, 1-based as the brochure numbers them:
//! - every record: 1-2 code, 3-7 code banque, 8-11 code opération interne (04, 05), 12-16 code
//!   guichet, 17-19 code devise, 20 nombre de décimales, 22-32 numéro de compte, 33-34 code
//!   opération interbancaire (04, 05), 35-40 date (of the balance, or the booking) as DDMMYY;
//! - `01` and `07`: 91-104 the balance;
//! - `04`: 41-42 code motif de rejet, 43-48 date de valeur, 49-79 libellé, 82-88 numéro
//!   d'écriture, 89 indice d'exonération, 90 indice d'indisponibilité, 91-104 montant,
//!   105-120 zone de référence;
//! - `05`: 46-48 qualifiant, 49-118 the complement's text.
//!
//! Amounts are 14 characters: 13 digits and a last character that is both the last digit and
//! the sign (`{` and `A`..`I` for +0..+9, `}` and `J`..`R` for -0..-9), with the number of
//! decimals in position 20. A positive movement is a credit.
//!
//! Choices made here:
//! - Files are UTF-8 when valid, else Windows-1252 (banks write Latin-1 in libellés despite the
//!   brochure's character set). Positions count characters, not bytes.
//! - A record that is not 120 characters long, an unknown code, a `04` or `05` outside a `01` ...
//!   `07` group, a group not closed, a record of another account than its `01`, a bad date or
//!   amount: the whole file is refused, naming the line and the positions at fault
//!   (`line 12, positions 91-104 (montant)`). In a file without line breaks, line n is the n-th
//!   record. Empty lines are skipped.
//! - EUR only, at most 2 decimals. A blank currency or number of decimals (some banks leave them
//!   blank in `01` and `07`) reads as EUR and 2.
//! - Years are 20YY: a shop imports this century's statements.
//! - The account: the French IBAN made from the bank, branch and account codes with the RIB key
//!   computed (the record does not carry the key). The statement id is `bank-branch-account/`
//!   and the date of the `07` (no id in the format); `from` is the day after the `01`'s date
//!   (the ancien solde closes the previous period), `to` the `07`'s date.
//! - `05` complements: `NPY` (payer's name) is the counterparty of a credit, `NBE`
//!   (beneficiary's name) of a debit; `RCN` (the payer's reference) is also the end-to-end id;
//!   the text of every other qualifier (`LIB`, `LCC`, `RCN`, `REF`, ... and the other name) is
//!   added to the remittance, after the `04`'s zone de référence. The `04`'s libellé is the
//!   bank's label. A code motif de rejet marks a reversal.
//! - The bank id: CFONB has no unique transaction id (the numéro d'écriture is often zeros), so
//!   it is always `h:` and a hash, as [`camt`](super::camt) makes it, of the account, the dates,
//!   direction, amount, libellé, référence, complements, numéro d'écriture and operation codes,
//!   and how many transactions before it in the statement say all the same: the same for the
//!   same transaction when a daily and a monthly statement both bring it.

use chrono::{Days, NaiveDate};

use super::{BankError, Direction, IdSource, Statement, Status, Transaction};
use crate::money::Money;

const WIDTH: usize = 120;
const CURRENCY: &str = "EUR";

/// Whether the input looks like CFONB 120: its first record is 120 characters starting with a
/// record code.
pub fn looks_like(input: &[u8]) -> bool {
    let text = super::decode_text(input);
    let Some((_, first)) = records(&text).into_iter().find(|(_, r)| !r.is_empty()) else { return false };
    first.chars().count() == WIDTH && ["01", "04", "05", "07"].iter().any(|c| first.starts_with(c))
}

/// Reads every statement of a CFONB 120 file, in the file's order, or refuses the whole file.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    let text = super::decode_text(input);
    let mut statements = Vec::new();
    let mut open: Option<Open> = None;
    let mut last_line = 0;
    for (line, raw) in records(&text) {
        if raw.is_empty() {
            continue;
        }
        last_line = line;
        let rec = Record { line, chars: raw.chars().collect() };
        if rec.chars.len() != WIDTH {
            return Err(BankError::Malformed {
                element: format!("line {line}"),
                line,
                reason: format!("a record is {WIDTH} characters, this one is {}", rec.chars.len()),
            });
        }
        match rec.field(1, 2).as_str() {
            "01" => {
                if let Some(o) = &open {
                    return Err(rec.error(
                        1,
                        2,
                        "code",
                        format!("a new statement before the 07 closing the one of line {}", o.first_line),
                    ));
                }
                let account = rec.account()?;
                let (opening, _) = rec.amount(91, 104, "ancien solde")?;
                let date = rec.date(35, 40, "date de l'ancien solde", false)?;
                open = Some(Open { first_line: line, account, opening, date, transactions: Vec::new() });
            }
            "04" => {
                let o = open
                    .as_mut()
                    .ok_or_else(|| rec.error(1, 2, "code", "a movement outside a statement (no 01 before it)"))?;
                rec.same_account(&o.account)?;
                o.transactions.push(rec.movement()?);
            }
            "05" => {
                let o = open
                    .as_mut()
                    .ok_or_else(|| rec.error(1, 2, "code", "a complement outside a statement (no 01 before it)"))?;
                rec.same_account(&o.account)?;
                let m = o
                    .transactions
                    .last_mut()
                    .ok_or_else(|| rec.error(1, 2, "code", "a complement with no movement (04) before it"))?;
                m.complements.push((rec.field(46, 48).trim().to_owned(), rec.field(49, 118).trim().to_owned()));
            }
            "07" => {
                let o = open.take().ok_or_else(|| {
                    rec.error(1, 2, "code", "a closing balance outside a statement (no 01 before it)")
                })?;
                rec.same_account(&o.account)?;
                let (closing, _) = rec.amount(91, 104, "nouveau solde")?;
                let date = rec.date(35, 40, "date du nouveau solde", false)?;
                statements.push(o.close(closing, date, line)?);
            }
            other => return Err(rec.error(1, 2, "code", format!("unknown record code {other:?} (01, 04, 05 or 07)"))),
        }
    }
    if let Some(o) = open {
        return Err(BankError::Malformed {
            element: format!("line {last_line}"),
            line: last_line,
            reason: format!("the file ends before the 07 closing the statement of line {}", o.first_line),
        });
    }
    if statements.is_empty() {
        return Err(BankError::Malformed {
            element: "file".into(),
            line: 1,
            reason: "no statement in the file".into(),
        });
    }
    Ok(statements)
}

/// The records with their line numbers: the lines when there are line breaks, else 120-character
/// slices of the one stream (numbered as lines).
fn records(text: &str) -> Vec<(usize, String)> {
    let text = text.trim_end_matches(['\u{1a}', '\0']);
    if text.contains('\n') || text.contains('\r') {
        let sep = if text.contains('\n') { '\n' } else { '\r' };
        return text
            .split(sep)
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l).to_owned()))
            .collect();
    }
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(WIDTH).enumerate().map(|(i, c)| (i + 1, c.iter().collect())).collect()
}

/// A statement being read: its `01` and the movements so far.
struct Open {
    first_line: usize,
    account: Account,
    opening: Money,
    date: Option<NaiveDate>,
    transactions: Vec<Movement>,
}

impl Open {
    fn close(self, closing: Money, to: Option<NaiveDate>, line: usize) -> Result<Statement, BankError> {
        let iban = super::french_iban(&self.account.bank, &self.account.branch, &self.account.number);
        let to_text = to.map_or_else(|| format!("line {line}"), |d| d.to_string());
        let id = format!("{}-{}-{}/{to_text}", self.account.bank, self.account.branch, self.account.number);
        let mut transactions: Vec<Transaction> =
            self.transactions.into_iter().map(Movement::into_transaction).collect();
        super::finish_hash_ids(iban.as_deref(), &mut transactions);
        let statement = Statement {
            id,
            account_iban: iban,
            currency: CURRENCY.to_owned(),
            opening: self.opening,
            closing,
            from: self.date.and_then(|d| d.checked_add_days(Days::new(1))),
            to,
            transactions,
        };
        let movements = statement.movements();
        if statement.opening + movements != closing {
            return Err(BankError::Unbalanced {
                statement: format!("{} (lines {}-{line})", statement.id, self.first_line),
                opening: statement.opening,
                movements,
                closing,
            });
        }
        Ok(statement)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    bank: String,
    branch: String,
    number: String,
}

/// A `04` and its `05`s, turned into a [`Transaction`] once its complements are all read.
struct Movement {
    t: Transaction,
    reference: String,
    /// Numéro d'écriture and the operation codes: not in the model, but told apart in the hash.
    extra: String,
    complements: Vec<(String, String)>,
}

impl Movement {
    fn into_transaction(self) -> Transaction {
        let mut t = self.t;
        let name_qualifier = match t.direction {
            Direction::Credit => "NPY",
            Direction::Debit => "NBE",
        };
        t.counterparty_name =
            self.complements.iter().find(|(q, v)| q == name_qualifier && !v.is_empty()).map(|(_, v)| v.clone());
        t.end_to_end_id = self
            .complements
            .iter()
            .find(|(q, _)| q == "RCN")
            .map(|(_, v)| v.chars().take(35).collect::<String>().trim().to_owned())
            .filter(|v| !v.is_empty() && v != "NOTPROVIDED");
        let mut used_name = false;
        let rest = self.complements.iter().filter(|(q, _)| {
            // Only the first name complement is the counterparty; a second one stays text.
            let is_name = q == name_qualifier && !used_name && t.counterparty_name.is_some();
            used_name |= is_name;
            !is_name
        });
        t.remittance = super::join_texts(std::iter::once(self.reference.as_str()).chain(rest.map(|(_, v)| v.as_str())));
        t.bank_id = format!(
            "{}\n{}\n{}",
            super::camt::hash_content(&t),
            self.extra,
            self.complements.iter().map(|(q, _)| q.as_str()).collect::<Vec<_>>().join(",")
        );
        t
    }
}

/// One 120-character record.
struct Record {
    line: usize,
    chars: Vec<char>,
}

impl Record {
    /// Positions `from` to `to`, 1-based and inclusive as the brochure numbers them.
    fn field(&self, from: usize, to: usize) -> String {
        self.chars[from - 1..to].iter().collect()
    }

    fn error(&self, from: usize, to: usize, name: &str, reason: impl Into<String>) -> BankError {
        let positions = if from == to { format!("position {from}") } else { format!("positions {from}-{to}") };
        BankError::Malformed {
            element: format!("line {}, {positions} ({name})", self.line),
            line: self.line,
            reason: reason.into(),
        }
    }

    fn account(&self) -> Result<Account, BankError> {
        self.currency()?;
        Ok(Account { bank: self.field(3, 7), branch: self.field(12, 16), number: self.field(22, 32) })
    }

    fn same_account(&self, account: &Account) -> Result<(), BankError> {
        let mine = self.account()?;
        if &mine != account {
            return Err(self.error(
                3,
                32,
                "compte",
                format!(
                    "account {} {} {} is not the statement's {} {} {}",
                    mine.bank, mine.branch, mine.number, account.bank, account.branch, account.number
                ),
            ));
        }
        Ok(())
    }

    /// Checks the currency is EUR (blank read as EUR) and returns the number of decimals.
    fn currency(&self) -> Result<u32, BankError> {
        let ccy = self.field(17, 19);
        if !ccy.trim().is_empty() && ccy != CURRENCY {
            return Err(BankError::Currency {
                element: format!("line {}, positions 17-19 (code devise)", self.line),
                line: self.line,
                currency: ccy.trim().to_owned(),
            });
        }
        match self.chars[19] {
            ' ' => Ok(2),
            c @ '0'..='2' => Ok(c as u32 - '0' as u32),
            c @ '3'..='9' => Err(self.error(20, 20, "nombre de décimales", format!("{c} decimals, EUR has cents"))),
            c => Err(self.error(20, 20, "nombre de décimales", format!("{c:?} is not a number of decimals"))),
        }
    }

    /// The signed amount in `from`..`to` and its direction (from the sign, so a zero keeps it).
    fn amount(&self, from: usize, to: usize, name: &str) -> Result<(Money, Direction), BankError> {
        let decimals = self.currency()?;
        let text = self.field(from, to);
        let bad = |reason: String| self.error(from, to, name, reason);
        let (last, digits) = self.chars[from - 1..to].split_last().expect("a field of 14 positions");
        let digits: String = digits.iter().collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("{text:?} is not 13 digits and a signed last digit")));
        }
        let last = *last;
        let (digit, direction) = match last {
            '{' => (0, Direction::Credit),
            'A'..='I' => (last as i64 - 'A' as i64 + 1, Direction::Credit),
            '}' => (0, Direction::Debit),
            'J'..='R' => (last as i64 - 'J' as i64 + 1, Direction::Debit),
            _ => return Err(bad(format!("{text:?} ends in {last:?}, not a signed digit ({{, A-I, }}, J-R)"))),
        };
        let units: i64 = digits.parse::<i64>().map_err(|e| bad(e.to_string()))? * 10 + digit;
        let minor = units.checked_mul(10i64.pow(2 - decimals)).ok_or_else(|| bad(format!("{text:?} is too large")))?;
        let signed = if direction == Direction::Debit { -minor } else { minor };
        let money = Money::try_from_minor(signed).map_err(|e| bad(e.to_string()))?;
        Ok((money, direction))
    }

    /// A DDMMYY date; blank gives `None` unless `required`.
    fn date(&self, from: usize, to: usize, name: &str, required: bool) -> Result<Option<NaiveDate>, BankError> {
        let text = self.field(from, to);
        if text.trim().is_empty() && !required {
            return Ok(None);
        }
        let num = |a: usize| {
            text.get(a..a + 2).filter(|s| s.bytes().all(|b| b.is_ascii_digit())).and_then(|s| s.parse::<u32>().ok())
        };
        let date = match (num(0), num(2), num(4)) {
            (Some(d), Some(m), Some(y)) => NaiveDate::from_ymd_opt(2000 + y as i32, m, d),
            _ => None,
        };
        date.map(Some).ok_or_else(|| self.error(from, to, name, format!("{text:?} is not a date (DDMMYY)")))
    }

    fn movement(&self) -> Result<Movement, BankError> {
        let (signed, direction) = self.amount(91, 104, "montant")?;
        let rejection = self.field(41, 42);
        let t = Transaction {
            bank_id: String::new(),
            id_source: IdSource::Hash,
            booking_date: self.date(35, 40, "date de comptabilisation", true)?,
            value_date: self.date(43, 48, "date de valeur", false)?,
            amount: signed.abs(),
            direction,
            status: Status::Booked,
            reversal: !rejection.trim().is_empty() && rejection != "00",
            counterparty_name: None,
            counterparty_iban: None,
            remittance: None,
            creditor_reference: None,
            end_to_end_id: None,
            bank_label: super::join_texts([self.field(49, 79).as_str()]),
        };
        Ok(Movement {
            t,
            reference: self.field(105, 120),
            extra: format!("{}|{}|{}|{}", self.field(82, 88), self.field(8, 11), self.field(33, 34), rejection),
            complements: Vec::new(),
        })
    }
}
