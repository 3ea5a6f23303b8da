//! OFX bank statements (Open Financial Exchange 1.x in SGML and 2.x in XML) read into
//! [`Statement`]s.
//!
//! OFX 1.x is a header of `KEY:VALUE` lines (`OFXHEADER:100`, `DATA:OFXSGML`, `CHARSET:1252`
//! ...) and SGML where a leaf element is a tag followed by its value with no closing tag
//! (`<TRNAMT>-4.70`) and aggregates are closed (`</STMTTRN>`). A small tokenizer here turns it
//! into the same tree [`xml`](super::xml) makes of OFX 2.x (`<?OFX OFXHEADER="200" ...?>`, well
//! formed XML, read with quick-xml), so one reader serves both.
//!
//! What is read: every `BANKMSGSRSV1/STMTTRNRS/STMTRS` (several per file; credit-card
//! statements are not read), `CURDEF` (EUR, others refused), `BANKACCTFROM`, `BANKTRANLIST`
//! with `DTSTART`/`DTEND`, each `STMTTRN` (`TRNTYPE`, `DTPOSTED`, `DTAVAIL`, `TRNAMT`, `FITID`,
//! `NAME`, `PAYEE/NAME`, `MEMO`, `REFNUM`, `CHECKNUM`, `BANKACCTTO`, `CURRENCY`) and
//! `LEDGERBAL/BALAMT`.
//!
//! Choices made here:
//! - OFX gives the closing balance (`LEDGERBAL`) but no opening one: the opening is set to the
//!   closing minus the movements, so **an OFX statement cannot be balance-checked**: a missing
//!   or doubled transaction goes unnoticed, where CAMT and CFONB would refuse the file.
//! - Dates (`YYYYMMDD[HHMMSS[.XXX]][[+-h]:TZ]`) give their date as written, not converted.
//! - `TRNAMT` is signed; its sign gives the direction (`TRNTYPE` is informational and banks
//!   disagree on it), a zero is a debit only with `TRNTYPE` `DEBIT`. The decimal separator is
//!   `.` or `,` (the specification allows both); more than 2 decimals are refused. A
//!   transaction with a `CURRENCY` other than EUR is refused (`ORIGCURRENCY` only says what
//!   the amount, already in EUR, was).
//! - The account: `ACCTID` when it is an IBAN; else the French IBAN of `BANKID`, `BRANCHID` and
//!   the first 11 characters of `ACCTID` (a 13th and 14th, when there, must be the RIB key);
//!   else no IBAN, and `BANKID BRANCHID ACCTID` names the account in the statement id. The
//!   statement id is that account (IBAN or not), `/`, and `DTSTART..DTEND`.
//! - `NAME` (the bank's description, often the payer and the reason) is the bank's label,
//!   `PAYEE/NAME` the counterparty, `MEMO`, `REFNUM` and `CHECKNUM` the remittance text.
//! - The bank id is `FITID` ([`IdSource::Transaction`]); a `FITID` repeated in a statement (some
//!   banks' exports) gets `/2`, `/3` ... after its second, third occurrence; a transaction without
//!   one gets a hash as [`camt`](super::camt) makes it.
//! - Text is UTF-8 when valid, else Windows-1252 (`CHARSET:1252` or `ISO-8859-1`), whatever the
//!   header says: French banks label UTF-8 files 1252 and the reverse.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::xml::{self, Node};
use super::{BankError, Direction, IdSource, Statement, Status, Transaction};
use crate::money::{Money, MoneyError};

const CURRENCY: &str = "EUR";

/// Reads every bank statement of an OFX 1.x or 2.x file, or refuses the whole file.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    let text = super::decode_text(input);
    let start = text.trim_start();
    let root = if start.starts_with("<?xml") || start.starts_with("<?OFX") {
        xml::parse(text.as_bytes())?.root
    } else {
        sgml(&text)?
    };
    if root.name != "OFX" {
        return Err(BankError::UnknownFormat { found: format!("<{}>, not <OFX>", root.name) });
    }
    let msgs = root.child("BANKMSGSRSV1").ok_or_else(|| BankError::Malformed {
        element: "OFX/BANKMSGSRSV1".into(),
        line: root.line,
        reason: "missing: no bank statement in the file".into(),
    })?;
    let mut statements = Vec::new();
    for (i, trnrs) in msgs.children("STMTTRNRS").enumerate() {
        let path = format!("OFX/BANKMSGSRSV1/STMTTRNRS[{}]", i + 1);
        let stmtrs = trnrs.child("STMTRS").ok_or_else(|| {
            let code = trnrs.at("STATUS/CODE").map_or("none", |c| c.text.as_str());
            malformed(&format!("{path}/STMTRS"), trnrs, format!("missing (the bank's status code: {code})"))
        })?;
        statements.push(statement(stmtrs, &format!("{path}/STMTRS"))?);
    }
    if statements.is_empty() {
        return Err(malformed("OFX/BANKMSGSRSV1/STMTTRNRS", msgs, "no statement in the file"));
    }
    Ok(statements)
}

