//! The documents laid out: the formal notice as a French letter for a DL window envelope, the
//! court file, the customer statement, and the HTML part of a reminder email. The words come
//! from `ardoise_core::document`; only headings and layout are chosen here.

use ardoise_core::Money;
use ardoise_core::document::{Document, DocumentKind, Language, Party, StatementDocument, amount, euros, long_date};

use super::pdf::{
    ADDRESS_TOP, ADDRESS_X, BODY_SIZE, Column, Layout, MARGIN_X, PAGE_W, QR_SIDE, Style, TEXT_W, TOP, draw,
};

const SMALL: f32 = 9.0;
const TABLE: f32 = 9.5;

/// The headings of one language.
struct Words {
    invoice: &'static str,
    date: &'static str,
    due: &'static str,
    amount: &'static str,
    paid: &'static str,
    left: &'static str,
    period: &'static str,
    days: &'static str,
    base: &'static str,
    rate: &'static str,
    interest: &'static str,
    late_interest: &'static str,
    principal: &'static str,
    indemnity: &'static str,
    total: &'static str,
    subject: &'static str,
    earlier: &'static str,
    pay: &'static str,
    online: &'static str,
    transfer: &'static str,
    at_shop: &'static str,
    regards: &'static str,
    basis: &'static str,
    from_to: (&'static str, &'static str),
}

fn words(lang: Language) -> Words {
    match lang {
        Language::Fr => Words {
            invoice: "Facture",
            date: "Date",
            due: "Échéance",
            amount: "Montant",
            paid: "Payé",
            left: "Reste dû",
            period: "Période",
            days: "Jours",
            base: "Base",
            rate: "Taux",
            interest: "Intérêts",
            late_interest: "Intérêts de retard",
            principal: "Principal restant dû",
            indemnity: "Indemnité forfaitaire pour frais de recouvrement",
            total: "Total réclamé",
            subject: "Objet",
            earlier: "Relances précédentes",
            pay: "Pour régler",
            online: "en ligne sur",
            transfer: "par virement sur l'IBAN",
            at_shop: "ou à la boutique.",
            regards: "Veuillez agréer, Madame, Monsieur, nos salutations distinguées.",
            basis: "Fondement",
            from_to: ("du", "au"),
        },
        Language::En => Words {
            invoice: "Invoice",
            date: "Date",
            due: "Due",
            amount: "Amount",
            paid: "Paid",
            left: "Left",
            period: "Period",
            days: "Days",
            base: "Base",
            rate: "Rate",
            interest: "Interest",
            late_interest: "Late-payment interest",
            principal: "Principal outstanding",
            indemnity: "Fixed recovery indemnity",
            total: "Total claimed",
            subject: "Subject",
            earlier: "Earlier reminders",
            pay: "To pay",
            online: "online at",
            transfer: "by bank transfer to IBAN",
            at_shop: "or at the shop.",
            regards: "Yours faithfully,",
            basis: "Legal basis",
            from_to: ("from", "to"),
        },
    }
}

/// A date in numbers for table cells, where the long form would not fit: "04/12/2026".
fn short_date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Blank rather than "0,00": a zero says nothing the reader needs.
fn or_blank(m: Money) -> String {
    if m.is_zero() { String::new() } else { amount(m) }
}

fn party_lines(p: &Party) -> Vec<(String, Style)> {
    let mut out = vec![(p.name.clone(), Style::Bold)];
    out.extend(p.lines.iter().map(|l| (l.clone(), Style::Regular)));
    out
}

fn invoice_table(l: &mut Layout, doc: &Document, w: &Words) {
    let columns = [
        Column { title: w.invoice, width: 34.0, right: false },
        Column { title: w.date, width: 24.0, right: false },
        Column { title: w.due, width: 24.0, right: false },
        Column { title: w.amount, width: 30.0, right: true },
        Column { title: w.paid, width: 28.0, right: true },
        Column { title: w.left, width: 30.0, right: true },
    ];
    let rows: Vec<(Vec<String>, Style)> = doc
        .invoices
        .iter()
        .map(|i| {
            let cells = vec![
                i.reference.clone(),
                short_date(i.issued_on),
                short_date(i.due_on),
                amount(i.amount),
                or_blank(i.paid),
                amount(i.left),
            ];
            (cells, Style::Regular)
        })
        .collect();
    l.table(&columns, &rows, TABLE);
}

