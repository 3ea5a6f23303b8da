//! Importing a shop's history from another system: customers and invoices as CSV, parsed and
//! checked here line by line before the store writes anything.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::customer::{CustomerKind, Terms};
use crate::error::{Error, Result};
use crate::money::Money;

/// The largest file an import takes: far above a shop's history, and a guard against a wrong file.
pub const MAX_ROWS: usize = 5_000_000;

/// A line of the customers file: `ref,name,email,phone,kind,credit_limit,terms`, and optionally
/// `paperless_from` (the day from which bills go by email).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerRow {
    pub line: usize,
    pub reference: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: CustomerKind,
    pub credit_limit: Option<Money>,
    pub terms: Option<Terms>,
    /// `None` when the file has no such column (a known customer's day is then kept);
    /// `Some(None)` when the cell is empty (bills on paper).
    pub paperless_from: Option<Option<NaiveDate>>,
}

/// A line of the invoices file: `customer_ref,invoice_ref,issued_on,due_on,amount,paid_on`
/// and optionally `disputed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRow {
    pub line: usize,
    pub customer_ref: String,
    pub invoice_ref: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub paid_on: Option<NaiveDate>,
    pub disputed: bool,
}

/// Every problem found in a file, each with its line number (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ImportReport {
    pub rows: u64,
    pub customers_created: u64,
    pub customers_updated: u64,
    pub invoices_created: u64,
    pub payments_recorded: u64,
    pub disputes_recorded: u64,
    /// Rows already imported with nothing new in them.
    pub unchanged: u64,
}

/// Collects line errors, up to a limit: a file with thousands of bad lines is one wrong file.
pub(crate) struct Problems {
    pub list: Vec<LineError>,
}

const MAX_REPORTED: usize = 50;

impl Problems {
    pub fn new() -> Problems {
        Problems { list: Vec::new() }
    }
    pub fn add(&mut self, line: usize, message: impl Into<String>) {
        if self.list.len() < MAX_REPORTED {
            self.list.push(LineError { line, message: message.into() });
        }
    }
    pub fn into_result(self, what: &'static str) -> Result<()> {
        if self.list.is_empty() { Ok(()) } else { Err(Error::Import { file: what, errors: self.list }) }
    }
}

/// How dates are written in a file: ISO (`2013-01-02`), the only form the import takes unless
/// told otherwise, or month/day/year (`1/2/2013`) as US exports write them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DateStyle {
    #[default]
    Iso,
    MonthDayYear,
}

impl DateStyle {
    pub fn parse(self, s: &str) -> std::result::Result<NaiveDate, String> {
        let s = s.trim();
        match self {
            DateStyle::Iso => crate::parse_date(s).map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)")),
            DateStyle::MonthDayYear => {
                let parts: Vec<&str> = s.split('/').collect();
                let num = |p: &str, max: u32| p.parse::<u32>().ok().filter(|n| (1..=max).contains(n));
                match parts.as_slice() {
                    [m, d, y] if y.len() == 4 => num(m, 12)
                        .zip(num(d, 31))
                        .zip(y.parse::<i32>().ok())
                        .and_then(|((m, d), y)| NaiveDate::from_ymd_opt(y, m, d))
                        .ok_or_else(|| format!("{s:?} is not a date (M/D/YYYY)")),
                    _ => Err(format!("{s:?} is not a date (M/D/YYYY)")),
                }
            }
        }
    }
}

fn reader(data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(data)
}

