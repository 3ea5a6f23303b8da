//! A small page-layout engine over printpdf: flowing text, blocks at fixed places, tables, QR
//! codes, and page numbers, in the standard Helvetica fonts, which every reader has, so nothing is embedded.
//!
//! printpdf writes their text in WinAnsiEncoding (Windows-1252): French accents, œ, « », ’ and €
//! are all in it. Characters outside it would be dropped silently by printpdf, so
//! [`to_winansi`] replaces them first: no-break spaces by spaces, typographic dashes and quotes
//! by their nearest WinAnsi form, other letters by their unaccented base, anything left by `?`.

use printpdf::{BuiltinFont, IndirectFontRef, Mm, PdfDocument};
use unicode_normalization::UnicodeNormalization;

pub(crate) const PAGE_W: f32 = 210.0;
pub(crate) const PAGE_H: f32 = 297.0;
pub(crate) const MARGIN_X: f32 = 20.0;
pub(crate) const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
pub(crate) const TOP: f32 = PAGE_H - 20.0;
const BOTTOM: f32 = 25.0;
/// Left edge of the address block, where a French DL window envelope shows it.
pub(crate) const ADDRESS_X: f32 = 110.0;
/// The window's top, 45 to 50 mm from the top of the sheet.
pub(crate) const ADDRESS_TOP: f32 = PAGE_H - 50.0;
pub(crate) const BODY_SIZE: f32 = 11.0;
/// A payment link's QR code, quiet zone included, in mm: small beside the text, large enough
/// for a phone to read from a printed page.
pub(crate) const QR_SIDE: f32 = 30.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Style {
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

/// A table column: its heading, width in mm, and whether its cells are right-aligned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column<'a> {
    pub(crate) title: &'a str,
    pub(crate) width: f32,
    pub(crate) right: bool,
}

/// A filled square of a QR code: its page, lower left corner and side, in mm.
#[derive(Debug, Clone, Copy)]
struct Square {
    page: usize,
    x: f32,
    y: f32,
    side: f32,
}

/// Places every line on pages first, so that the page count is known for the footers.
pub(crate) struct Layout {
    pages: Vec<Vec<Line>>,
    squares: Vec<Square>,
    pub(crate) y: f32,
}

impl Layout {
    pub(crate) fn new() -> Self {
        Layout { pages: vec![Vec::new()], squares: Vec::new(), y: TOP }
    }