fn penalty_table(l: &mut Layout, doc: &Document, w: &Words) {
    if doc.penalties.is_empty() {
        return;
    }
    let columns = [
        Column { title: w.invoice, width: 30.0, right: false },
        Column { title: w.period, width: 52.0, right: false },
        Column { title: w.days, width: 14.0, right: true },
        Column { title: w.base, width: 28.0, right: true },
        Column { title: w.rate, width: 20.0, right: true },
        Column { title: w.interest, width: 26.0, right: true },
    ];
    let rows: Vec<(Vec<String>, Style)> = doc
        .penalties
        .iter()
        .map(|p| {
            let cells = vec![
                p.invoice.clone(),
                format!("{} {} {} {}", w.from_to.0, short_date(p.from), w.from_to.1, short_date(p.to)),
                p.days.to_string(),
                amount(p.base),
                Document::rate(p),
                amount(p.interest),
            ];
            (cells, Style::Regular)
        })
        .collect();
    l.gap(4.0);
    l.table(&columns, &rows, TABLE);
}

/// Principal, then interest and indemnity only when there are some, then the total.
fn totals(l: &mut Layout, doc: &Document, w: &Words) {
    let columns = [Column { title: "", width: 130.0, right: false }, Column { title: "", width: 40.0, right: true }];
    let mut rows = vec![(vec![w.principal.to_owned(), euros(doc.principal)], Style::Regular)];
    if doc.interest.is_positive() {
        rows.push((vec![w.late_interest.to_owned(), euros(doc.interest)], Style::Regular));
    }
    if doc.indemnity.is_positive() {
        rows.push((vec![w.indemnity.to_owned(), euros(doc.indemnity)], Style::Regular));
    }
    rows.push((vec![w.total.to_owned(), euros(doc.total)], Style::Bold));
    l.gap(4.0);
    l.keep_together(rows.len(), BODY_SIZE);
    // The empty header row of a two-column table would only add a blank line.
    for (cells, style) in rows {
        l.table_row(&columns, &cells, style, BODY_SIZE);
    }
}

fn how_to_pay(l: &mut Layout, doc: &Document, w: &Words) {
    let mut ways = Vec::new();
    if let Some(link) = &doc.payment_link {
        ways.push(format!("{} {link}", w.online));
    }
    if let Some(iban) = &doc.iban {
        ways.push(format!("{} {iban}", w.transfer));
    }
    let text = if ways.is_empty() {
        format!("{} : {}", w.pay, w.at_shop.trim_start_matches("ou ").trim_start_matches("or "))
    } else {
        format!("{} : {} ; {}", w.pay, ways.join(" ; "), w.at_shop)
    };
    let reference = doc.payment_reference_line();
    // The ways to pay, the reference and the code to scan on one page: a QR code alone at the
    // top of the next one reads as a stray.
    let qr = if doc.payment_link.is_some() { 2.0 + QR_SIDE } else { 0.0 };
    l.keep_height(
        Layout::paragraph_height(&text, Style::Regular, BODY_SIZE)
            + Layout::paragraph_height(&reference, Style::Bold, BODY_SIZE)
            + qr,
    );
    l.paragraph(&text, Style::Regular, BODY_SIZE);
    // In bold under the ways to pay: a transfer that quotes it is matched to the account.
    l.paragraph(&reference, Style::Bold, BODY_SIZE);
    // A letter is read on paper: the link is also a code to scan, not to type.
    if let Some(link) = &doc.payment_link {
        l.gap(2.0);
        l.qr(link, QR_SIDE);
    }
}

/// Sender top left, recipient in the window, place and date under it: each once.
fn letter_head(l: &mut Layout, creditor: &Party, debtor: &Party, place_and_date: &str) {
    let below_sender = l.block(&party_lines(creditor), MARGIN_X, TOP, ADDRESS_X - MARGIN_X - 4.0, SMALL);
    let below_address = l.block(&party_lines(debtor), ADDRESS_X, ADDRESS_TOP, PAGE_W - MARGIN_X - ADDRESS_X, BODY_SIZE);
    let date_y = below_address - 8.0;
    l.block(
        &[(place_and_date.to_owned(), Style::Regular)],
        ADDRESS_X,
        date_y,
        PAGE_W - MARGIN_X - ADDRESS_X,
        BODY_SIZE,
    );
    l.y = below_sender.min(date_y - 6.0) - 8.0;
}