fn malformed(element: &str, node: &Node, reason: impl Into<String>) -> BankError {
    BankError::Malformed { element: element.to_owned(), line: node.line, reason: reason.into() }
}

/// The text of the child `name`, required and not empty.
fn required<'a>(node: &'a Node, path: &str, name: &str) -> Result<(&'a Node, String), BankError> {
    let element = format!("{path}/{name}");
    match node.at(name) {
        Some(n) if !n.text.is_empty() => Ok((n, element)),
        Some(n) => Err(malformed(&element, n, "empty")),
        None => Err(malformed(&element, node, "missing")),
    }
}

fn optional(node: &Node, name: &str) -> Option<String> {
    node.at(name).map(|n| n.text.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
}

fn statement(stmtrs: &Node, path: &str) -> Result<Statement, BankError> {
    let (curdef, element) = required(stmtrs, path, "CURDEF")?;
    if curdef.text != CURRENCY {
        return Err(BankError::Currency { element, line: curdef.line, currency: curdef.text.clone() });
    }
    let (acct, acct_path) = match stmtrs.child("BANKACCTFROM") {
        Some(a) => (a, format!("{path}/BANKACCTFROM")),
        None => return Err(malformed(&format!("{path}/BANKACCTFROM"), stmtrs, "missing")),
    };
    required(acct, &acct_path, "ACCTID")?;
    let (account_iban, account_name) = account(acct);

    let list = stmtrs.child("BANKTRANLIST");
    let list_path = format!("{path}/BANKTRANLIST");
    let from = list.and_then(|l| l.child("DTSTART")).map(|n| date(n, &format!("{list_path}/DTSTART"))).transpose()?;
    let to = list.and_then(|l| l.child("DTEND")).map(|n| date(n, &format!("{list_path}/DTEND"))).transpose()?;

    let mut transactions = Vec::new();
    let mut fitids: HashMap<String, u32> = HashMap::new();
    for (i, trn) in list.iter().flat_map(|l| l.children("STMTTRN")).enumerate() {
        let mut t = transaction(trn, &format!("{list_path}/STMTTRN[{}]", i + 1))?;
        if t.id_source == IdSource::Transaction {
            let n = fitids.entry(t.bank_id.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                t.bank_id = format!("{}/{n}", t.bank_id);
            }
        }
        transactions.push(t);
    }
    super::finish_hash_ids(Some(account_iban.as_deref().unwrap_or(&account_name)), &mut transactions);

    let (balamt, bal_path) = match stmtrs.child("LEDGERBAL") {
        Some(bal) => required(bal, &format!("{path}/LEDGERBAL"), "BALAMT")?,
        None => return Err(malformed(&format!("{path}/LEDGERBAL"), stmtrs, "missing: no closing balance")),
    };
    let closing = amount(balamt, &bal_path)?;
    let day = |d: Option<NaiveDate>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
    let mut statement = Statement {
        id: format!("{}/{}..{}", account_iban.as_deref().unwrap_or(&account_name), day(from), day(to)),
        account_iban,
        currency: CURRENCY.to_owned(),
        opening: Money::ZERO,
        closing,
        from,
        to,
        transactions,
    };
    // No opening balance in OFX: nothing to check, see the module documentation.
    statement.opening = closing - statement.movements();
    Ok(statement)
}

/// The account's IBAN if it has one, and a name for it either way.
fn account(acct: &Node) -> (Option<String>, String) {
    let part = |name: &str| optional(acct, name).map(|t| t.replace(' ', "").to_uppercase()).unwrap_or_default();
    let (bank, branch, id) = (part("BANKID"), part("BRANCHID"), part("ACCTID"));
    if super::is_iban(&id) {
        return (Some(id.clone()), id);
    }
    let rib = match id.len() {
        11 => super::french_iban(&bank, &branch, &id),
        13 => super::french_iban(&bank, &branch, &id[..11]).filter(|iban| iban.ends_with(&id[11..])),
        _ => None,
    };
    let name = [bank, branch, id].into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    (rib, name)
}

fn transaction(trn: &Node, path: &str) -> Result<Transaction, BankError> {
    let (amt, amt_path) = required(trn, path, "TRNAMT")?;
    let signed = amount(amt, &amt_path)?;
    if let Some(cur) = trn.child("CURRENCY") {
        let (sym, element) = required(cur, &format!("{path}/CURRENCY"), "CURSYM")?;
        if sym.text != CURRENCY {
            return Err(BankError::Currency { element, line: sym.line, currency: sym.text.clone() });
        }
    }
    let (posted, posted_path) = required(trn, path, "DTPOSTED")?;
    let booking_date = Some(date(posted, &posted_path)?);
    let value_date = trn.child("DTAVAIL").map(|n| date(n, &format!("{path}/DTAVAIL"))).transpose()?;
    let direction =
        if signed.is_negative() || (signed.is_zero() && optional(trn, "TRNTYPE").as_deref() == Some("DEBIT")) {
            Direction::Debit
        } else {
            Direction::Credit
        };
    let counterparty_iban = trn.child("BANKACCTTO").and_then(|a| account(a).0);
    let memo = optional(trn, "MEMO");
    let refnum = optional(trn, "REFNUM");
    let checknum = optional(trn, "CHECKNUM");
    let mut t = Transaction {
        bank_id: String::new(),
        id_source: IdSource::Transaction,
        booking_date,
        value_date,
        amount: signed.abs(),
        direction,
        status: Status::Booked,
        reversal: false,
        counterparty_name: optional(trn, "PAYEE/NAME"),
        counterparty_iban,
        remittance: super::join_texts([memo, refnum, checknum].iter().flatten().map(String::as_str)),
        creditor_reference: None,
        end_to_end_id: None,
        bank_label: optional(trn, "NAME"),
    };
    match optional(trn, "FITID") {
        Some(fitid) => t.bank_id = fitid,
        None => (t.bank_id, t.id_source) = (super::camt::hash_content(&t), IdSource::Hash),
    }
    Ok(t)
}

/// A signed OFX amount: `.` or `,` as the decimal separator, a leading `+` or `-`, at most two
/// decimals.
fn amount(node: &Node, path: &str) -> Result<Money, BankError> {
    let text = node.text.trim();
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => ("-", &text[1..]),
        Some(b'+') => ("", &text[1..]),
        _ => ("", text),
    };
    let body = body.replace(',', ".");
    let body = body.strip_suffix('.').filter(|b| !b.is_empty() && !b.ends_with('.')).unwrap_or(&body);
    let lead = if body.starts_with('.') && body.len() > 1 { "0" } else { "" };
    Money::parse(&format!("{sign}{lead}{body}")).map_err(|e| {
        malformed(
            path,
            node,
            match e {
                MoneyError::TooManyDecimals(_) => format!("amount {text:?} has more than 2 decimals, EUR has cents"),
                MoneyError::Malformed(_) => format!("amount {text:?} is not a number like -12.50"),
                MoneyError::TooLarge(_) => format!("amount {text:?} is too large"),
            },
        )
    })
}

