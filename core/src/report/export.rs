//! CSV and JSON exports for the owner and the accountant. Text a customer or cashier typed is
//! neutralised in CSV so that a spreadsheet never runs it as a formula.

use serde::Serialize;

use crate::error::{Error, Result};

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi(name = "ExportFormat"))]
pub enum Format {
    Csv,
    Json,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        match s {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(Error::Invalid { field: "format", reason: format!("{s:?}: use csv or json") }),
        }
    }
}

/// A cell a spreadsheet would read as a formula (= + - @, or a tab or carriage return that some
/// of them skip first) gets a leading apostrophe, the OWASP advice for CSV injection.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A table to export: column names and rows of cells. `text` says which columns hold free text
/// (neutralised in CSV); amounts and dates Ardoise formats itself are left as they are, so a
/// negative amount stays a number.
#[derive(Clone, Debug)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub text: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| Error::Corrupt(format!("csv: {e}"));
        w.write_record(&self.columns).map_err(fail)?;
        for row in &self.rows {
            let cells = row.iter().zip(&self.text).map(|(c, &text)| {
                let cell: std::borrow::Cow<'_, str> = if text { neutralise(c) } else { c.as_str().into() };
                cell.into_owned()
            });
            w.write_record(cells).map_err(fail)?;
        }
        let bytes = w.into_inner().map_err(|e| Error::Corrupt(format!("csv: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// One JSON object per row, keyed by column name, every value a string as in the CSV
    /// (amounts stay exact decimal strings).
    pub fn to_json(&self) -> Result<String> {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
            .rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| ((*c).to_owned(), serde_json::Value::String(v.clone())))
                    .collect()
            })
            .collect();
        Ok(serde_json::to_string_pretty(&rows)?)
    }

    pub fn render(&self, format: Format) -> Result<String> {
        match format {
            Format::Csv => self.to_csv(),
            Format::Json => self.to_json(),
        }
    }
}

/// Serialises anything the reports return as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_in_text_columns_only() {
        let t = Table {
            columns: vec!["name", "amount"],
            text: vec![true, false],
            rows: vec![
                vec!["=HYPERLINK(\"http://x\")".into(), "-12.50".into()],
                vec!["+33 6 12".into(), "3.00".into()],
                vec!["@SUM(A1)".into(), "0.00".into()],
                vec!["-2+3".into(), "1.00".into()],
                vec!["Café, \"Chez Marc\"".into(), "4.00".into()],
            ],
        };
        let csv = t.to_csv().unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "name,amount");
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://x\"\")\",-12.50");
        assert_eq!(lines[2], "'+33 6 12,3.00");
        assert_eq!(lines[3], "'@SUM(A1),0.00");
        assert_eq!(lines[4], "'-2+3,1.00");
        assert_eq!(lines[5], "\"Café, \"\"Chez Marc\"\"\",4.00");
        let json: serde_json::Value = serde_json::from_str(&t.to_json().unwrap()).unwrap();
        // JSON carries the text as typed: it is data, not a spreadsheet.
        assert_eq!(json[0]["name"], "=HYPERLINK(\"http://x\")");
        assert_eq!(json[0]["amount"], "-12.50");
    }
}
