//! Letter transport: lays the reminder out as an A4 PDF, ready to print and post, in the letters folder.
//!
//! The PDF uses the standard Helvetica fonts, which every reader has, so nothing is embedded.
//! printpdf writes their text in WinAnsiEncoding (Windows-1252): French accents, œ, « », ’ and €
//! are all in it. Characters outside it would be dropped silently by printpdf, so
//! [`to_winansi`] replaces them first: no-break spaces by spaces, typographic dashes and quotes
//! by their nearest WinAnsi form, other letters by their unaccented base, anything left by `?`.

use std::path::{Path, PathBuf};

use chrono::{Datelike, Local, NaiveDate};
use printpdf::{BuiltinFont, IndirectFontRef, Mm, PdfDocument};
use unicode_normalization::UnicodeNormalization;

use super::message::{Outgoing, SendError, amount_lines};

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN_X: f32 = 20.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const TOP: f32 = PAGE_H - 20.0;
const BOTTOM: f32 = 25.0;
/// Left edge of the address block, where a French DL window envelope shows it.
const ADDRESS_X: f32 = 110.0;
const ADDRESS_TOP: f32 = PAGE_H - 50.0;
const BODY_SIZE: f32 = 11.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

/// Builds the PDF and writes it as `<dir>/<reminder_id>.pdf`; returns that path.
pub(super) async fn write(dir: &Path, o: &Outgoing) -> Result<String, SendError> {
    if o.recipient.trim().is_empty() {
        return Err(SendError::Permanent("no postal address for the letter".to_owned()));
    }
    let path = dir.join(format!("{}.pdf", o.reminder_id));
    let today = Local::now().date_naive();
    let o = o.clone();
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        let bytes = render(&o, today)?;
        save_atomically(&target, &bytes)
    })
    .await
    // A panic while rendering would happen again with the same reminder.
    .map_err(|e| SendError::Permanent(format!("letter rendering failed: {e}")))??;
    Ok(path.display().to_string())
}

/// Whoever picks letters up for printing must never see half a file.
fn save_atomically(path: &Path, bytes: &[u8]) -> Result<(), SendError> {
    let tmp: PathBuf = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        SendError::Transient(format!("cannot write {}: {e}", path.display()))
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Regular,
    Bold,
}

#[derive(Debug, Clone)]
struct Line {
    text: String,
    style: Style,
    size: f32,
    x: f32,
    y: f32,
}