    /// A QR code of `data`, `side` mm wide quiet zone included, at the left margin under the
    /// text so far (on a new page when it does not fit); the text goes on under it. Nothing
    /// when `data` is too long for a QR code: the text says it anyway.
    pub(crate) fn qr(&mut self, data: &str, side: f32) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else { return };
        if self.y - side < BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
        // Four modules of quiet zone on each side, as scanners expect.
        let (n, quiet) = (code.width(), 4);
        let cell = side / (n + 2 * quiet) as f32;
        let page = self.pages.len() - 1;
        for (i, c) in code.to_colors().into_iter().enumerate() {
            if c == qrcode::Color::Dark {
                let (col, row) = (i % n + quiet, i / n + quiet);
                let (x, y) = (MARGIN_X + col as f32 * cell, self.y - (row + 1) as f32 * cell);
                self.squares.push(Square { page, x, y, side: cell });
            }
        }
        self.y -= side;
    }

    pub(crate) fn put(&mut self, text: &str, style: Style, size: f32, x: f32, y: f32) {
        let text = to_winansi(text);
        if let Some(page) = self.pages.last_mut() {
            page.push(Line { text, style, size, x, y });
        }
    }

    pub(crate) fn line_height(size: f32) -> f32 {
        size * 1.35 * PT_TO_MM
    }

    /// Flowing text at the left margin, wrapped to the text width, breaking pages as needed.
    pub(crate) fn paragraph(&mut self, text: &str, style: Style, size: f32) {
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

    pub(crate) fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// Lines at `x` from `top` down, each wrapped to `width`; returns the y below the last.
    pub(crate) fn block(&mut self, lines: &[(String, Style)], x: f32, top: f32, width: f32, size: f32) -> f32 {
        let mut y = top;
        for (text, style) in lines {
            for line in wrap(&to_winansi(text), width, size, *style) {
                self.put(&line, *style, size, x, y);
                y -= Self::line_height(size);
            }
        }
        y
    }

    /// One line at `x` in the flow (a signature, a date on the right), breaking pages as needed.
    pub(crate) fn line_at(&mut self, text: &str, style: Style, size: f32, x: f32) {
        let h = Self::line_height(size);
        if self.y - h < BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
        self.y -= h;
        self.put(text, style, size, x, self.y);
    }

    /// A table: a bold header, then the rows, each cell wrapped in its column; the header is
    /// repeated on a new page. Amounts are right-aligned in their column.
    pub(crate) fn table(&mut self, columns: &[Column<'_>], rows: &[(Vec<String>, Style)], size: f32) {
        let h = Self::line_height(size);
        let header: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
        self.keep_together(3, size);
        self.table_row(columns, &header, Style::Bold, size);
        self.y -= 1.0;
        for (row, style) in rows {
            let height = self.row_lines(columns, row, size) as f32 * h;
            if self.y - height < BOTTOM {
                self.pages.push(Vec::new());
                self.y = TOP;
                self.table_row(columns, &header, Style::Bold, size);
                self.y -= 1.0;
            }
            self.table_row(columns, row, *style, size);
        }
    }

    fn row_lines(&self, columns: &[Column<'_>], row: &[String], size: f32) -> usize {
        columns
            .iter()
            .zip(row)
            .map(|(c, text)| wrap(&to_winansi(text), c.width - 2.0, size, Style::Regular).len())
            .max()
            .unwrap_or(1)
    }

    pub(crate) fn table_row(&mut self, columns: &[Column<'_>], row: &[String], style: Style, size: f32) {
        let h = Self::line_height(size);
        let mut x = MARGIN_X;
        let mut lowest = self.y;
        for (c, text) in columns.iter().zip(row) {
            let mut y = self.y;
            for line in wrap(&to_winansi(text), c.width - 2.0, size, style) {
                y -= h;
                let at = if c.right { x + c.width - 2.0 - text_width(&line, size, style) } else { x };
                self.put(&line, style, size, at, y);
            }
            lowest = lowest.min(y);
            x += c.width;
        }
        self.y = lowest;
    }

    /// Starts a new page unless `lines` lines of `size` still fit, so that a block stays whole.
    pub(crate) fn keep_together(&mut self, lines: usize, size: f32) {
        self.keep_height(lines as f32 * Self::line_height(size));
    }

    /// Starts a new page unless `height` mm still fit on this one: for what is read together
    /// (a payment link's text and its QR code).
    pub(crate) fn keep_height(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
    }

    /// The height `text` takes as a paragraph.
    pub(crate) fn paragraph_height(text: &str, style: Style, size: f32) -> f32 {
        wrap(&to_winansi(text), TEXT_W, size, style).len() as f32 * Self::line_height(size)
    }
}

/// Writes the laid-out pages, numbered "Page i/n" at the foot when there are several.
pub(crate) fn draw(l: Layout, title: &str, author: &str) -> Result<Vec<u8>, printpdf::Error> {
    // printpdf writes the document info strings as raw UTF-8, which readers would misread:
    // plain ASCII is the only safe choice there. The page text itself is properly encoded.
    let title = ascii_fold(title);
    let (doc, first_page, first_layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "Texte");
    let doc = doc.with_author(ascii_fold(author)).with_creator("Ardoise").with_producer("Ardoise");
    let regular = doc.add_builtin_font(BuiltinFont::Helvetica)?;
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold)?;
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
        for q in l.squares.iter().filter(|q| q.page == i) {
            layer.add_rect(printpdf::Rect::new(Mm(q.x), Mm(q.y), Mm(q.x + q.side), Mm(q.y + q.side)));
        }
        {
            let footer = format!("Page {}/{}", i + 1, count);
            let w = text_width(&footer, 9.0, Style::Regular);
            layer.use_text(footer, 9.0, Mm(PAGE_W - MARGIN_X - w), Mm(12.0), &regular);
        }
    }
    doc.save_to_bytes()
}

/// The text of a PDF, page after page, one line per piece of text laid out: what a reader of
/// the letter sees, for the demo and for checks.
pub fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("cannot read the PDF: {e}"))?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).map_err(|e| format!("cannot read the PDF's text: {e}"))
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
pub(crate) fn text_width(text: &str, size: f32, style: Style) -> f32 {
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
pub(crate) fn wrap(text: &str, width: f32, size: f32, style: Style) -> Vec<String> {
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
}
