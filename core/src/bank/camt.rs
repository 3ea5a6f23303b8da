//! ISO 20022 CAMT.053 (bank-to-customer statement) read into [`Statement`]s, versions
//! camt.053.001.02 to .001.08.
//!
//! What differs between those versions, for what is read here (from the schemas):
//! - `Ntry/Sts` is a bare code (`<Sts>BOOK</Sts>`) in the early versions and a choice
//!   (`<Sts><Cd>BOOK</Cd></Sts>`, or `<Prtry>`) in the later ones (.07 or .08 depending on who
//!   wrote the bank's guide): both forms are read in every version, as banks mix them.
//! - `RltdPties/Dbtr` (and `Cdtr`) is a party (`<Dbtr><Nm>`) up to .07 and a choice of party or
//!   agent in .08 (`<Dbtr><Pty><Nm>`): both are read in every version.
//! - `TxDtls/Amt` and `TxDtls/CdtDbtInd` appear in .03; .02 has only `TxDtls/AmtDtls/TxAmt/Amt`,
//!   which later versions keep: `Amt` is read first, then `AmtDtls/TxAmt/Amt`.
//! - Dates are `<Dt>` or `<DtTm>` in every version; a date-time gives its date as written
//!   (the bank's local date), not converted.
//!
//! Choices made here:
//! - The opening balance is `OPBD`, else `PRCD` (previously closed booked); the closing is `CLBD`.
//!   A `DBIT` balance is negative. A statement split in pages (`StmtPgntn`) gives one
//!   [`Statement`] per page, each with the statement's id: a page without `OPBD` opens with
//!   its interim balance `ITBD`/`OIBD`, a page without `CLBD` closes with `ITBD`/`CIBD`, and
//!   each page is checked on its own. (Two identical transactions without a bank reference on
//!   two pages of one day would get the same hashed id: pages are counted apart.)
//! - A booked entry counts in the balance check, a pending one (`PDNG`, `FUTR`, `INFO`) is
//!   returned as [`Status::Pending`] and counts nowhere. Other codes are refused.
//! - An entry with transaction details gives one transaction per `TxDtls` (across all its
//!   `NtryDtls`); an entry without gives one transaction. With several details each needs its
//!   amount, and their signed sum must be the entry's; with one detail its amount, if given,
//!   must be the entry's. A detail amount in another currency (a foreign transfer stated in
//!   the payer's currency) is not the account's: a single detail then takes the entry's amount,
//!   a batch is refused.
//! - The bank id: `TxDtls/Refs/AcctSvcrRef`, else `Ntry/AcctSvcrRef`, else `NtryRef` (both with
//!   `/n` for the n-th detail of a batch), else `h:` and 32 hex digits of the SHA-256 of the
//!   account IBAN, status, booking and value dates, direction, amount, counterparty name and
//!   IBAN, remittance text, creditor reference, end-to-end id and bank label, and how many transactions
//!   before it in the statement say all the same. Not the statement's id nor the position:
//!   a statement overlapping one already read (a monthly one over the daily ones) must give
//!   the same ids for the same day. Two identical transfers on one day stay two (their count
//!   differs); a statement that covers only part of a day could mistake the second for the first.
//!   Some banks copy the booking's reference into each detail of a batch: when details of one
//!   entry share a reference, each gets `/n` after it, so no transfer hides another.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::xml::{self, Node};
use super::{BankError, Direction, IdSource, Statement, Status, Transaction};
use crate::money::{Money, MoneyError};

/// The namespaces read: camt.053.001.02 to .08.
pub const NAMESPACES: [&str; 7] = [
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.03",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.05",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.06",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.07",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
];

const CURRENCY: &str = "EUR";
const NOT_PROVIDED: &str = "NOTPROVIDED";