/// Finds each wanted column in the header (any order, case-insensitive); `optional` ones may
/// be missing.
fn columns(
    headers: &csv::StringRecord,
    wanted: &[&'static str],
    optional: &[&'static str],
) -> std::result::Result<Vec<Option<usize>>, String> {
    let find = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for name in wanted {
        let at = find(name);
        if at.is_none() && !optional.contains(name) {
            missing.push(*name);
        }
        out.push(at);
    }
    if missing.is_empty() { Ok(out) } else { Err(format!("missing column(s): {}", missing.join(", "))) }
}

fn text(v: &str, field: &str, max: usize) -> std::result::Result<String, String> {
    if v.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(format!("{field} must be at most {max} printable characters"));
    }
    Ok(v.to_owned())
}

fn records(data: &[u8], problems: &mut Problems) -> Option<(csv::StringRecord, Vec<(usize, csv::StringRecord)>)> {
    let mut rdr = reader(data);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(1, format!("unreadable header: {e}"));
            return None;
        }
    };
    let mut rows = Vec::new();
    // The line a record starts on, counted here from its byte offset: the csv crate's own line
    // is one short in a CRLF file (it starts the record on the line breaks before it), and
    // exports from Windows and Excel end their lines with CRLF. A record never starts with a
    // line break (blank lines are skipped), so those it is said to start on are skipped.
    // Counted incrementally, so the whole file is scanned once.
    let (mut counted_to, mut newlines) = (0usize, 0usize);
    let mut line_of = |byte: usize| {
        let mut start = byte.min(data.len());
        while matches!(data.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > counted_to {
            newlines += data[counted_to..start].iter().filter(|b| **b == b'\n').count();
            counted_to = start;
        }
        newlines + 1
    };
    for (i, rec) in rdr.records().enumerate() {
        let line = match &rec {
            Ok(r) => r.position().map_or(i + 2, |p| line_of(p.byte() as usize)),
            Err(e) => e.position().map_or(i + 2, |p| line_of(p.byte() as usize)),
        };
        match rec {
            Ok(r) if r.iter().all(str::is_empty) => {}
            Ok(r) => rows.push((line, r)),
            Err(e) => problems.add(line, format!("unreadable line: {e}")),
        }
        if rows.len() > MAX_ROWS {
            problems.add(line, format!("more than {MAX_ROWS} rows: split the file"));
            return None;
        }
    }
    Some((headers, rows))
}

/// Parses a customers file. Every bad line is reported; nothing is returned unless all are good.
pub fn parse_customers(data: &[u8]) -> Result<Vec<CustomerRow>> {
    let mut problems = Problems::new();
    let Some((headers, rows)) = records(data, &mut problems) else { return Err(problems_err(problems, "customers")) };
    let cols = match columns(
        &headers,
        &["ref", "name", "email", "phone", "kind", "credit_limit", "terms", "paperless_from"],
        &["email", "phone", "kind", "credit_limit", "terms", "paperless_from"],
    ) {
        Ok(c) => c,
        Err(e) => {
            problems.add(1, e);
            return Err(problems_err(problems, "customers"));
        }
    };
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let get = |i: usize| cols[i].and_then(|c| r.get(c)).unwrap_or("");
        let opt = |s: &str| if s.is_empty() { None } else { Some(s.to_owned()) };
        // A reference given twice is an error even when one of its lines has another.
        if !get(0).is_empty() {
            if let Some(first) = seen.insert(get(0).to_owned(), line) {
                problems.add(line, format!("customer {} is already on line {first}", get(0)));
                continue;
            }
        }
        let row = (|| -> std::result::Result<CustomerRow, String> {
            let reference = text(get(0), "ref", 64)?;
            let kind = match get(4) {
                "" => CustomerKind::Consumer,
                k => k.to_ascii_lowercase().parse::<CustomerKind>().map_err(|e| e.to_string())?,
            };
            let credit_limit = match get(5) {
                "" => None,
                v => Some(Money::parse(v).map_err(|e| format!("credit_limit: {e}"))?),
            };
            if credit_limit.is_some_and(|l| l.is_negative()) {
                return Err("credit_limit must not be negative".into());
            }
            let terms = match get(6) {
                "" => None,
                t => Some(t.parse::<Terms>().map_err(|e| e.to_string())?),
            };
            let paperless_from = match (cols[7], get(7)) {
                (None, _) => None,
                (Some(_), "") => Some(None),
                (Some(_), d) => Some(Some(DateStyle::Iso.parse(d).map_err(|e| format!("paperless_from: {e}"))?)),
            };
            Ok(CustomerRow {
                line,
                name: text(get(1), "name", 200)?,
                reference,
                email: opt(get(2)),
                phone: opt(get(3)),
                kind,
                credit_limit,
                terms,
                paperless_from,
            })
        })();
        match row {
            Ok(row) => out.push(row),
            Err(e) => problems.add(line, e),
        }
    }
    problems.into_result("customers")?;
    Ok(out)
}

fn problems_err(p: Problems, file: &'static str) -> Error {
    Error::Import { file, errors: p.list }
}

