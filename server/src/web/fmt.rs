//! How the pages write numbers and dates: amounts the French way whatever the language
//! ("1 234,56 €", the shop is French), dates as the reader writes them, and the DSO trend as
//! an inline SVG polyline (no script, no style attribute: the CSP allows neither).

use ardoise_core::Money;
use chrono::{DateTime, NaiveDate, Utc};

use super::i18n::Words;

pub(crate) fn euros(m: Money) -> String {
    ardoise_core::document::euros(m)
}

pub(crate) fn date(w: &Words, d: NaiveDate) -> String {
    if w.lang == "en" { d.format("%Y-%m-%d").to_string() } else { d.format("%d/%m/%Y").to_string() }
}

pub(crate) fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Days with one decimal, with a decimal comma in French; "—" when there were no credit sales.
pub(crate) fn days(w: &Words, v: Option<f64>) -> String {
    match v {
        Some(v) if w.lang == "fr" => format!("{v:.1}\u{a0}{}", w.days).replace('.', ","),
        Some(v) => format!("{v:.1} {}", w.days),
        None => "—".to_owned(),
    }
}

/// A percentage from a 0..1 probability.
pub(crate) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |p| format!("{:.0}\u{a0}%", p * 100.0))
}

/// The trend's points inside a 300 x 80 box, oldest first; a month without a figure is left
/// out (the line joins its neighbours).
pub(crate) fn trend_points(values: &[Option<f64>]) -> String {
    let max = values.iter().flatten().fold(1.0f64, |a, &b| a.max(b));
    let step = if values.len() > 1 { 290.0 / (values.len() - 1) as f64 } else { 0.0 };
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", 5.0 + step * i as f64, 75.0 - v / max * 70.0)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A timeline line's kind in the reader's words (the line's own text is the core's, in
/// English); an unknown kind is shown as it is.
pub(crate) fn kind<'a>(w: &Words, kind: &'a str) -> &'a str {
    let fr = w.lang == "fr";
    match kind {
        "entry:sale" => {
            if fr {
                "Vente à crédit"
            } else {
                "Sale on account"
            }
        }
        "entry:payment" => {
            if fr {
                "Paiement"
            } else {
                "Payment"
            }
        }
        "entry:deposit_received" => {
            if fr {
                "Acompte reçu"
            } else {
                "Deposit received"
            }
        }
        "entry:deposit_applied" => {
            if fr {
                "Acompte imputé"
            } else {
                "Deposit applied"
            }
        }
        "entry:deposit_refunded" => {
            if fr {
                "Acompte remboursé"
            } else {
                "Deposit refunded"
            }
        }
        "entry:credit_note" => {
            if fr {
                "Avoir"
            } else {
                "Credit note"
            }
        }
        "entry:adjustment" => {
            if fr {
                "Ajustement"
            } else {
                "Adjustment"
            }
        }
        "entry:write_off" => {
            if fr {
                "Passage en perte"
            } else {
                "Write-off"
            }
        }
        "entry:reversal" => {
            if fr {
                "Annulation"
            } else {
                "Reversal"
            }
        }
        "reminder" => {
            if fr {
                "Relance"
            } else {
                "Reminder"
            }
        }
        "note" => "Note",
        "call" => {
            if fr {
                "Appel"
            } else {
                "Call"
            }
        }
        "promise" => {
            if fr {
                "Promesse"
            } else {
                "Promise"
            }
        }
        "plan" => {
            if fr {
                "Échéancier"
            } else {
                "Payment plan"
            }
        }
        "hold" => {
            if fr {
                "Relances"
            } else {
                "Reminders"
            }
        }
        "dispute_opened" => {
            if fr {
                "Litige ouvert"
            } else {
                "Dispute opened"
            }
        }
        "dispute_note" => {
            if fr {
                "Litige"
            } else {
                "Dispute"
            }
        }
        "insolvency" => {
            if fr {
                "Procédure collective"
            } else {
                "Insolvency"
            }
        }
        "ladder" => {
            if fr {
                "Échelle de relance"
            } else {
                "Reminder ladder"
            }
        }
        "invoice_stop" => {
            if fr {
                "Relances d'une facture"
            } else {
                "Invoice reminders"
            }
        }
        "dispute_upheld" | "dispute_rejected" => {
            if fr {
                "Litige tranché"
            } else {
                "Dispute resolved"
            }
        }
        "promise_kept" => {
            if fr {
                "Promesse tenue"
            } else {
                "Promise kept"
            }
        }
        "promise_broken" => {
            if fr {
                "Promesse non tenue"
            } else {
                "Promise broken"
            }
        }
        "plan_completed" | "plan_broken" => {
            if fr {
                "Échéancier"
            } else {
                "Payment plan"
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{EN, FR};

    #[test]
    fn amounts_are_french_and_days_follow_the_reader() {
        assert_eq!(euros(Money::parse("1234.56").unwrap()), "1\u{a0}234,56\u{a0}€");
        assert_eq!(days(FR, Some(42.31)), "42,3\u{a0}jours");
        assert_eq!(days(EN, Some(42.31)), "42.3 days");
        assert_eq!(trend_points(&[Some(10.0), None, Some(20.0)]), "5.0,40.0 295.0,5.0");
    }
}
