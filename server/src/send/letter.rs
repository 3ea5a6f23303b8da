//! Letter transport: lays the reminder out as an A4 PDF, ready to print and post, in the letters
//! folder. A formal notice is laid out from its document; other reminders from their text. A
//! payment link is printed as text and as a QR code.

use std::path::{Path, PathBuf};

use ardoise_core::document::{DocumentKind, Language, long_date};
use chrono::NaiveDate;

use super::document::formal_notice_pdf;
use super::message::{Outgoing, SendError, amount_lines};
use super::pdf::{
    ADDRESS_TOP, ADDRESS_X, BODY_SIZE, Layout, MARGIN_X, PAGE_W, QR_SIDE, Style, TOP, draw, to_winansi, wrap,
};

/// Builds the PDF and writes it as `<dir>/<reminder_id>.pdf`; returns that path.
pub(super) async fn write(dir: &Path, o: &Outgoing) -> Result<String, SendError> {
    if o.recipient.trim().is_empty() {
        return Err(SendError::Permanent("no postal address for the letter".to_owned()));
    }
    let path = dir.join(format!("{}.pdf", o.reminder_id));
    let today = o.date;
    let o = o.clone();
    let target = path.clone();
    tokio::task::spawn_blocking(move || save_atomically(&target, &pdf(&o, today)?))
        .await
        // A panic while rendering would happen again with the same reminder.
        .map_err(|e| SendError::Permanent(format!("letter rendering failed: {e}")))??;
    Ok(path.display().to_string())
}

/// The letter as posted: a formal notice or court file laid out from its document, any other
/// reminder from its text. The back office shows the same PDF before it goes.
pub fn pdf(o: &Outgoing, today: NaiveDate) -> Result<Vec<u8>, SendError> {
    match &o.document {
        Some(doc) if doc.kind != DocumentKind::Reminder => formal_notice_pdf(doc).map_err(pdf_error),
        _ => render(o, today),
    }
}

/// Whoever picks letters up for printing must never see half a file.
fn save_atomically(path: &Path, bytes: &[u8]) -> Result<(), SendError> {
    let tmp: PathBuf = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        SendError::Transient(format!("cannot write {}: {e}", path.display()))
    })
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
    // The customer's language when the document says it; a reminder without one is French.
    let lang = o.document.as_ref().map_or(Language::Fr, |d| d.language);
    let (dated, subject) = match lang {
        Language::Fr => (format!("Le {}", long_date(today, lang)), "Objet :"),
        Language::En => (long_date(today, lang), "Subject:"),
    };
    l.put(&dated, Style::Regular, BODY_SIZE, ADDRESS_X, ay);
    l.y = ay.min(y) - 12.0;

    if o.formal_notice {
        l.paragraph("MISE EN DEMEURE", Style::Bold, 14.0);
        l.gap(4.0);
    }
    if !o.subject.trim().is_empty() {
        l.paragraph(&format!("{subject} {}", o.subject.trim()), Style::Bold, BODY_SIZE);
        l.gap(6.0);
    }

    for paragraph in paragraphs(&o.body) {
        l.paragraph(&paragraph, Style::Regular, BODY_SIZE);
        l.gap(3.0);
    }

    l.gap(3.0);
    let amounts = amount_lines(o);
    let link = o.document.as_ref().and_then(|d| d.payment_link.as_deref());
    // The amounts and the code to scan for them on one page.
    let qr = if link.is_some() { 4.0 + QR_SIDE } else { 0.0 };
    l.keep_height(amounts.len() as f32 * Layout::line_height(BODY_SIZE) + qr);
    for (label, amount) in amounts {
        l.paragraph(&format!("{label} : {amount}"), Style::Bold, BODY_SIZE);
    }

    // The body quotes the payment link; on paper it is also a code to scan, not to type.
    if let Some(link) = link {
        l.gap(4.0);
        l.qr(link, QR_SIDE);
    }

    l.gap(10.0);
    l.paragraph(&o.shop_name, Style::Regular, BODY_SIZE);

    draw(l, &format!("{} - {}", o.shop_name.trim(), o.subject.trim()), o.shop_name.trim()).map_err(pdf_error)
}

pub(super) fn pdf_error(e: printpdf::Error) -> SendError {
    SendError::Permanent(format!("cannot build PDF: {e}"))
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