/// Reads every statement of a CAMT.053 file, in the file's order. The file is refused whole at
/// the first fault: nothing is returned for a file with one wrong statement.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    let doc = xml::parse(input)?;
    let namespace = doc.namespace.unwrap_or_default();
    if doc.root.name != "Document" || !NAMESPACES.contains(&namespace.as_str()) {
        let found = if namespace.is_empty() { "no namespace".to_owned() } else { namespace };
        return Err(BankError::UnknownFormat { found: format!("<{}> in {found}", doc.root.name) });
    }
    let here = Here { path: String::new(), line: doc.root.line };
    let (report, here) = here.required(&doc.root, "BkToCstmrStmt")?;
    let stmts: Vec<&Node> = report.children("Stmt").collect();
    if stmts.is_empty() {
        return Err(here.malformed("Stmt", "no statement in the file"));
    }
    stmts.iter().enumerate().map(|(i, s)| statement(s, Here::root(format!("Stmt[{}]", i + 1), s.line))).collect()
}

/// Where the reader is, to name the element at fault.
#[derive(Clone, Debug)]
struct Here {
    path: String,
    line: usize,
}

impl Here {
    fn root(path: String, line: usize) -> Here {
        Here { path, line }
    }

    fn join(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_owned() } else { format!("{}/{name}", self.path) }
    }

    fn enter(&self, node: &Node, name: &str) -> Here {
        Here { path: self.join(name), line: node.line }
    }

    fn malformed(&self, name: &str, reason: impl Into<String>) -> BankError {
        BankError::Malformed { element: self.join(name), line: self.line, reason: reason.into() }
    }

    fn here_malformed(&self, reason: impl Into<String>) -> BankError {
        BankError::Malformed { element: self.path.clone(), line: self.line, reason: reason.into() }
    }

    /// The child at `path` (names separated by `/`), or an error naming it as missing.
    fn required<'a>(&self, node: &'a Node, path: &str) -> Result<(&'a Node, Here), BankError> {
        let found = node.at(path).ok_or_else(|| self.malformed(path, "missing"))?;
        Ok((found, self.enter(found, path)))
    }

    fn text<'a>(&self, node: &'a Node, path: &str) -> Result<&'a str, BankError> {
        let (found, here) = self.required(node, path)?;
        if found.text.is_empty() {
            return Err(here.here_malformed("empty"));
        }
        Ok(&found.text)
    }
}

/// Text of an optional element, `None` when absent, empty or "NOTPROVIDED".
fn optional(node: &Node, path: &str) -> Option<String> {
    node.at(path).map(|n| n.text.as_str()).filter(|t| !t.is_empty() && *t != NOT_PROVIDED).map(str::to_owned)
}

fn statement(stmt: &Node, here: Here) -> Result<Statement, BankError> {
    let id = here.text(stmt, "Id")?.to_owned();
    let (account, account_here) = here.required(stmt, "Acct")?;
    if let Some(ccy) = account.child("Ccy").filter(|c| c.text != CURRENCY) {
        return Err(BankError::Currency {
            element: account_here.join("Ccy"),
            line: ccy.line,
            currency: ccy.text.clone(),
        });
    }
    let account_iban = optional(account, "Id/IBAN").map(|iban| iban.replace(' ', ""));

    let mut opening = None;
    let mut closing = None;
    for (i, bal) in stmt.children("Bal").enumerate() {
        let bal_here = here.enter(bal, &format!("Bal[{}]", i + 1));
        let code = bal.at("Tp/CdOrPrtry/Cd").map(|c| c.text.as_str());
        let sub = bal.at("Tp/SubTp/Cd").map(|c| c.text.as_str());
        let slot = match (code, sub) {
            (Some("OPBD"), _) => Some((&mut opening, 0)),
            (Some("PRCD"), _) => Some((&mut opening, 1)),
            (Some("ITBD"), Some("OIBD")) => Some((&mut opening, 2)),
            (Some("CLBD"), _) => Some((&mut closing, 0)),
            (Some("ITBD"), Some("CIBD")) => Some((&mut closing, 1)),
            _ => None,
        };
        if let Some((slot, rank)) = slot {
            let amount = signed_amount(bal, &bal_here)?;
            // OPBD wins over PRCD, and both over an interim balance; the first of a kind wins.
            if slot.is_none_or(|(_, r): (Money, u8)| r > rank) {
                *slot = Some((amount, rank));
            }
        }
    }
    let opening = opening.ok_or_else(|| here.malformed("Bal", "no opening balance (OPBD or PRCD)"))?.0;
    let closing = closing.ok_or_else(|| here.malformed("Bal", "no closing balance (CLBD)"))?.0;

    let from = stmt.at("FrToDt/FrDtTm").map(|n| date(n, &here.enter(n, "FrToDt/FrDtTm"))).transpose()?;
    let to = stmt.at("FrToDt/ToDtTm").map(|n| date(n, &here.enter(n, "FrToDt/ToDtTm"))).transpose()?;

    let mut transactions = Vec::new();
    for (i, ntry) in stmt.children("Ntry").enumerate() {
        entry(ntry, &here.enter(ntry, &format!("Ntry[{}]", i + 1)), &mut transactions)?;
    }
    let mut seen = std::collections::HashMap::new();
    for t in transactions.iter_mut().filter(|t| t.id_source == IdSource::Hash) {
        let n = seen.entry(t.bank_id.clone()).or_insert(0u32);
        t.bank_id = hash_id(account_iban.as_deref(), &t.bank_id, *n);
        *n += 1;
    }

    let statement =
        Statement { id, account_iban, currency: CURRENCY.to_owned(), opening, closing, from, to, transactions };
    let movements = statement.movements();
    if opening + movements != closing {
        return Err(BankError::Unbalanced { statement: statement.id, opening, movements, closing });
    }
    Ok(statement)
}