/// The date of an OFX date-time, as written (no time zone conversion).
fn date(node: &Node, path: &str) -> Result<NaiveDate, BankError> {
    let text = node.text.trim();
    let rest_ok = text.get(8..).is_some_and(|rest| {
        rest.bytes().all(|b| b.is_ascii_alphanumeric() || b".:+-[] ".contains(&b))
            && rest.bytes().next().is_none_or(|b| b.is_ascii_digit() || b == b'[')
    });
    text.get(..8)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()) && rest_ok)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(|| malformed(path, node, format!("{text:?} is not an OFX date (YYYYMMDD...)")))
}

/// OFX 1.x: the header lines, then SGML read into a tree of [`Node`]s. A start tag followed by
/// text is a leaf, closed by the next tag (or by its own end tag, which some banks write); an
/// element closed by the end tag of an ancestor without having text was an empty leaf: its
/// supposed children are put back after it.
fn sgml(text: &str) -> Result<Node, BankError> {
    let body_at = text.find('<').ok_or_else(|| BankError::Malformed {
        element: "document".into(),
        line: 1,
        reason: "no <OFX> element after the header".into(),
    })?;
    let mut line = 1 + text[..body_at].matches('\n').count();
    let mut rest = &text[body_at..];
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let path = |stack: &[Node]| {
        if stack.is_empty() {
            "document".to_owned()
        } else {
            stack.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join("/")
        }
    };
    let fail =
        |stack: &[Node], line: usize, reason: String| BankError::Malformed { element: path(stack), line, reason };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or_else(|| fail(&stack, line, "a tag not closed by '>'".into()))?;
            let tag = &after[..end];
            let tag_line = line;
            line += tag.matches('\n').count();
            rest = &after[end + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim().to_uppercase();
                if !stack.iter().any(|n| n.name == name) {
                    return Err(fail(&stack, tag_line, format!("</{name}> closes no open <{name}>")));
                }
                loop {
                    let mut node = stack.pop().expect("an open element of that name");
                    let closed = node.name == name;
                    if !closed && AGGREGATES.contains(&node.name.as_str()) {
                        let reason = format!("<{}> of line {} is not closed before </{name}>", node.name, node.line);
                        return Err(fail(&stack, tag_line, reason));
                    }
                    let hoisted =
                        if closed || !node.text.is_empty() { Vec::new() } else { std::mem::take(&mut node.children) };
                    attach(&mut stack, &mut root, node).map_err(|r| fail(&stack, tag_line, r))?;
                    for child in hoisted {
                        attach(&mut stack, &mut root, child).map_err(|r| fail(&stack, tag_line, r))?;
                    }
                    if closed {
                        break;
                    }
                }
            } else {
                let name = tag.trim().to_uppercase();
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_') {
                    return Err(fail(&stack, tag_line, format!("<{tag}> is not an OFX tag")));
                }
                close_leaf(&mut stack, &mut root).map_err(|r| fail(&stack, tag_line, r))?;
                stack.push(Node { name, line: tag_line, ..Node::default() });
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            let text_line = line;
            line += raw.matches('\n').count();
            rest = &rest[end..];
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            match stack.last_mut() {
                Some(node) if node.children.is_empty() && node.text.is_empty() => node.text = entities(value),
                Some(_) => {
                    return Err(fail(&stack, text_line, format!("text {value:?} where an element was expected")));
                }
                None => return Err(fail(&stack, text_line, format!("text {value:?} outside the <OFX> element"))),
            }
        }
    }
    close_leaf(&mut stack, &mut root).map_err(|r| fail(&stack, line, r))?;
    if !stack.is_empty() {
        return Err(fail(&stack, line, "the file ends before this element is closed".into()));
    }
    root.ok_or_else(|| BankError::Malformed {
        element: "document".into(),
        line,
        reason: "no element in the file".into(),
    })
}

/// The aggregates this reader walks through: one left open would put what follows it in the
/// wrong place, so it is refused rather than taken for an empty leaf.
const AGGREGATES: [&str; 17] = [
    "OFX",
    "SIGNONMSGSRSV1",
    "SONRS",
    "STATUS",
    "BANKMSGSRSV1",
    "STMTTRNRS",
    "STMTRS",
    "BANKACCTFROM",
    "BANKACCTTO",
    "BANKTRANLIST",
    "STMTTRN",
    "PAYEE",
    "CURRENCY",
    "ORIGCURRENCY",
    "LEDGERBAL",
    "AVAILBAL",
    "BALLIST",
];

/// Closes the open element if it is a leaf with its value: the next tag ends it.
fn close_leaf(stack: &mut Vec<Node>, root: &mut Option<Node>) -> Result<(), String> {
    if stack.last().is_some_and(|n| !n.text.is_empty()) {
        let node = stack.pop().expect("checked");
        attach(stack, root, node)?;
    }
    Ok(())
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_none() => *root = Some(node),
        None => return Err(format!("<{}> after the root element", node.name)),
    }
    Ok(())
}

/// The character entities SGML OFX writes.
fn entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}