/// Places every line on pages first, so that the page count is known for the footers.
struct Layout {
    pages: Vec<Vec<Line>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Layout { pages: vec![Vec::new()], y: TOP }
    }

    fn put(&mut self, text: &str, style: Style, size: f32, x: f32, y: f32) {
        let text = to_winansi(text);
        if let Some(page) = self.pages.last_mut() {
            page.push(Line { text, style, size, x, y });
        }
    }

    fn line_height(size: f32) -> f32 {
        size * 1.35 * PT_TO_MM
    }

    /// Flowing text at the left margin, wrapped to the text width, breaking pages as needed.
    fn paragraph(&mut self, text: &str, style: Style, size: f32) {
        for line in wrap(&to_winansi(text), TEXT_W, size, style) {
            let h = Self::line_height(size);
            if self.y - h < BOTTOM {
                self.pages.push(Vec::new());
                self.y = TOP;
            }
            self.y -= h;
            self.put(&line, style, size, MARGIN_X, self.y);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// Starts a new page unless `lines` lines of `size` still fit, so that a block stays whole.
    fn keep_together(&mut self, lines: usize, size: f32) {
        if self.y - lines as f32 * Self::line_height(size) < BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
    }
}

fn render(o: &Outgoing, today: NaiveDate) -> Result<Vec<u8>, SendError> {
    let mut l = Layout::new();

    // Sender, top left.
    l.put(&o.shop_name, Style::Bold, 12.0, MARGIN_X, TOP);
    let mut y = TOP - Layout::line_height(12.0);
    if !o.shop_email.trim().is_empty() {
        l.put(o.shop_email.trim(), Style::Regular, 10.0, MARGIN_X, y);
        y -= Layout::line_height(10.0);
    }

    // Recipient, in the envelope window.
    let mut address: Vec<&str> = o.recipient.lines().map(str::trim).filter(|s| !s.is_empty()).collect();
    let name = o.customer_name.trim();
    if !name.is_empty() && address.first().is_none_or(|first| !first.eq_ignore_ascii_case(name)) {
        address.insert(0, name);
    }
    let mut ay = ADDRESS_TOP;
    for part in &address {
        for line in wrap(&to_winansi(part), PAGE_W - MARGIN_X - ADDRESS_X, BODY_SIZE, Style::Regular) {
            l.put(&line, Style::Regular, BODY_SIZE, ADDRESS_X, ay);
            ay -= Layout::line_height(BODY_SIZE);
        }
    }

    ay -= 10.0;
    l.put(&format!("Le {}", french_date(today)), Style::Regular, BODY_SIZE, ADDRESS_X, ay);
    l.y = ay.min(y) - 12.0;

    if o.formal_notice {
        l.paragraph("MISE EN DEMEURE", Style::Bold, 14.0);
        l.gap(4.0);
    }
    if !o.subject.trim().is_empty() {
        l.paragraph(&format!("Objet : {}", o.subject.trim()), Style::Bold, BODY_SIZE);
        l.gap(6.0);
    }

    for paragraph in paragraphs(&o.body) {
        l.paragraph(&paragraph, Style::Regular, BODY_SIZE);
        l.gap(3.0);
    }

    l.gap(3.0);
    let amounts = amount_lines(o);
    l.keep_together(amounts.len(), BODY_SIZE);
    for (label, amount) in amounts {
        l.paragraph(&format!("{label} : {amount}"), Style::Bold, BODY_SIZE);
    }

    l.gap(10.0);
    l.paragraph(&o.shop_name, Style::Regular, BODY_SIZE);

    draw(l, o)
}

/// Splits on blank lines; single line breaks inside a paragraph are kept as breaks, since
/// a rendered reminder may contain lists or an address.
fn paragraphs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

fn draw(l: Layout, o: &Outgoing) -> Result<Vec<u8>, SendError> {
    let pdf_error = |e: printpdf::Error| SendError::Permanent(format!("cannot build PDF: {e}"));
    // printpdf writes the document info strings as raw UTF-8, which readers would misread:
    // plain ASCII is the only safe choice there. The page text itself is properly encoded.
    let title = ascii_fold(&format!("{} - {}", o.shop_name.trim(), o.subject.trim()));
    let (doc, first_page, first_layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "Texte");
    let doc = doc.with_author(ascii_fold(o.shop_name.trim())).with_creator("Ardoise").with_producer("Ardoise");
    let regular = doc.add_builtin_font(BuiltinFont::Helvetica).map_err(pdf_error)?;
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold).map_err(pdf_error)?;
    let font = |s: Style| -> &IndirectFontRef {
        match s {
            Style::Regular => &regular,
            Style::Bold => &bold,
        }
    };
    let count = l.pages.len();
    for (i, lines) in l.pages.into_iter().enumerate() {
        let layer = if i == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (page, layer) = doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "Texte");
            doc.get_page(page).get_layer(layer)
        };
        for line in lines {
            layer.use_text(line.text, line.size, Mm(line.x), Mm(line.y), font(line.style));
        }
        if count > 1 {
            let footer = format!("Page {}/{}", i + 1, count);
            let w = text_width(&footer, 9.0, Style::Regular);
            layer.use_text(footer, 9.0, Mm(PAGE_W - MARGIN_X - w), Mm(12.0), &regular);
        }
    }
    doc.save_to_bytes().map_err(pdf_error)
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn french_date(d: NaiveDate) -> String {
    let day = match d.day() {
        1 => "1er".to_owned(),
        n => n.to_string(),
    };
    format!("{day} {} {}", MONTHS[d.month0() as usize], d.year())
}

/// Is `c` one of the 218 characters of WinAnsiEncoding that printpdf can write?
fn in_winansi(c: char) -> bool {
    let mut buf = [0; 4];
    !printpdf::lopdf::Document::encode_text(Some("WinAnsiEncoding"), c.encode_utf8(&mut buf)).is_empty()
}

/// See the module documentation.
pub(crate) fn to_winansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' || in_winansi(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' | '\u{a0}' | '\u{202f}' | '\u{2007}' | '\u{2009}' | '\u{2002}'..='\u{2006}' => out.push(' '),
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => out.push('-'),
            '\u{2032}' | '\u{2035}' => out.push('\''),
            '\u{2033}' => out.push('"'),
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}' | '\r' => {}
            _ => {
                let folded: String = c
                    .nfkd()
                    .filter(|d| !unicode_normalization::char::is_combining_mark(*d))
                    .filter(|d| in_winansi(*d))
                    .collect();
                match (folded.is_empty(), letter_fold(c)) {
                    (false, _) => out.push_str(&folded),
                    (true, Some(base)) => out.push_str(base),
                    (true, None) => out.push('?'),
                }
            }
        }
    }
    out
}