fn signature(l: &mut Layout, doc: &Document) {
    l.gap(8.0);
    l.keep_together(4, BODY_SIZE);
    if let Some(name) = &doc.signatory {
        l.line_at(name, Style::Bold, BODY_SIZE, ADDRESS_X);
    }
    if let Some(role) = &doc.signatory_role {
        l.line_at(role, Style::Regular, BODY_SIZE, ADDRESS_X);
    }
    l.line_at(&doc.creditor.name, Style::Regular, BODY_SIZE, ADDRESS_X);
}

fn earlier(l: &mut Layout, doc: &Document, w: &Words) {
    if doc.earlier.is_empty() {
        return;
    }
    l.gap(3.0);
    l.paragraph(&format!("{} :", w.earlier), Style::Bold, BODY_SIZE);
    for e in &doc.earlier {
        l.paragraph(
            &format!("– {} : {} ({})", long_date(e.on, doc.language), e.step, e.channel),
            Style::Regular,
            BODY_SIZE,
        );
    }
}

fn legal_basis(l: &mut Layout, doc: &Document, w: &Words) {
    if doc.legal_basis.is_empty() {
        return;
    }
    l.gap(3.0);
    l.paragraph(&format!("{} :", w.basis), Style::Bold, SMALL);
    for b in &doc.legal_basis {
        l.paragraph(b, Style::Regular, SMALL);
    }
}

/// The formal notice as an A4 letter: sender, recipient, place and date, subject, the invoices,
/// the penalties and their basis, the demand with its deadline, how to pay, the signature.
pub fn formal_notice_pdf(doc: &Document) -> Result<Vec<u8>, printpdf::Error> {
    if doc.kind == DocumentKind::CourtFile {
        return court_file_pdf(doc);
    }
    let w = words(doc.language);
    let mut l = Layout::new();
    letter_head(&mut l, &doc.creditor, &doc.debtor, &doc.place_and_date());
    if let Some(mention) = &doc.mention {
        l.paragraph(mention, Style::Bold, BODY_SIZE);
        l.gap(1.0);
    }
    l.paragraph(&format!("{} : {}", w.subject, doc.subject), Style::Bold, BODY_SIZE);
    l.gap(5.0);
    l.paragraph(&doc.salutation, Style::Regular, BODY_SIZE);
    l.gap(2.0);
    for p in &doc.intro {
        l.paragraph(p, Style::Regular, BODY_SIZE);
    }
    l.gap(2.0);
    invoice_table(&mut l, doc, &w);
    penalty_table(&mut l, doc, &w);
    totals(&mut l, doc, &w);
    legal_basis(&mut l, doc, &w);
    earlier(&mut l, doc, &w);
    l.gap(3.0);
    for p in &doc.closing {
        l.paragraph(p, Style::Regular, BODY_SIZE);
        l.gap(2.0);
    }
    how_to_pay(&mut l, doc, &w);
    l.gap(4.0);
    l.paragraph(w.regards, Style::Regular, BODY_SIZE);
    signature(&mut l, doc);
    draw(l, &format!("{} - {}", doc.creditor.name, doc.subject), &doc.creditor.name)
}

