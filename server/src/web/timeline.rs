//! A customer's timeline in the reader's language. The core writes each line's text in English
//! when it records it (the till's CLI shows it so); the back office's French reader gets the
//! same facts in French: each kind's known sentence is read back into its parts (amounts,
//! dates, references, the reason typed by a person, kept as typed) and written again in
//! French. A text the patterns do not know is shown as the core wrote it.

use ardoise_core::{Money, parse_date};

use super::fmt::{date, euros};
use super::i18n::{FR, Words};

/// The line's text for the reader.
pub(crate) fn text(w: &Words, kind: &str, text: &str) -> String {
    if w.lang != "fr" {
        return text.to_owned();
    }
    french(kind, text).unwrap_or_else(|| text.to_owned())
}

/// "12.50" (as the core writes it before " EUR") the French way; anything else as it is.
fn eur(s: &str) -> String {
    Money::parse(s.trim()).map(euros).unwrap_or_else(|_| format!("{s} EUR"))
}

fn day(s: &str) -> String {
    parse_date(s.trim()).map(|d| date(FR, d)).unwrap_or_else(|_| s.to_owned())
}

/// "{a} EUR by {d}" into (amount, date).
fn amount_by(s: &str, by: &str) -> Option<(String, String)> {
    let (a, d) = s.split_once(&format!(" EUR {by} "))?;
    Some((eur(a), day(d)))
}

fn method(m: &str) -> &str {
    match m {
        "cash" => "espèces",
        "card" => "carte",
        "transfer" => "virement",
        "cheque" => "chèque",
        "online" => "en ligne",
        other => other,
    }
}

/// How a reminder goes, as French says it after the step's name ("Second rappel par e-mail",
/// "… à la caisse").
fn channel(c: &str) -> String {
    match c {
        "email" => "par e-mail".to_owned(),
        "sms" => "par SMS".to_owned(),
        "letter" => "par courrier".to_owned(),
        "phone_call" => "par téléphone".to_owned(),
        "till" => "à la caisse".to_owned(),
        "document" => "en dossier".to_owned(),
        other => format!("par {other}"),
    }
}

fn state(s: &str) -> &str {
    match s {
        "queued" => "à envoyer",
        "sent" => "envoyée",
        "failed" => "non remise",
        "cancelled" => "annulée",
        "held" => "en attente",
        other => other,
    }
}

/// A person's words after the core's, such as " (rappelle lundi)", kept as they are.
fn with_note(t: &str) -> (&str, &str) {
    match t.find(" (") {
        Some(i) if t.ends_with(')') => (&t[..i], &t[i..]),
        _ => (t, ""),
    }
}

