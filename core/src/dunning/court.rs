//! When the file for an order to pay (injonction de payer) may be prepared, and for which court.
//! Pure: the daily run asks before it queues the court-file step.
//!
//! - A formal notice must have been sent and its deadline passed: the file claims what the
//!   notice demanded and the debtor did not pay.
//! - The court follows the parties: the shop is a trader, so a claim on a business goes to the
//!   tribunal de commerce (tribunal des activités économiques where it replaced it) with Cerfa
//!   12946; on a consumer, to the tribunal judiciaire with Cerfa 12948 (Code de procédure civile
//!   1405 and following).
//! - A claim past its limitation period is refused: 2 years for a professional's claim on a
//!   consumer (Code de la consommation L218-2), 5 years between traders (Code de commerce
//!   L110-4), counted from the due date or from the last payment on the invoice, which
//!   acknowledged the debt and started the period again (Code civil 2240).
//! - A debtor in insolvency proceedings is not sued: the claim is declared to the mandataire
//!   judiciaire instead (Code de commerce L622-21, L622-24).
//! - A public buyer's debt under a public contract is for the administrative court, not an
//!   injonction de payer.

use chrono::{Days, Months, NaiveDate};

use super::template::Language;
use crate::customer::CustomerKind;

/// Days the formal notice gives the debtor, counted from its receipt (the default letter says
/// eight days).
pub const NOTICE_DEADLINE_DAYS: u64 = 8;
/// A registered letter not collected waits this long at the post office before it is returned,
/// so the deadline is only sure to have passed this long after sending plus the notice's days.
pub const REGISTERED_LETTER_HELD_DAYS: u64 = 15;

/// The court an injonction de payer goes to, with its Cerfa form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Court {
    /// Both parties are traders: tribunal de commerce, or tribunal des activités économiques.
    Commerce,
    /// Any other case: tribunal judiciaire.
    Judiciaire,
}

impl Court {
    pub fn cerfa(self) -> &'static str {
        match self {
            Court::Commerce => "12946",
            Court::Judiciaire => "12948",
        }
    }

    pub fn name(self, lang: Language) -> &'static str {
        match (self, lang) {
            (Court::Commerce, Language::Fr) => "tribunal de commerce (ou tribunal des activités économiques)",
            (Court::Commerce, Language::En) => {
                "commercial court (tribunal de commerce or tribunal des activités économiques)"
            }
            (Court::Judiciaire, Language::Fr) => "tribunal judiciaire",
            (Court::Judiciaire, Language::En) => "civil court (tribunal judiciaire)",
        }
    }
}

/// Why the court file cannot be prepared today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bar {
    /// No formal notice was sent (one queued, failed or never posted does not count).
    NoNotice,
    /// The notice's deadline runs until this day (included).
    NoticeRunning {
        until: NaiveDate,
    },
    /// An invoice is past its limitation period, which ran from `since` (its due date or its
    /// last payment).
    TimeBarred {
        invoice: String,
        since: NaiveDate,
        years: u32,
        law: &'static str,
    },
    /// Insolvency proceedings opened on this day.
    Insolvent {
        since: NaiveDate,
    },
    PublicBuyer,
}

impl Bar {
    /// Waiting is all it takes: the ladder simply tries again on a later day.
    pub fn is_wait(&self) -> bool {
        matches!(self, Bar::NoNotice | Bar::NoticeRunning { .. })
    }

    pub fn text(&self, lang: Language) -> String {
        match (self, lang) {
            (Bar::NoNotice, Language::Fr) => {
                "aucune mise en demeure n'a été envoyée : le dossier d'injonction de payer attend qu'elle le soit".into()
            }
            (Bar::NoNotice, Language::En) => {
                "no formal notice was sent: the court file waits until one has been".into()
            }
            (Bar::NoticeRunning { until }, Language::Fr) => {
                format!("le délai laissé par la mise en demeure court jusqu'au {until}")
            }
            (Bar::NoticeRunning { until }, Language::En) => format!("the formal notice's deadline runs until {until}"),
            (Bar::TimeBarred { invoice, since, years, law }, Language::Fr) => format!(
                "la facture {invoice} est prescrite : {years} ans depuis le {since} ({law}) ; retirez-la des relances"
            ),
            (Bar::TimeBarred { invoice, since, years, law }, Language::En) => format!(
                "invoice {invoice} is time-barred: {years} years since {since} ({law}); stop it before filing"
            ),
            (Bar::Insolvent { since }, Language::Fr) => format!(
                "procédure collective ouverte le {since} : pas d'injonction de payer, déclarez la créance au mandataire \
                 judiciaire (Code de commerce L622-21, L622-24)"
            ),
            (Bar::Insolvent { since }, Language::En) => format!(
                "insolvency proceedings opened on {since}: no order to pay; declare the claim to the court-appointed \
                 administrator (Code de commerce L622-21, L622-24)"
            ),
            (Bar::PublicBuyer, Language::Fr) => {
                "acheteur public : la créance relève du juge administratif (référé-provision), pas d'une injonction de payer"
                    .into()
            }
            (Bar::PublicBuyer, Language::En) => {
                "public buyer: the claim goes to the administrative court (référé-provision), not an order to pay".into()
            }
        }
    }
}