/// The order-to-pay request as one file: the court and form, both parties in full, the claim
/// with its breakdown and basis, the reminders and notice with their dates, the attachments.
pub fn court_file_pdf(doc: &Document) -> Result<Vec<u8>, printpdf::Error> {
    let w = words(doc.language);
    let fr = doc.language == Language::Fr;
    let mut l = Layout::new();
    l.y = TOP + 4.0;
    l.paragraph(
        if fr { "REQUÊTE EN INJONCTION DE PAYER" } else { "REQUEST FOR AN ORDER TO PAY (INJONCTION DE PAYER)" },
        Style::Bold,
        14.0,
    );
    if let Some(court) = &doc.court {
        l.paragraph(&format!("{} – {}", court.court, court.cerfa), Style::Regular, BODY_SIZE);
    }
    l.paragraph(&doc.subject, Style::Regular, SMALL);
    l.gap(4.0);
    let section = |l: &mut Layout, title: &str| {
        l.gap(3.0);
        l.keep_together(3, BODY_SIZE);
        l.paragraph(title, Style::Bold, BODY_SIZE);
    };
    section(&mut l, if fr { "1. Créancier (demandeur)" } else { "1. Creditor (applicant)" });
    let mut creditor = doc.creditor.lines.clone();
    if let Some(name) = &doc.signatory {
        let role = doc.signatory_role.as_deref().map(|r| format!(", {r}")).unwrap_or_default();
        creditor.push(if fr {
            format!("Représenté par {name}{role}")
        } else {
            format!("Represented by {name}{role}")
        });
    }
    l.paragraph(&doc.creditor.name, Style::Regular, BODY_SIZE);
    for line in &creditor {
        l.paragraph(line, Style::Regular, BODY_SIZE);
    }
    section(&mut l, if fr { "2. Débiteur (défendeur)" } else { "2. Debtor (respondent)" });
    l.paragraph(&doc.debtor.name, Style::Regular, BODY_SIZE);
    for line in &doc.debtor.lines {
        l.paragraph(line, Style::Regular, BODY_SIZE);
    }
    l.paragraph(&doc.debtor_status, Style::Regular, BODY_SIZE);
    section(&mut l, if fr { "3. Montant de la créance et fondement" } else { "3. Amount claimed and basis" });
    for p in &doc.intro {
        l.paragraph(p, Style::Regular, BODY_SIZE);
    }
    l.gap(2.0);
    invoice_table(&mut l, doc, &w);
    penalty_table(&mut l, doc, &w);
    totals(&mut l, doc, &w);
    legal_basis(&mut l, doc, &w);
    section(&mut l, if fr { "4. Relances et mise en demeure" } else { "4. Reminders and formal notice" });
    if doc.earlier.is_empty() {
        l.paragraph(if fr { "Aucune relance envoyée." } else { "No reminder sent." }, Style::Regular, BODY_SIZE);
    }
    for e in &doc.earlier {
        l.paragraph(
            &format!("– {} : {} ({})", long_date(e.on, doc.language), e.step, e.channel),
            Style::Regular,
            BODY_SIZE,
        );
    }
    section(&mut l, if fr { "5. Pièces jointes" } else { "5. Documents attached" });
    for (i, a) in doc.attachments.iter().enumerate() {
        l.paragraph(&format!("{}. {a}", i + 1), Style::Regular, BODY_SIZE);
    }
    l.gap(6.0);
    let made = if fr {
        format!("Fait à {}, le {}", doc.place, long_date(doc.date, doc.language))
    } else {
        doc.place_and_date()
    };
    l.keep_together(5, BODY_SIZE);
    l.line_at(&made, Style::Regular, BODY_SIZE, ADDRESS_X);
    signature(&mut l, doc);
    draw(l, &format!("{} - {}", doc.creditor.name, doc.subject), &doc.creditor.name)
}