fn ascii_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        match c {
            '€' => out.push_str("EUR"),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2018}' | '\u{2019}' => out.push('\''),
            '«' | '»' | '\u{201c}' | '\u{201d}' => out.push('"'),
            c if c.is_whitespace() => out.push(' '),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => out.push_str(letter_fold(c).unwrap_or_default()),
        }
    }
    out
}

/// Letters that Unicode does not decompose into a base letter plus an accent.
fn letter_fold(c: char) -> Option<&'static str> {
    Some(match c {
        'Ł' => "L",
        'ł' => "l",
        'Đ' | 'Ð' => "D",
        'đ' | 'ð' => "d",
        'ı' => "i",
        'Ø' => "O",
        'ø' => "o",
        'Æ' => "AE",
        'æ' => "ae",
        'Œ' => "OE",
        'œ' => "oe",
        'ß' => "ss",
        _ => return None,
    })
}

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126, from the standard AFM metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // : to @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [ to `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a-z
    334, 260, 334, 584, // { to ~
];

/// Width in mm, close enough for line breaking: accented letters are as wide as their base
/// letter in Helvetica; bold runs about 10 % wider; other symbols count as a digit.
fn text_width(text: &str, size: f32, style: Style) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let base = c.nfd().next().unwrap_or(c);
            match base {
                ' '..='~' => u32::from(HELVETICA[base as usize - 32]),
                'Æ' | 'Œ' => 1000,
                'æ' | 'œ' => 944,
                '—' | '…' => 1000,
                '«' | '»' | '–' => 556,
                '’' | '‘' => 222,
                _ => 556,
            }
        })
        .sum();
    let factor = if style == Style::Bold { 1.1 } else { 1.0 };
    units as f32 / 1000.0 * size * PT_TO_MM * factor
}

/// Greedy word wrap; a word longer than the line (an IBAN, a URL) is cut where it must be.
fn wrap(text: &str, width: f32, size: f32, style: Style) -> Vec<String> {
    let mut lines = Vec::new();
    for source_line in text.split('\n') {
        let mut current = String::new();
        for word in source_line.split_whitespace() {
            let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
            if text_width(&candidate, size, style) <= width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let mut rest = word;
            while text_width(rest, size, style) > width {
                let mut cut = rest.len();
                for (i, _) in rest.char_indices().rev() {
                    if i > 0 && text_width(&rest[..i], size, style) <= width {
                        cut = i;
                        break;
                    }
                }
                if cut == rest.len() {
                    break;
                }
                lines.push(rest[..cut].to_owned());
                rest = &rest[cut..];
            }
            current = rest.to_owned();
        }
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_text_stays_as_is() {
        let s = "Mise en demeure : vous êtes prié(e) de régler 40,00 € « sous huit jours », cœur à l’ouvrage.";
        assert_eq!(to_winansi(s), s);
    }

    #[test]
    fn characters_outside_winansi_are_replaced_not_dropped() {
        assert_eq!(to_winansi("1\u{202f}234,50\u{a0}€"), "1 234,50 €");
        assert_eq!(to_winansi("Łódź, Țară"), "Lódz, Tara");
        assert_eq!(to_winansi("→"), "?");
    }

    #[test]
    fn winansi_covers_the_euro_and_ligatures() {
        for c in ['€', 'é', 'à', 'ç', 'œ', 'Œ', 'ÿ', '«', '’', '…'] {
            assert!(in_winansi(c), "{c}");
        }
        assert!(!in_winansi('\u{a0}'));
    }

    #[test]
    fn wrapping_respects_the_width() {
        let text = "Nous vous prions de bien vouloir régulariser votre situation dans les meilleurs délais. ".repeat(5);
        let lines = wrap(&text, TEXT_W, BODY_SIZE, Style::Regular);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(text_width(line, BODY_SIZE, Style::Regular) <= TEXT_W, "{line}");
        }
        let long = "X".repeat(200);
        assert!(wrap(&long, TEXT_W, BODY_SIZE, Style::Regular).len() > 1);
    }

    #[test]
    fn metadata_is_plain_ascii() {
        assert_eq!(
            ascii_fold("Épicerie — relance de 12,00\u{a0}€ « l’ardoise »"),
            "Epicerie - relance de 12,00 EUR \" l'ardoise \""
        );
    }

    #[test]
    fn dates_in_french() {
        let d = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        assert_eq!(french_date(d), "1er août 2025");
    }
}