fn french(kind: &str, t: &str) -> Option<String> {
    let after = |prefix: &str| t.strip_prefix(prefix);
    Some(match kind {
        "entry:sale" => {
            let (invoice, due) = after("sale on account, invoice ")?.rsplit_once(" due ")?;
            format!("vente à crédit, facture {invoice}, échéance le {}", day(due))
        }
        "entry:payment" => format!("paiement ({})", method(after("payment (")?.strip_suffix(')')?)),
        "entry:deposit_received" => match after("deposit received")? {
            "" => "acompte reçu".to_owned(),
            rest => format!("acompte reçu pour {}", rest.strip_prefix(" for ")?),
        },
        "entry:deposit_applied" if t == "deposit applied" => "acompte imputé".to_owned(),
        "entry:deposit_refunded" if t == "deposit refunded" => "acompte remboursé".to_owned(),
        "entry:credit_note" => format!("avoir : {}", after("credit note: ")?),
        "entry:adjustment" => format!("ajustement : {}", after("adjustment: ")?),
        "entry:write_off" => format!("passage en perte : {}", after("write-off: ")?),
        "entry:reversal" => format!("annulation : {}", after("reversal: ")?),
        "reminder" => {
            let (step, rest) = t.rsplit_once(" by ")?;
            let (ch, rest) = rest.split_once(": ")?;
            let (st, note) = with_note(rest);
            format!("{step} {} : {}{note}", channel(ch), state(st))
        }
        "promise" => {
            let (a, d) = amount_by(after("promise to pay ")?, "by")?;
            format!("promesse de payer {a} d'ici le {d}")
        }
        "promise_kept" => {
            let (a, d) = amount_by(after("promise of ")?.strip_suffix(" kept")?, "for")?;
            format!("promesse de {a} pour le {d} tenue")
        }
        "promise_broken" => {
            let (promise, paid) = after("promise of ")?.split_once(" not kept (")?;
            let (a, d) = amount_by(promise, "for")?;
            format!("promesse de {a} pour le {d} non tenue ({} payés)", eur(paid.strip_suffix(" EUR paid)")?))
        }
        "call" => {
            let (what, note) = with_note(after("call: ")?);
            let what = match what {
                "reached" => "joint".to_owned(),
                "no answer" => "pas de réponse".to_owned(),
                p => {
                    let (a, d) = amount_by(p.strip_prefix("promise of ")?, "by")?;
                    format!("promesse de {a} d'ici le {d}")
                }
            };
            format!("appel : {what}{note}")
        }
        "hold" => match t {
            "reminders resumed" => "relances reprises".to_owned(),
            _ => match after("reminders on hold until ") {
                Some(rest) => {
                    let (u, r) = rest.split_once(": ")?;
                    format!("relances suspendues jusqu'au {} : {r}", day(u))
                }
                None => format!("relances suspendues : {}", after("reminders on hold: ")?),
            },
        },
        "ladder" => match t {
            "excluded from reminders" => "exclu des relances".to_owned(),
            "ladder: default" => "échelle : par défaut".to_owned(),
            _ => format!("échelle : {}", after("ladder: ")?),
        },
        "insolvency" => match t {
            "no insolvency proceedings" => "aucune procédure collective".to_owned(),
            _ => {
                let d = after("insolvency proceedings opened on ")?.strip_suffix(": no indemnity, no court file")?;
                format!("procédure collective ouverte le {} : ni indemnité, ni injonction de payer", day(d))
            }
        },
        "invoice_stop" => match after("reminders resumed for ") {
            Some(invoice) => format!("relances reprises pour {invoice}"),
            None => {
                let (invoice, r) = after("no reminders for ")?.split_once(": ")?;
                format!("plus de relance pour {invoice} : {r}")
            }
        },
        "dispute_opened" | "dispute_note" => {
            let (invoice, x) = after("dispute on ")?.split_once(": ")?;
            format!("litige sur {invoice} : {x}")
        }
        "dispute_upheld" | "dispute_rejected" => {
            let (head, note) = after("dispute on ")?.split_once(": ")?;
            let (invoice, outcome) = head.rsplit_once(' ')?;
            let outcome = if outcome == "upheld" { "fondé" } else { "rejeté" };
            format!("litige sur {invoice} {outcome} : {note}")
        }
        "plan" => {
            let (n, total) = after("payment plan: ")?.split_once(" instalments, ")?;
            format!("échéancier : {n} échéances, {}", eur(total.strip_suffix(" EUR")?))
        }
        "plan_completed" if t == "payment plan completed" => "échéancier terminé".to_owned(),
        "plan_broken" => {
            let (d, behind) = after("payment plan broken: instalment of ")?.split_once(" missed, ")?;
            format!(
                "échéancier rompu : échéance du {} manquée, {} de retard",
                day(d),
                eur(behind.strip_suffix(" EUR behind")?)
            )
        }
        "note" if t == "personal data erased on request (GDPR)" => {
            "données personnelles effacées sur demande (RGPD)".to_owned()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::EN;

    fn fr(kind: &str, t: &str) -> String {
        text(FR, kind, t)
    }

    #[test]
    fn the_cores_sentences_read_in_french() {
        assert_eq!(
            fr("entry:sale", "sale on account, invoice F-12 due 2026-05-01"),
            "vente à crédit, facture F-12, échéance le 01/05/2026"
        );
        assert_eq!(fr("entry:payment", "payment (cheque)"), "paiement (chèque)");
        assert_eq!(
            fr("promise", "promise to pay 1234.50 EUR by 2026-06-30"),
            "promesse de payer 1\u{a0}234,50\u{a0}€ d'ici le 30/06/2026"
        );
        assert_eq!(fr("call", "call: no answer (rappeler lundi)"), "appel : pas de réponse (rappeler lundi)");
        assert_eq!(
            fr("call", "call: promise of 20.00 EUR by 2026-06-01"),
            "appel : promesse de 20,00\u{a0}€ d'ici le 01/06/2026"
        );
        assert_eq!(
            fr("hold", "reminders on hold until 2026-07-01: vacances"),
            "relances suspendues jusqu'au 01/07/2026 : vacances"
        );
        assert_eq!(fr("hold", "reminders resumed"), "relances reprises");
        assert_eq!(
            fr("reminder", "Second rappel by email: failed (not delivered: mailbox unknown)"),
            "Second rappel par e-mail : non remise (not delivered: mailbox unknown)"
        );
        assert_eq!(fr("reminder", "Rappel by till: sent"), format!("Rappel à la caisse : {}", state("sent")));
        assert_eq!(fr("dispute_rejected", "dispute on F-3 rejected: livré"), "litige sur F-3 rejeté : livré");
        assert_eq!(
            fr("promise_broken", "promise of 50.00 EUR for 2026-05-02 not kept (10.00 EUR paid)"),
            "promesse de 50,00\u{a0}€ pour le 02/05/2026 non tenue (10,00\u{a0}€ payés)"
        );
        assert_eq!(fr("plan", "payment plan: 3 instalments, 300.00 EUR"), "échéancier : 3 échéances, 300,00\u{a0}€");
    }

    #[test]
    fn a_person_s_note_and_an_unknown_sentence_stay_as_written_and_english_is_untouched() {
        assert_eq!(fr("note", "Appelée, rappelle lundi"), "Appelée, rappelle lundi");
        assert_eq!(fr("entry:payment", "something new"), "something new");
        assert_eq!(
            text(EN, "promise", "promise to pay 5.00 EUR by 2026-06-30"),
            "promise to pay 5.00 EUR by 2026-06-30"
        );
    }
}