/// Appends the transactions of one `Ntry`.
fn entry(ntry: &Node, here: &Here, out: &mut Vec<Transaction>) -> Result<(), BankError> {
    let amount = amount(ntry, "Amt", here)?;
    let direction = direction(ntry, here)?;
    let status = status(ntry, here)?;
    let reversal = ntry.child("RvslInd").is_some_and(|r| r.text == "true" || r.text == "1");
    let booking_date = dated(ntry, "BookgDt", here)?;
    let value_date = dated(ntry, "ValDt", here)?;
    let entry_ref = optional(ntry, "AcctSvcrRef")
        .map(|r| (r, IdSource::Entry))
        .or_else(|| optional(ntry, "NtryRef").map(|r| (r, IdSource::EntryRef)));

    let details: Vec<(&Node, Here)> = ntry
        .children("NtryDtls")
        .enumerate()
        .flat_map(|(i, dtls)| {
            let dtls_here = here.enter(dtls, &format!("NtryDtls[{}]", i + 1));
            dtls.children("TxDtls")
                .enumerate()
                .map(move |(j, tx)| (tx, dtls_here.enter(tx, &format!("TxDtls[{}]", j + 1))))
        })
        .collect();

    let base = Transaction {
        bank_id: String::new(),
        id_source: IdSource::Hash,
        booking_date,
        value_date,
        amount,
        direction,
        status,
        reversal,
        counterparty_name: None,
        counterparty_iban: None,
        remittance: None,
        creditor_reference: None,
        end_to_end_id: None,
        bank_label: optional(ntry, "AddtlNtryInf"),
    };
    if details.is_empty() {
        out.push(identified(base, None, entry_ref.as_ref(), 0, false));
        return Ok(());
    }
    let batch = details.len() > 1;
    let first = out.len();
    let mut sum = Money::ZERO;
    for (k, (tx, tx_here)) in details.iter().enumerate() {
        // A foreign transfer may state its detail in the payer's currency: the entry alone
        // then says what reached the account, which is enough when it is the only detail.
        let paths = ["Amt", "AmtDtls/TxAmt/Amt"];
        let present: Vec<&str> = paths.into_iter().filter(|p| tx.at(p).is_some()).collect();
        let foreign = |p: &&str| tx.at(p).and_then(|a| a.attr("Ccy")).is_some_and(|c| c != CURRENCY);
        let in_eur = present.iter().find(|p| !foreign(p));
        let given = match (in_eur, present.first()) {
            (Some(path), _) => Some(self::amount(tx, path, tx_here)?),
            (None, Some(path)) if batch => Some(self::amount(tx, path, tx_here)?),
            (None, _) => None,
        };
        let tx_amount = match given {
            Some(a) => a,
            None if !batch => amount,
            None => return Err(tx_here.malformed("Amt", "a batch of several transactions needs each one's amount")),
        };
        let tx_direction = if tx.child("CdtDbtInd").is_some() { self::direction(tx, tx_here)? } else { direction };
        let mut t = Transaction { amount: tx_amount, direction: tx_direction, ..base.clone() };
        sum += t.signed();
        let (name_of, account_of) = match tx_direction {
            Direction::Credit => ("Dbtr", "DbtrAcct"),
            Direction::Debit => ("Cdtr", "CdtrAcct"),
        };
        if let Some(parties) = tx.child("RltdPties") {
            t.counterparty_name =
                parties.child(name_of).and_then(|p| optional(p, "Nm").or_else(|| optional(p, "Pty/Nm")));
            t.counterparty_iban =
                parties.child(account_of).and_then(|a| optional(a, "Id/IBAN")).map(|i| i.replace(' ', ""));
        }
        if let Some(rmt) = tx.child("RmtInf") {
            let lines: Vec<&str> = rmt.children("Ustrd").map(|u| u.text.as_str()).filter(|u| !u.is_empty()).collect();
            t.remittance = (!lines.is_empty()).then(|| lines.join(" "));
            t.creditor_reference = rmt.children("Strd").find_map(|s| optional(s, "CdtrRefInf/Ref"));
        }
        t.end_to_end_id = optional(tx, "Refs/EndToEndId");
        t.bank_label = optional(tx, "AddtlTxInf").or(t.bank_label);
        let own = optional(tx, "Refs/AcctSvcrRef");
        out.push(identified(t, own, entry_ref.as_ref(), k + 1, batch));
    }
    let entry_signed = match direction {
        Direction::Credit => amount,
        Direction::Debit => -amount,
    };
    if sum != entry_signed {
        return Err(BankError::BatchMismatch { entry: here.path.clone(), entry_amount: entry_signed, details: sum });
    }
    let mine = &mut out[first..];
    let shared = mine.iter().enumerate().any(|(i, a)| mine[..i].iter().any(|b| b.bank_id == a.bank_id));
    if shared {
        for (k, t) in mine.iter_mut().enumerate().filter(|(_, t)| t.id_source == IdSource::Transaction) {
            t.bank_id = format!("{}/{}", t.bank_id, k + 1);
        }
    }
    Ok(())
}