/// Parses an invoices file. `today` bounds the dates: history cannot be in the future.
pub fn parse_invoices(data: &[u8], dates: DateStyle, today: NaiveDate) -> Result<Vec<InvoiceRow>> {
    let mut problems = Problems::new();
    let Some((headers, rows)) = records(data, &mut problems) else { return Err(problems_err(problems, "invoices")) };
    let cols = match columns(
        &headers,
        &["customer_ref", "invoice_ref", "issued_on", "due_on", "amount", "paid_on", "disputed"],
        &["paid_on", "disputed"],
    ) {
        Ok(c) => c,
        Err(e) => {
            problems.add(1, e);
            return Err(problems_err(problems, "invoices"));
        }
    };
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let get = |i: usize| cols[i].and_then(|c| r.get(c)).unwrap_or("");
        if !get(1).is_empty() {
            if let Some(first) = seen.insert(get(1).to_owned(), line) {
                problems.add(line, format!("invoice {} is already on line {first}", get(1)));
                continue;
            }
        }
        let row = (|| -> std::result::Result<InvoiceRow, String> {
            let date = |i: usize, field: &str| dates.parse(get(i)).map_err(|e| format!("{field}: {e}"));
            let issued_on = date(2, "issued_on")?;
            let due_on = date(3, "due_on")?;
            let paid_on = if get(5).is_empty() { None } else { Some(date(5, "paid_on")?) };
            let amount = Money::parse(get(4)).map_err(|e| format!("amount: {e}"))?;
            if !amount.is_positive() {
                return Err(format!("amount must be more than zero, got {amount}"));
            }
            if due_on < issued_on {
                return Err(format!("due_on {due_on} is before issued_on {issued_on}"));
            }
            if issued_on > today {
                return Err(format!("issued_on {issued_on} is in the future"));
            }
            if let Some(p) = paid_on {
                if p < issued_on {
                    return Err(format!("paid_on {p} is before issued_on {issued_on}"));
                }
                if p > today {
                    return Err(format!("paid_on {p} is in the future"));
                }
            }
            let disputed = match get(6).to_ascii_lowercase().as_str() {
                "" | "no" | "n" | "false" | "0" => false,
                "yes" | "y" | "true" | "1" => true,
                other => return Err(format!("disputed: {other:?} is not yes or no")),
            };
            Ok(InvoiceRow {
                line,
                customer_ref: text(get(0), "customer_ref", 64)?,
                invoice_ref: text(get(1), "invoice_ref", 64)?,
                issued_on,
                due_on,
                amount,
                paid_on,
                disputed,
            })
        })();
        match row {
            Ok(row) => out.push(row),
            Err(e) => problems.add(line, e),
        }
    }
    problems.into_result("invoices")?;
    Ok(out)
}