/// The court a claim on this kind of debtor goes to, the shop being a trader.
pub fn court_for(kind: CustomerKind) -> Court {
    match kind {
        CustomerKind::Business => Court::Commerce,
        CustomerKind::Consumer | CustomerKind::Public => Court::Judiciaire,
    }
}

/// The last day the debtor may still pay under a notice sent on `sent_on`.
pub fn notice_deadline(sent_on: NaiveDate) -> NaiveDate {
    sent_on.checked_add_days(Days::new(REGISTERED_LETTER_HELD_DAYS + NOTICE_DEADLINE_DAYS)).unwrap_or(NaiveDate::MAX)
}

/// Whether the court file may be prepared on `today`, and for which court. `invoices` are the
/// (reference, day its limitation period started: the due date, or the last payment on it)
/// of what it would claim.
pub fn check(
    kind: CustomerKind,
    notice_sent_on: Option<NaiveDate>,
    invoices: &[(String, NaiveDate)],
    insolvent_since: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Court, Bar> {
    if let Some(since) = insolvent_since.filter(|d| *d <= today) {
        return Err(Bar::Insolvent { since });
    }
    let (years, law) = match kind {
        CustomerKind::Public => return Err(Bar::PublicBuyer),
        CustomerKind::Business => (5, "Code de commerce L110-4"),
        CustomerKind::Consumer => (2, "Code de la consommation L218-2"),
    };
    let court = court_for(kind);
    let Some(sent) = notice_sent_on else { return Err(Bar::NoNotice) };
    let until = notice_deadline(sent);
    if today <= until {
        return Err(Bar::NoticeRunning { until });
    }
    for (invoice, since) in invoices {
        // The claim can be brought up to the same day `years` later, not after.
        let last = since.checked_add_months(Months::new(12 * years)).unwrap_or(NaiveDate::MAX);
        if today > last {
            return Err(Bar::TimeBarred { invoice: invoice.clone(), since: *since, years, law });
        }
    }
    Ok(court)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    fn inv(due: &str) -> Vec<(String, NaiveDate)> {
        vec![("F-1".to_owned(), d(due))]
    }

    #[test]
    fn the_file_waits_for_a_sent_notice_and_its_deadline() {
        let due = inv("2026-03-01");
        assert_eq!(check(CustomerKind::Business, None, &due, None, d("2026-06-01")), Err(Bar::NoNotice));
        // Sent 1 May: 15 days for the registered letter, then 8 days: the deadline is 24 May.
        let sent = Some(d("2026-05-01"));
        assert_eq!(
            check(CustomerKind::Business, sent, &due, None, d("2026-05-24")),
            Err(Bar::NoticeRunning { until: d("2026-05-24") })
        );
        assert_eq!(check(CustomerKind::Business, sent, &due, None, d("2026-05-25")), Ok(Court::Commerce));
        assert_eq!(check(CustomerKind::Consumer, sent, &due, None, d("2026-05-25")), Ok(Court::Judiciaire));
        assert_eq!((Court::Commerce.cerfa(), Court::Judiciaire.cerfa()), ("12946", "12948"));
    }

    #[test]
    fn limitation_is_two_years_on_a_consumer_and_five_between_traders() {
        let due = inv("2024-03-10");
        let sent = Some(d("2026-01-05"));
        assert_eq!(check(CustomerKind::Consumer, sent, &due, None, d("2026-03-10")), Ok(Court::Judiciaire));
        let barred = check(CustomerKind::Consumer, sent, &due, None, d("2026-03-11")).unwrap_err();
        assert!(matches!(&barred, Bar::TimeBarred { years: 2, law, .. } if law.contains("L218-2")));
        assert!(barred.text(Language::Fr).contains("prescrite"));
        assert_eq!(check(CustomerKind::Business, sent, &due, None, d("2026-03-11")), Ok(Court::Commerce));
        let old = inv("2021-03-10");
        let barred = check(CustomerKind::Business, sent, &old, None, d("2026-03-11")).unwrap_err();
        assert!(matches!(barred, Bar::TimeBarred { years: 5, law: "Code de commerce L110-4", .. }));
    }

    #[test]
    fn insolvency_and_public_buyers_stop_the_file() {
        let (due, sent) = (inv("2026-03-01"), Some(d("2026-04-01")));
        let insolvent = Some(d("2026-05-02"));
        assert_eq!(check(CustomerKind::Business, sent, &due, insolvent, d("2026-05-01")), Ok(Court::Commerce));
        assert_eq!(
            check(CustomerKind::Business, sent, &due, insolvent, d("2026-05-02")),
            Err(Bar::Insolvent { since: d("2026-05-02") })
        );
        assert_eq!(check(CustomerKind::Public, sent, &due, None, d("2026-06-01")), Err(Bar::PublicBuyer));
        assert!(!Bar::PublicBuyer.is_wait() && Bar::NoNotice.is_wait());
    }
}