/// The customer statement: both parties, the period, every movement with the running balance,
/// and what is overdue at its end.
pub fn statement_pdf(doc: &StatementDocument) -> Result<Vec<u8>, printpdf::Error> {
    let fr = doc.language == Language::Fr;
    let st = &doc.statement;
    let d = |x| long_date(x, doc.language);
    let mut l = Layout::new();
    let place_date = if fr { format!("Le {}", d(doc.date)) } else { d(doc.date) };
    letter_head(&mut l, &doc.creditor, &doc.debtor, &place_date);
    let title = if fr {
        format!("Relevé de compte du {} au {}", d(st.from), d(st.to))
    } else {
        format!("Account statement from {} to {}", d(st.from), d(st.to))
    };
    l.paragraph(&title, Style::Bold, 13.0);
    l.paragraph(
        &format!("{} {}", if fr { "Client n°" } else { "Customer no." }, st.customer_ref),
        Style::Regular,
        BODY_SIZE,
    );
    l.paragraph(&doc.payment_reference_line(), Style::Bold, BODY_SIZE);
    l.gap(4.0);
    let columns = [
        Column { title: "Date", width: 22.0, right: false },
        Column { title: if fr { "Opération" } else { "Movement" }, width: 58.0, right: false },
        Column { title: if fr { "Référence" } else { "Reference" }, width: 28.0, right: false },
        Column { title: if fr { "Débit" } else { "Debit" }, width: 22.0, right: true },
        Column { title: if fr { "Crédit" } else { "Credit" }, width: 22.0, right: true },
        Column { title: if fr { "Solde" } else { "Balance" }, width: 18.0 + (TEXT_W - 170.0), right: true },
    ];
    let mut rows = vec![(
        vec![
            short_date(st.from),
            (if fr { "Solde au début de la période" } else { "Opening balance" }).to_owned(),
            String::new(),
            String::new(),
            String::new(),
            amount(st.opening_balance),
        ],
        Style::Bold,
    )];
    for m in &st.lines {
        rows.push((
            vec![
                short_date(m.date),
                movement(&m.kind, doc.language).map_or_else(|| m.description.clone(), str::to_owned),
                m.reference.clone(),
                or_blank(m.debit),
                or_blank(m.credit),
                amount(m.balance),
            ],
            Style::Regular,
        ));
    }
    rows.push((
        vec![
            short_date(st.to),
            (if fr { "Solde à la fin de la période" } else { "Closing balance" }).to_owned(),
            String::new(),
            amount(st.total_debit),
            amount(st.total_credit),
            amount(st.closing_balance),
        ],
        Style::Bold,
    ));
    l.table(&columns, &rows, TABLE);
    if !st.overdue_invoices.is_empty() {
        l.gap(5.0);
        l.paragraph(
            &if fr {
                format!("Échu et impayé au {} : {}", d(st.to), euros(st.overdue))
            } else {
                format!("Overdue on {}: {}", d(st.to), euros(st.overdue))
            },
            Style::Bold,
            BODY_SIZE,
        );
        for o in &st.overdue_invoices {
            l.paragraph(
                &if fr {
                    format!(
                        "– {} du {}, échue le {} : {}",
                        o.reference,
                        d(o.issued_on),
                        d(o.due_on),
                        euros(o.remaining)
                    )
                } else {
                    format!("– {} of {}, due {}: {}", o.reference, d(o.issued_on), d(o.due_on), euros(o.remaining))
                },
                Style::Regular,
                BODY_SIZE,
            );
        }
    }
    if st.deposits_held.is_positive() {
        l.gap(3.0);
        l.paragraph(
            &if fr {
                format!("Acompte détenu, hors solde : {}", euros(st.deposits_held))
            } else {
                format!("Deposit held, outside the balance: {}", euros(st.deposits_held))
            },
            Style::Regular,
            BODY_SIZE,
        );
    }
    draw(l, &format!("{} - {}", doc.creditor.name, title), &doc.creditor.name)
}

/// A movement in the customer's language; the ledger's own description (in English, with ISO
/// dates) only for a kind without words here.
fn movement(kind: &str, lang: Language) -> Option<&'static str> {
    let fr = lang == Language::Fr;
    Some(match kind {
        "sale" => {
            if fr {
                "Achat sur compte"
            } else {
                "Purchase on account"
            }
        }
        "payment" => {
            if fr {
                "Règlement"
            } else {
                "Payment"
            }
        }
        "deposit_received" => {
            if fr {
                "Acompte reçu"
            } else {
                "Deposit received"
            }
        }
        "deposit_applied" => {
            if fr {
                "Acompte imputé"
            } else {
                "Deposit applied"
            }
        }
        "deposit_refunded" => {
            if fr {
                "Acompte remboursé"
            } else {
                "Deposit refunded"
            }
        }
        "credit_note" => {
            if fr {
                "Avoir"
            } else {
                "Credit note"
            }
        }
        "adjustment" => {
            if fr {
                "Régularisation"
            } else {
                "Adjustment"
            }
        }
        "write_off" => {
            if fr {
                "Abandon de créance"
            } else {
                "Written off"
            }
        }
        "reversal" => {
            if fr {
                "Annulation"
            } else {
                "Reversal"
            }
        }
        _ => return None,
    })
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part of a reminder email: the text's paragraphs, the invoice lines of the text
/// replaced by a table when the document is known, the amounts, and a button to pay online.
pub fn email_html(body: &str, amounts: &[(&str, String)], doc: Option<&Document>) -> String {
    let lang = doc.map_or(Language::Fr, |d| d.language);
    let w = words(lang);
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: Helvetica, Arial, sans-serif; font-size: 15px; color: #222; max-width: 640px\">\n",
    );
    let is_invoice_line = |line: &str| {
        let line = line.trim_start_matches("- ").trim();
        doc.is_some_and(|d| {
            d.invoices.iter().any(|i| {
                line.starts_with(&format!("facture {} ", i.reference))
                    || line.starts_with(&format!("invoice {} ", i.reference))
            })
        })
    };
    let mut table_done = false;
    for paragraph in body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let mut text_lines = Vec::new();
        for line in paragraph.lines() {
            if is_invoice_line(line) {
                if !text_lines.is_empty() {
                    html.push_str(&format!("<p>{}</p>\n", text_lines.join("<br>\n")));
                    text_lines.clear();
                }
                if !table_done && let Some(d) = doc {
                    html.push_str(&invoice_table_html(d, &w));
                    table_done = true;
                }
            } else {
                text_lines.push(linkify(line));
            }
        }
        if !text_lines.is_empty() {
            html.push_str(&format!("<p>{}</p>\n", text_lines.join("<br>\n")));
        }
    }
    html.push_str("<table style=\"border-collapse: collapse; margin: 12px 0\">\n");
    for (label, value) in amounts {
        html.push_str(&format!(
            "<tr><td style=\"padding: 2px 16px 2px 0\">{}</td><td style=\"text-align: right; font-weight: bold\">{}</td></tr>\n",
            esc(label),
            esc(value)
        ));
    }
    html.push_str("</table>\n");
    if let Some(link) = doc.and_then(|d| d.payment_link.as_deref()) {
        let label = if lang == Language::Fr { "Payer en ligne" } else { "Pay online" };
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display: inline-block; background: #1d6b4f; color: #fff; padding: 10px 22px; border-radius: 4px; text-decoration: none; font-weight: bold\">{label}</a></p>\n",
            esc(link)
        ));
    }
    html.push_str("</body></html>\n");
    html
}