/// The customers of IBM's accounts-receivable sample as the customers file this import reads:
/// `ref,name,paperless_from`, named by their reference. `PaperlessDate` is the day the customer
/// went paperless, and every one of the sample's 2,466 invoices issued after that day, and none
/// issued on or before it, is marked `Electronic`: the bills went by email from the next day.
pub fn ibm_ar_to_customers(data: &[u8]) -> Result<String> {
    let mut problems = Problems::new();
    let Some((headers, rows)) = records(data, &mut problems) else { return Err(problems_err(problems, "IBM sample")) };
    let cols = columns(&headers, &["customerID", "PaperlessDate"], &[])
        .map_err(|e| Error::Import { file: "IBM sample", errors: vec![LineError { line: 1, message: e }] })?;
    let mut customers: std::collections::BTreeMap<String, NaiveDate> = Default::default();
    for (line, r) in rows {
        let get = |i: usize| cols[i].and_then(|c| r.get(c)).unwrap_or("");
        let from = DateStyle::MonthDayYear.parse(get(1)).map(|d| d.succ_opt().unwrap_or(d));
        match (text(get(0), "customerID", 64), from) {
            (Ok(reference), Ok(from)) => match customers.get(&reference) {
                Some(known) if *known != from => {
                    problems.add(line, format!("customer {reference} has two paperless dates"));
                }
                _ => {
                    customers.insert(reference, from);
                }
            },
            (a, b) => problems.add(line, [a.err(), b.err()].into_iter().flatten().collect::<Vec<_>>().join("; ")),
        }
    }
    problems.into_result("IBM sample")?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Corrupt(format!("csv: {e}"));
    w.write_record(["ref", "name", "paperless_from"]).map_err(fail)?;
    for (reference, from) in &customers {
        w.write_record([reference.as_str(), reference.as_str(), &from.to_string()]).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Corrupt(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

/// Turns IBM's accounts-receivable sample (`customerID, invoiceNumber, InvoiceDate, DueDate,
/// InvoiceAmount, Disputed, SettledDate`, M/D/YYYY dates) into the invoices file this import
/// reads. Its paperless dates go in the customers file ([`ibm_ar_to_customers`]); its country
/// is not part of an account.
pub fn ibm_ar_to_invoices(data: &[u8]) -> Result<String> {
    let mut problems = Problems::new();
    let Some((headers, rows)) = records(data, &mut problems) else { return Err(problems_err(problems, "IBM sample")) };
    let cols = columns(
        &headers,
        &["customerID", "invoiceNumber", "InvoiceDate", "DueDate", "InvoiceAmount", "Disputed", "SettledDate"],
        &[],
    )
    .map_err(|e| Error::Import { file: "IBM sample", errors: vec![LineError { line: 1, message: e }] })?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Corrupt(format!("csv: {e}"));
    w.write_record(["customer_ref", "invoice_ref", "issued_on", "due_on", "amount", "paid_on", "disputed"])
        .map_err(fail)?;
    for (line, r) in rows {
        let get = |i: usize| cols[i].and_then(|c| r.get(c)).unwrap_or("");
        let mdy = |i: usize| DateStyle::MonthDayYear.parse(get(i));
        match (mdy(2), mdy(3), if get(6).is_empty() { Ok(None) } else { mdy(6).map(Some) }) {
            (Ok(issued), Ok(due), Ok(paid)) => {
                let paid = paid.map(|p| p.to_string()).unwrap_or_default();
                w.write_record([get(0), get(1), &issued.to_string(), &due.to_string(), get(4), &paid, get(5)])
                    .map_err(fail)?;
            }
            (a, b, c) => {
                let e = [a.err(), b.err(), c.err()].into_iter().flatten().collect::<Vec<_>>().join("; ");
                problems.add(line, e);
            }
        }
    }
    problems.into_result("IBM sample")?;
    let bytes = w.into_inner().map_err(|e| Error::Corrupt(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    #[test]
    fn customers_parse_with_optional_columns_in_any_order() {
        let csv = "name,ref,terms,credit_limit\nMarc Dupont,C1,30,150.00\n\"Boulangerie \"\"Le Fournil\"\"\",C2,,\n";
        let rows = parse_customers(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].reference, "C1");
        assert_eq!(rows[0].terms, Some(Terms::Net(30)));
        assert_eq!(rows[0].credit_limit, Some(Money::parse("150").unwrap()));
        assert_eq!(rows[1].name, "Boulangerie \"Le Fournil\"");
        assert_eq!(rows[1].kind, CustomerKind::Consumer);
    }

    #[test]
    fn a_public_buyer_is_a_kind_of_customer_in_a_file() {
        let rows =
            parse_customers(b"ref,name,kind\nM1,Mairie de Saint-R\xc3\xa9my,public\nE1,\xc3\x89cole,Public\n").unwrap();
        assert_eq!((rows[0].kind, rows[1].kind), (CustomerKind::Public, CustomerKind::Public));
        let e = parse_customers(b"ref,name,kind\nX1,X,mairie\n").unwrap_err();
        assert!(e.to_string().contains("business, consumer or public"), "{e}");
    }

    #[test]
    fn the_paperless_day_is_optional_and_checked() {
        let rows = parse_customers(b"ref,name,paperless_from\nC1,A,2024-03-01\nC2,B,\n").unwrap();
        assert_eq!(rows[0].paperless_from, Some(Some(d("2024-03-01"))));
        assert_eq!(rows[1].paperless_from, Some(None));
        // Without the column, a known customer's day is left as it is.
        assert_eq!(parse_customers(b"ref,name\nC1,A\n").unwrap()[0].paperless_from, None);
        let Err(Error::Import { errors, .. }) = parse_customers(b"ref,name,paperless_from\nC1,A,2024-02-30\n") else {
            panic!("should fail")
        };
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.starts_with("paperless_from"), "{}", errors[0].message);
    }

    #[test]
    fn ibm_customers_go_paperless_the_day_after_their_paperless_date() {
        let head = "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\r\n";
        let ok = format!(
            "{head}391,0379-NEVHP,4/6/2013,611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\r\n\
             391,0379-NEVHP,4/6/2013,611366,5/2/2013,6/1/2013,12.00,No,5/15/2013,Electronic,13,0\r\n\
             406,8976-AMJEO,12/31/2012,7900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013,Electronic,36,6\r\n"
        );
        let csv = ibm_ar_to_customers(ok.as_bytes()).unwrap();
        assert_eq!(
            csv,
            "ref,name,paperless_from\n0379-NEVHP,0379-NEVHP,2013-04-07\n8976-AMJEO,8976-AMJEO,2013-01-01\n"
        );
        let two = format!(
            "{head}391,0379-NEVHP,4/6/2013,611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\r\n\
             391,0379-NEVHP,4/7/2013,611366,5/2/2013,6/1/2013,12.00,No,5/15/2013,Electronic,13,0\r\n\
             391,X,13/1/2013,611367,5/2/2013,6/1/2013,12.00,No,5/15/2013,Electronic,13,0\r\n"
        );
        let Err(Error::Import { errors, .. }) = ibm_ar_to_customers(two.as_bytes()) else { panic!("should fail") };
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4], "{errors:?}");
        assert!(errors[0].message.contains("two paperless dates"), "{errors:?}");
    }

    #[test]
    fn line_numbers_are_right_in_crlf_files_and_with_quoted_line_breaks() {
        for eol in ["\n", "\r\n"] {
            let csv = ["ref,name,credit_limit", "C1,\"Le\nFournil\",10", "C2,B,x", "", "C3,C,-1", ""].join(eol);
            let Err(Error::Import { errors, .. }) = parse_customers(csv.as_bytes()) else { panic!("should fail") };
            // The name with a line break (line 2, which runs on to 3), "x" (4), -1 (6).
            assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 4, 6], "{eol:?}: {errors:?}");
        }
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let csv = "ref,name,email,phone,kind,credit_limit,terms\nC1,A,,,business,12.345,30\nC2,,,,,,\nC3,B,,,alien,,\nC1,D,,,,,\n";
        let Err(Error::Import { errors, .. }) = parse_customers(csv.as_bytes()) else { panic!("should fail") };
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{errors:?}");
        assert!(errors[0].message.contains("credit_limit"), "{}", errors[0].message);
        assert!(errors[1].message.contains("name is empty"));
        assert!(errors[3].message.contains("already on line 2"));
    }

    #[test]
    fn invoices_check_dates_amounts_and_duplicates() {
        let today = d("2024-06-30");
        let head = "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n";
        let good =
            format!("{head}C1,F1,2024-01-31,2024-02-29,12.50,2024-03-01,no\nC1,F2,2024-02-01,2024-03-02,7,,yes\n");
        let rows = parse_invoices(good.as_bytes(), DateStyle::Iso, today).unwrap();
        assert_eq!(rows[0].paid_on, Some(d("2024-03-01")));
        assert!(rows[1].disputed && rows[1].paid_on.is_none());
        let bad = format!(
            "{head}C1,F1,2024-02-30,2024-03-01,1,,\nC1,F2,2024-01-01,2023-12-01,1,,\nC1,F3,2024-01-01,2024-01-31,0,,\nC1,F4,2024-01-01,2024-01-31,1.001,,\nC1,F5,2024-07-01,2024-07-31,1,,\nC1,F5,2024-01-01,2024-01-31,1,2023-01-01,\nC1,F6,01/02/2024,2024-01-31,1,,\nC1,F7,2024-01-01,2024-01-31,1,,maybe\n"
        );
        let Err(Error::Import { errors, .. }) = parse_invoices(bad.as_bytes(), DateStyle::Iso, today) else { panic!() };
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9], "{errors:?}");
    }

    #[test]
    fn month_day_year_dates() {
        assert_eq!(DateStyle::MonthDayYear.parse("1/2/2013"), Ok(d("2013-01-02")));
        assert_eq!(DateStyle::MonthDayYear.parse("12/31/2013"), Ok(d("2013-12-31")));
        assert_eq!(DateStyle::MonthDayYear.parse("2/29/2012"), Ok(d("2012-02-29")));
        assert!(DateStyle::MonthDayYear.parse("2/29/2013").is_err());
        assert!(DateStyle::MonthDayYear.parse("13/1/2013").is_err());
        assert!(DateStyle::MonthDayYear.parse("1/2/13").is_err());
    }

    #[test]
    fn ibm_sample_converts() {
        let ibm = "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\r\n391,0379-NEVHP,4/6/2013,611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\r\n";
        let out = ibm_ar_to_invoices(ibm.as_bytes()).unwrap();
        assert_eq!(
            out,
            "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n0379-NEVHP,611365,2013-01-02,2013-02-01,55.94,2013-01-15,No\n"
        );
    }
}