/// Gives the transaction its bank id; a hash's content for now, finished per statement.
fn identified(
    mut t: Transaction,
    own: Option<String>,
    entry_ref: Option<&(String, IdSource)>,
    k: usize,
    batch: bool,
) -> Transaction {
    (t.bank_id, t.id_source) = match (own, entry_ref) {
        (Some(r), _) => (r, IdSource::Transaction),
        (None, Some((r, source))) if batch => (format!("{r}/{k}"), *source),
        (None, Some((r, source))) => (r.clone(), *source),
        (None, None) => (hash_content(&t), IdSource::Hash),
    };
    t
}

/// What a transaction says, one field a line, for the hash.
pub(super) fn hash_content(t: &Transaction) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    [
        format!("{:?}", t.status),
        date(t.booking_date),
        date(t.value_date),
        format!("{:?}", t.direction),
        t.amount.to_string(),
        opt(&t.counterparty_name),
        opt(&t.counterparty_iban),
        opt(&t.remittance),
        opt(&t.creditor_reference),
        opt(&t.end_to_end_id),
        opt(&t.bank_label),
    ]
    .join("\n")
}

pub(super) fn hash_id(iban: Option<&str>, content: &str, occurrence: u32) -> String {
    let mut h = Sha256::new();
    h.update(iban.unwrap_or_default().as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    h.update(format!("\n{occurrence}").as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("h:{hex}")
}

/// An amount at `path`: EUR, not negative, at most two decimals.
fn amount(node: &Node, path: &str, here: &Here) -> Result<Money, BankError> {
    let (amt, amt_here) = here.required(node, path)?;
    match amt.attr("Ccy") {
        Some(CURRENCY) => {}
        Some(other) => {
            return Err(BankError::Currency { element: amt_here.path, line: amt.line, currency: other.to_owned() });
        }
        None => return Err(amt_here.here_malformed("no currency (Ccy attribute)")),
    }
    let money = Money::parse(&xs_decimal(&amt.text)).map_err(|e| {
        amt_here.here_malformed(match e {
            MoneyError::TooManyDecimals(s) => format!("amount {s:?} has more than 2 decimals, EUR has cents"),
            other => other.to_string(),
        })
    })?;
    if money.is_negative() {
        return Err(amt_here.here_malformed(format!("amount {:?} is negative; the sign is in CdtDbtInd", amt.text)));
    }
    Ok(money)
}

/// An `xs:decimal` as `Money::parse` reads it: the schema also allows a leading `+` and a
/// point with no digits on one side ("+5", ".50", "5."), which banks' generators may write.
fn xs_decimal(text: &str) -> String {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (sign, body) = match unsigned.strip_prefix('-') {
        Some(b) if !text.starts_with('+') => ("-", b),
        _ => ("", unsigned),
    };
    let body = body.strip_suffix('.').filter(|b| !b.is_empty() && !b.ends_with('.')).unwrap_or(body);
    let lead = if body.starts_with('.') && body.len() > 1 { "0" } else { "" };
    format!("{sign}{lead}{body}")
}

fn direction(node: &Node, here: &Here) -> Result<Direction, BankError> {
    match here.text(node, "CdtDbtInd")? {
        "CRDT" => Ok(Direction::Credit),
        "DBIT" => Ok(Direction::Debit),
        other => Err(here.malformed("CdtDbtInd", format!("{other:?} is neither CRDT nor DBIT"))),
    }
}

fn signed_amount(bal: &Node, here: &Here) -> Result<Money, BankError> {
    let amount = amount(bal, "Amt", here)?;
    Ok(match direction(bal, here)? {
        Direction::Credit => amount,
        Direction::Debit => -amount,
    })
}

fn status(ntry: &Node, here: &Here) -> Result<Status, BankError> {
    let (sts, sts_here) = here.required(ntry, "Sts")?;
    // .02 to .07: the code is the element's text; .08: in <Cd> (or <Prtry>).
    let (code, code_here) = match sts.child("Cd").or_else(|| sts.child("Prtry")) {
        Some(inner) => (inner.text.as_str(), sts_here.enter(inner, &inner.name)),
        None => (sts.text.as_str(), sts_here),
    };
    match code {
        "BOOK" => Ok(Status::Booked),
        "PDNG" | "FUTR" | "INFO" => Ok(Status::Pending),
        other => Err(code_here.here_malformed(format!("unknown status {other:?} (BOOK, PDNG, FUTR or INFO)"))),
    }
}

/// The date in `<Dt>` or `<DtTm>` under `name`, if `name` is there.
fn dated(node: &Node, name: &str, here: &Here) -> Result<Option<NaiveDate>, BankError> {
    let Some(outer) = node.child(name) else { return Ok(None) };
    let outer_here = here.enter(outer, name);
    let inner = outer.child("Dt").or_else(|| outer.child("DtTm"));
    match inner {
        Some(inner) => date(inner, &outer_here.enter(inner, &inner.name)).map(Some),
        None => Err(outer_here.here_malformed("neither Dt nor DtTm")),
    }
}

/// An ISO date, or the date part of an ISO date-time, as written.
fn date(node: &Node, here: &Here) -> Result<NaiveDate, BankError> {
    let text = node.text.as_str();
    text.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|_| text.len() == 10 || text.as_bytes()[10] == b'T')
        .ok_or_else(|| here.here_malformed(format!("{text:?} is not a date (YYYY-MM-DD)")))
}