/// A line's text, its https:// addresses made links.
fn linkify(line: &str) -> String {
    line.split(' ')
        .map(
            |word| {
                if word.starts_with("https://") { format!("<a href=\"{0}\">{0}</a>", esc(word)) } else { esc(word) }
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

fn invoice_table_html(doc: &Document, w: &Words) -> String {
    let cell = "style=\"padding: 4px 10px; border-bottom: 1px solid #ddd\"";
    let num = "style=\"padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap\"";
    let mut out = String::from("<table style=\"border-collapse: collapse; margin: 8px 0\">\n<tr>");
    for (h, right) in
        [(w.invoice, false), (w.date, false), (w.due, false), (w.amount, true), (w.paid, true), (w.left, true)]
    {
        out.push_str(&format!(
            "<th style=\"padding: 4px 10px; border-bottom: 2px solid #888; text-align: {}\">{}</th>",
            if right { "right" } else { "left" },
            esc(h)
        ));
    }
    out.push_str("</tr>\n");
    for i in &doc.invoices {
        out.push_str(&format!(
            "<tr><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td><td {num}>{}</td><td {num}>{}</td><td {num}>{}</td></tr>\n",
            esc(&i.reference),
            esc(&long_date(i.issued_on, doc.language)),
            esc(&long_date(i.due_on, doc.language)),
            esc(&euros(i.amount)),
            esc(&or_blank(i.paid)),
            esc(&euros(i.left)),
        ));
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_text_cannot_inject_html() {
        let html = email_html(
            "Bonjour <b>Jean</b> & \"Cie\",\n\nPayez ici : https://pay.example.fr/X?a=1&b=\"2\"",
            &[("Montant dû", "12,00\u{a0}€".into())],
            None,
        );
        assert!(html.contains("<p>Bonjour &lt;b&gt;Jean&lt;/b&gt; &amp; &quot;Cie&quot;,</p>"), "{html}");
        assert!(html.contains("<a href=\"https://pay.example.fr/X?a=1&amp;b=&quot;2&quot;\">"), "{html}");
        assert!(
            !html.contains("<table style=\"border-collapse: collapse; margin: 8px 0\">"),
            "no invoice table without a document"
        );
    }

    #[test]
    fn movements_are_worded_in_the_customer_language() {
        assert_eq!(movement("payment", Language::Fr), Some("Règlement"));
        assert_eq!(movement("sale", Language::En), Some("Purchase on account"));
        assert_eq!(movement("something new", Language::Fr), None);
    }
}
