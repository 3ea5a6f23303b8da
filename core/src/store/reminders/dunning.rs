//! Reminders in the store: the daily run, rendering, the queue, and keeping queued reminders
//! true to the ledger (a payment at any till cancels or recomputes them in its transaction).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::{Customer, CustomerKind};
use crate::dunning::ladder::{Channel, Ladder, StepKind};
use crate::dunning::penalty::{self, PenaltyRequest, RateTables};
use crate::dunning::plan::{self, Instalment, PlanStatus};
use crate::dunning::run::{self, Contact, DueInvoice, Outcome, Skip};
use crate::dunning::template::{self, Language, Template};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::sync::replica::{self, Key, Table};
use crate::store::{Now, ShopSettings, Store, date_of, load_settings, ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReminderState {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

impl ReminderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Queued => "queued",
            ReminderState::Sent => "sent",
            ReminderState::Failed => "failed",
            ReminderState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<ReminderState> {
        match s {
            "queued" => Ok(ReminderState::Queued),
            "sent" => Ok(ReminderState::Sent),
            "failed" => Ok(ReminderState::Failed),
            "cancelled" => Ok(ReminderState::Cancelled),
            _ => Err(Error::Invalid { field: "reminder state", reason: format!("{s:?}") }),
        }
    }
}

/// A reminder as queued for the back office, with its rendered content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRecord {
    pub id: Uuid,
    pub customer_ref: String,
    pub customer_name: String,
    /// Index of the ladder step (0 = first).
    pub level: usize,
    pub step: String,
    pub kind: StepKind,
    pub channel: Channel,
    /// Email address, phone number or postal address, as the channel needs.
    pub recipient: Option<String>,
    pub language: Language,
    pub state: ReminderState,
    pub state_note: Option<String>,
    pub created_on: NaiveDate,
    /// Not to be sent before (SMS wait for daytime, and for Monday on Sundays).
    pub not_before: DateTime<FixedOffset>,
    pub subject: String,
    pub body: String,
    pub amount_due: Money,
    pub penalties: Money,
    pub indemnity: Money,
    pub invoices: Vec<String>,
}

/// What a daily run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub as_of: Option<NaiveDate>,
    /// Customers whose reminder could not be written (a template or ladder problem); the
    /// others were not held up.
    #[serde(default)]
    pub errors: Vec<String>,
    pub customers_checked: u32,
    pub queued: Vec<ReminderRecord>,
    pub skipped: BTreeMap<Skip, u32>,
    pub plans_broken: u32,
    pub promises_broken: u32,
}

/// Ladders, templates and rates as the shop set them (or as shipped).
pub(in crate::store) struct Config {
    pub shop: ShopSettings,
    ladders: HashMap<String, Ladder>,
    templates: HashMap<(String, Language), Template>,
    pub rates: RateTables,
}

impl Config {
    pub(in crate::store) fn load(conn: &Connection) -> Result<Config> {
        let shop = load_settings(conn)?;
        let mut ladders = HashMap::new();
        ladders.insert("default".to_owned(), Ladder::default_french());
        let mut templates: HashMap<(String, Language), Template> =
            template::defaults().into_iter().map(|t| ((t.name.clone(), t.language), t)).collect();
        let mut rates = RateTables::default();
        let mut stmt = conn.prepare_cached(
            "SELECT key, value FROM settings WHERE key LIKE 'ladder:%' OR key LIKE 'template:%' OR key = 'rates'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (key, value) = row?;
            if key == "rates" {
                rates = serde_json::from_str(&value)?;
            } else if key.starts_with("ladder:") {
                let l: Ladder = serde_json::from_str(&value)?;
                ladders.insert(l.name.clone(), l);
            } else {
                let t: Template = serde_json::from_str(&value)?;
                templates.insert((t.name.clone(), t.language), t);
            }
        }
        Ok(Config { shop, ladders, templates, rates })
    }

    fn ladder(&self, name: Option<&str>) -> &Ladder {
        name.and_then(|n| self.ladders.get(n)).or_else(|| self.ladders.get("default")).unwrap_or_else(|| {
            // "default" is always inserted first; this branch only satisfies the type.
            self.ladders.values().next().expect("a default ladder")
        })
    }

    fn template(&self, name: &str, lang: Language) -> Option<&Template> {
        self.templates.get(&(name.to_owned(), lang)).or_else(|| self.templates.get(&(name.to_owned(), Language::Fr)))
    }

    /// How many days before a due date the earliest ladder step comes (0 if none does).
    fn lookahead(&self) -> u64 {
        self.ladders.values().flat_map(|l| l.steps.first()).map(|s| (-s.offset_days).max(0) as u64).max().unwrap_or(0)
    }
}

/// The account facts a run or a refresh needs for one customer.
struct Facts {
    customer: Customer,
    invoices: Vec<DueInvoice>,
    last_contact: Option<NaiveDate>,
    ladder: Option<String>,
    excluded: bool,
    hold: Option<(Option<NaiveDate>, String)>,
}

fn customer_by_id(conn: &Connection, id: i64) -> Result<Customer> {
    let sql = format!("SELECT {} FROM customers WHERE id = ?1", crate::store::till::customers::COLUMNS);
    Ok(conn.prepare_cached(&sql)?.query_row([id], crate::store::till::customers::from_row)?)
}

/// Unpaid invoices due before `horizon`, without disputed or stopped ones, with the level
/// each was already chased at.
fn due_invoices(conn: &Connection, customer_id: i64, horizon: NaiveDate) -> Result<Vec<DueInvoice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.entry_uuid, i.reference, i.issued_on, i.due_on, i.amount, i.amount - i.settled,
                (SELECT max(ri.level) FROM reminder_invoices ri JOIN reminders r ON r.id = ri.reminder_id
                  WHERE ri.invoice = i.entry_uuid AND r.state != 'cancelled')
         FROM items i
         WHERE i.customer_id = ?1 AND i.open = 1 AND i.due_on < ?2
           AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.invoice = i.entry_uuid AND d.state = 'open')
           AND NOT EXISTS (SELECT 1 FROM invoice_stops s WHERE s.invoice = i.entry_uuid)
           AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.uuid = i.entry_uuid AND e.kind = 'adjustment'
                           AND json_extract(e.body, '$.fee'))
         ORDER BY i.due_on, i.issued_on",
    )?;
    let rows = stmt.query_map(params![customer_id, horizon.to_string()], |r| {
        Ok((
            r.get::<_, Uuid>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<i64>>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (entry, reference, issued, due, amount, remaining, reached) = row?;
        Ok(DueInvoice {
            entry,
            reference,
            issued_on: date_of(&issued)?,
            due_on: date_of(&due)?,
            amount: Money::from_minor(amount),
            remaining: Money::from_minor(remaining),
            reached: reached.map(|l| l as usize),
        })
    })
    .collect()
}

fn facts(conn: &Connection, customer_id: i64, horizon: NaiveDate) -> Result<Facts> {
    let customer = customer_by_id(conn, customer_id)?;
    let invoices = due_invoices(conn, customer_id, horizon)?;
    let last_contact: Option<String> = conn
        .prepare_cached("SELECT max(created_on) FROM reminders WHERE customer_id = ?1 AND state != 'cancelled'")?
        .query_row([customer_id], |r| r.get(0))?;
    /// A customer's own dunning settings row: ladder, excluded, hold until, hold reason.
    type Settings = (Option<String>, bool, Option<String>, Option<String>);
    let row: Option<Settings> = conn
        .prepare_cached(
            "SELECT ladder, excluded, hold_until, hold_reason FROM dunning_customers WHERE customer_id = ?1",
        )?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let (ladder, excluded, hold_until, hold_reason) = row.unwrap_or((None, false, None, None));
    let hold = match hold_reason {
        Some(reason) => Some((hold_until.as_deref().map(date_of).transpose()?, reason)),
        None => None,
    };
    Ok(Facts {
        customer,
        invoices,
        last_contact: last_contact.as_deref().map(date_of).transpose()?,
        ladder,
        excluded,
        hold,
    })
}

/// Money received since an order key: payments, deposits used, credits (less reversals of them).
pub(in crate::store) fn paid_since(conn: &Connection, customer_id: i64, key: &str) -> Result<Money> {
    let minor: i64 = conn
        .prepare_cached(
            "SELECT coalesce(-sum(balance_effect), 0) FROM entries
             WHERE customer_id = ?1 AND order_key > ?2 AND balance_effect != 0
               AND (kind IN ('payment', 'deposit_applied', 'credit_note', 'write_off')
                    OR (kind = 'reversal' AND balance_effect > 0
                        AND (SELECT kind FROM entries o WHERE o.uuid = entries.reverses) IN ('payment', 'deposit_applied')))",
        )?
        .query_row(params![customer_id, key], |r| r.get(0))?;
    Ok(Money::from_minor(minor))
}

pub(in crate::store) fn followup(
    tx: &Transaction<'_>,
    customer_id: i64,
    kind: &str,
    text: &str,
    amount: Option<Money>,
    author: &str,
    now: Now,
) -> Result<()> {
    let id = crate::store::new_id(now);
    tx.prepare_cached(
        "INSERT INTO followups (uuid, customer_id, kind, date, at, author, text, amount) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![id, customer_id, kind, now.date_naive().to_string(), ms(now), author, text, amount.map(Money::minor)])?;
    replica::emit(tx, Table::Followups, Key::Rowid(tx.last_insert_rowid()), now)
}

/// Settles promises and plans whose dates have come, and says whether one pauses the ladder.
fn pause_for(
    tx: &Transaction<'_>,
    facts: &Facts,
    customer_id: i64,
    today: NaiveDate,
    report: &mut RunReport,
    now: Now,
) -> Result<Option<Skip>> {
    if facts.excluded {
        return Ok(Some(Skip::Excluded));
    }
    if let Some((until, _)) = &facts.hold {
        if until.is_none_or(|u| u >= today) {
            return Ok(Some(Skip::OnHold));
        }
    }
    let mut pause = None;
    let promises: Vec<(i64, String, i64, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, promised_on, amount, created_key FROM promises WHERE customer_id = ?1 AND state = 'open'",
        )?;
        let rows = stmt.query_map([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, on, amount, key) in promises {
        let on = date_of(&on)?;
        let paid = paid_since(tx, customer_id, &key)?;
        if paid >= Money::from_minor(amount) {
            tx.prepare_cached("UPDATE promises SET state = 'kept' WHERE id = ?1")?.execute([id])?;
            followup(
                tx,
                customer_id,
                "promise_kept",
                &format!("promise of {} EUR for {on} kept", Money::from_minor(amount)),
                None,
                "ardoise",
                now,
            )?;
        } else if on < today {
            tx.prepare_cached("UPDATE promises SET state = 'broken' WHERE id = ?1")?.execute([id])?;
            followup(
                tx,
                customer_id,
                "promise_broken",
                &format!("promise of {} EUR for {on} not kept ({paid} EUR paid)", Money::from_minor(amount)),
                None,
                "ardoise",
                now,
            )?;
            report.promises_broken += 1;
        } else {
            pause = Some(Skip::Promise);
        }
    }
    let plans: Vec<(i64, String, u32, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, instalments, grace_days, created_key FROM plans WHERE customer_id = ?1 AND state = 'active'",
        )?;
        let rows = stmt.query_map([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, instalments, grace, key) in plans {
        let instalments: Vec<Instalment> = serde_json::from_str(&instalments)?;
        let paid = paid_since(tx, customer_id, &key)?;
        match plan::status(&instalments, paid, grace, today) {
            PlanStatus::Active { .. } => pause = pause.or(Some(Skip::Plan)),
            PlanStatus::Completed => {
                tx.prepare_cached("UPDATE plans SET state = 'completed' WHERE id = ?1")?.execute([id])?;
                followup(tx, customer_id, "plan_completed", "payment plan completed", None, "ardoise", now)?;
            }
            PlanStatus::Broken { missed_due, missing } => {
                tx.prepare_cached("UPDATE plans SET state = 'broken' WHERE id = ?1")?.execute([id])?;
                let text = format!("payment plan broken: instalment of {missed_due} missed, {missing} EUR behind");
                followup(tx, customer_id, "plan_broken", &text, Some(missing), "ardoise", now)?;
                report.plans_broken += 1;
            }
        }
    }
    Ok(pause)
}

/// The rendered content of a reminder.
struct Rendered {
    subject: String,
    body: String,
    amount_due: Money,
    penalties: Money,
    indemnity: Money,
    recipient: Option<String>,
}

fn channel_name(channel: &str, lang: Language) -> &str {
    match (lang, channel) {
        (Language::Fr, "email") => "courriel",
        (Language::Fr, "sms") => "SMS",
        (Language::Fr, "letter") => "courrier",
        (Language::Fr, "phone_call") => "appel téléphonique",
        (Language::Fr, "till") => "à la caisse",
        (Language::Fr, "document") => "dossier",
        (Language::En, "phone_call") => "phone call",
        (Language::En, "till") => "at the till",
        (_, other) => other,
    }
}

fn fmt_money(m: Money, lang: Language) -> String {
    match lang {
        Language::Fr => m.to_string().replace('.', ","),
        Language::En => m.to_string(),
    }
}

/// Penalties on the invoices as the law allows today: business debtors from the due date,
/// consumers from the formal notice (if one was sent).
#[allow(clippy::too_many_arguments)]
fn penalties(
    conn: &Connection,
    customer_id: i64,
    kind: CustomerKind,
    lang: Language,
    invoices: &[DueInvoice],
    today: NaiveDate,
    notice_on: Option<NaiveDate>,
    config: &Config,
) -> Result<(Money, Money, Vec<String>)> {
    let (mut interest, mut indemnity, mut lines) = (Money::ZERO, Money::ZERO, Vec::new());
    for inv in invoices.iter().filter(|i| i.due_on < today) {
        let mut stmt = conn.prepare_cached(
            "SELECT e.business_date, sum(a.amount) FROM allocations a JOIN entries e ON e.uuid = a.source
             WHERE a.item = ?1 AND a.customer_id = ?2 GROUP BY e.business_date",
        )?;
        let payments = stmt
            .query_map(params![inv.entry, customer_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .map(|row| {
                let (d, m) = row?;
                Ok((date_of(&d)?, Money::from_minor(m)))
            })
            .collect::<Result<Vec<_>>>()?;
        let req = PenaltyRequest {
            amount: inv.amount,
            due_on: inv.due_on,
            until: today,
            debtor: kind,
            notice_on,
            payments,
            contract_rate_pct: config.shop.dunning.contract_rate_pct,
        };
        let p = penalty::compute(&req, &config.rates)?;
        for period in &p.periods {
            let (base, interest) = (fmt_money(period.base, lang), fmt_money(period.interest, lang));
            lines.push(match lang {
                Language::Fr => format!(
                    "{} : du {} au {} ({} jours) sur {base} EUR à {} % = {interest} EUR",
                    inv.reference,
                    period.from,
                    period.to,
                    period.days,
                    period.rate_pct.to_string().replace('.', ",")
                ),
                Language::En => format!(
                    "{}: {} to {} ({} days) on {base} EUR at {} % = {interest} EUR",
                    inv.reference, period.from, period.to, period.days, period.rate_pct
                ),
            });
        }
        for note in p.notes {
            if !lines.contains(&note) {
                lines.push(note);
            }
        }
        interest += p.interest;
        indemnity += p.indemnity;
    }
    Ok((interest, indemnity, lines))
}

#[allow(clippy::too_many_arguments)]
fn render(
    conn: &Connection,
    config: &Config,
    customer_id: i64,
    customer: &Customer,
    ladder: &Ladder,
    level: usize,
    channel: Channel,
    invoices: &[DueInvoice],
    today: NaiveDate,
) -> Result<Rendered> {
    let step = &ladder.steps[level];
    let lang = customer.language;
    let tpl = config
        .template(&step.template, lang)
        .ok_or_else(|| Error::Invalid { field: "template", reason: format!("no template {:?}", step.template) })?;
    let amount_due: Money = invoices.iter().map(|i| i.remaining).sum();
    let oldest = invoices.iter().map(|i| i.due_on).min().unwrap_or(today);
    // Consumers owe interest from the formal notice: the first one sent or queued.
    let notice_on: Option<String> = conn
        .prepare_cached(
            "SELECT min(created_on) FROM reminders WHERE customer_id = ?1 AND kind = 'formal_notice' AND state != 'cancelled'",
        )?
        .query_row([customer_id], |r| r.get(0))?;
    let notice_on = notice_on.as_deref().map(date_of).transpose()?;
    let (interest, indemnity, details) =
        penalties(conn, customer_id, customer.kind, lang, invoices, today, notice_on, config)?;
    let history: Vec<String> = {
        let mut stmt = conn.prepare_cached(
            "SELECT created_on, step, channel FROM reminders WHERE customer_id = ?1 AND state != 'cancelled' ORDER BY created_at",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            let channel: String = r.get(2)?;
            Ok(format!("- {} : {} ({})", r.get::<_, String>(0)?, r.get::<_, String>(1)?, channel_name(&channel, lang)))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let shop = &config.shop;
    let mut v: BTreeMap<&str, String> = BTreeMap::new();
    v.insert("customer_name", customer.name.clone());
    v.insert("customer_ref", customer.reference.clone());
    v.insert("customer_address", customer.address.clone().unwrap_or_default());
    v.insert("amount_due", fmt_money(amount_due, lang));
    v.insert("invoice_count", invoices.len().to_string());
    let list: Vec<String> = invoices
        .iter()
        .map(|i| match lang {
            Language::Fr => format!(
                "- facture {} du {}, échue le {} : {} EUR restant sur {} EUR",
                i.reference,
                i.issued_on,
                i.due_on,
                fmt_money(i.remaining, lang),
                fmt_money(i.amount, lang)
            ),
            Language::En => format!(
                "- invoice {} of {}, due {}: {} EUR left of {} EUR",
                i.reference,
                i.issued_on,
                i.due_on,
                fmt_money(i.remaining, lang),
                fmt_money(i.amount, lang)
            ),
        })
        .collect();
    v.insert("invoice_list", list.join("\n"));
    v.insert("oldest_due_date", oldest.to_string());
    v.insert("days_late", (today - oldest).num_days().max(0).to_string());
    // A formal notice claims penalties too: its link asks for what the letter asks for.
    let claimed = match step.kind {
        StepKind::Reminder => amount_due,
        StepKind::FormalNotice | StepKind::CourtFile => amount_due + interest + indemnity,
    };
    let link = shop
        .payment_url
        .as_ref()
        .map(|u| u.replace("{customer_ref}", &customer.reference).replace("{amount}", &claimed.to_string()));
    let link = link.unwrap_or_else(|| match lang {
        Language::Fr => "à la boutique".into(),
        Language::En => "at the shop".into(),
    });
    v.insert("payment_link", link);
    v.insert(
        "plan_offer",
        match lang {
            Language::Fr => format!(
                "Si cela vous aide, nous pouvons convenir d'un paiement en plusieurs fois : appelez-nous au {}.",
                shop.shop_phone
            ),
            Language::En => format!("If it helps, we can agree on a payment plan: call us on {}.", shop.shop_phone),
        },
    );
    v.insert("penalties", fmt_money(interest, lang));
    v.insert("indemnity", fmt_money(indemnity, lang));
    v.insert("total_with_penalties", fmt_money(amount_due + interest + indemnity, lang));
    let no_penalty = match lang {
        Language::Fr => "Aucune pénalité de retard à ce jour.".to_owned(),
        Language::En => "No late-payment interest so far.".to_owned(),
    };
    v.insert("penalty_details", if details.is_empty() { no_penalty } else { details.join("\n") });
    let none = match lang {
        Language::Fr => "- aucune relance précédente".to_owned(),
        Language::En => "- no earlier reminder".to_owned(),
    };
    v.insert("reminder_history", if history.is_empty() { none } else { history.join("\n") });
    v.insert("shop_name", shop.shop_name.clone());
    v.insert("shop_phone", shop.shop_phone.clone());
    v.insert("shop_email", shop.shop_email.clone());
    v.insert("shop_address", shop.shop_address.clone());
    v.insert("today", today.to_string());
    let subject = Template::fill(&tpl.subject, &v)?;
    let body = Template::fill(if channel == Channel::Sms && !tpl.sms.is_empty() { &tpl.sms } else { &tpl.body }, &v)?;
    let recipient = match channel {
        Channel::Email => customer.email.clone(),
        Channel::Sms | Channel::PhoneCall => customer.phone.clone(),
        Channel::Letter => customer.address.clone(),
        Channel::Till | Channel::Document => None,
    };
    Ok(Rendered { subject, body, amount_due, penalties: interest, indemnity, recipient })
}

fn reminder_event(conn: &Connection, id: i64) -> Result<ReminderRecord> {
    let mut stmt = conn.prepare_cached(&format!("{REMINDER_SELECT} WHERE r.id = ?1"))?;
    let rec = stmt.query_row([id], reminder_from_row)??;
    Ok(rec)
}

const REMINDER_SELECT: &str =
    "SELECT r.id, r.uuid, c.reference, c.name, r.level, r.step, r.kind, r.channel, r.recipient, r.language,
    r.state, r.state_note, r.created_on, r.not_before, r.subject, r.body, r.amount_due, r.penalties, r.indemnity,
    (SELECT json_group_array(i.reference ORDER BY i.due_on, i.reference) FROM reminder_invoices ri
      JOIN items i ON i.entry_uuid = ri.invoice WHERE ri.reminder_id = r.id)
    FROM reminders r JOIN customers c ON c.id = r.customer_id";

fn reminder_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ReminderRecord>> {
    let kind: String = r.get(6)?;
    let channel: String = r.get(7)?;
    let lang: String = r.get(9)?;
    let state: String = r.get(10)?;
    let created: String = r.get(12)?;
    let not_before: String = r.get(13)?;
    let invoices: Option<String> = r.get(19)?;
    let (id, customer_ref, customer_name, level): (Uuid, String, String, i64) =
        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    let (step, recipient, state_note, subject, body): (String, Option<String>, Option<String>, String, String) =
        (r.get(5)?, r.get(8)?, r.get(11)?, r.get(14)?, r.get(15)?);
    let (amount_due, penalties, indemnity): (i64, i64, i64) = (r.get(16)?, r.get(17)?, r.get(18)?);
    Ok((|| {
        Ok(ReminderRecord {
            id,
            customer_ref,
            customer_name,
            level: level as usize,
            step,
            kind: serde_json::from_value(serde_json::Value::String(kind))?,
            channel: Channel::parse(&channel)?,
            recipient,
            language: Language::parse(&lang)?,
            state: ReminderState::parse(&state)?,
            state_note,
            created_on: date_of(&created)?,
            not_before: DateTime::parse_from_rfc3339(&not_before)
                .map_err(|_| Error::Corrupt(format!("bad time {not_before}")))?,
            subject,
            body,
            amount_due: Money::from_minor(amount_due),
            penalties: Money::from_minor(penalties),
            indemnity: Money::from_minor(indemnity),
            invoices: invoices.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_default(),
        })
    })())
}

fn kind_str(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Reminder => "reminder",
        StepKind::FormalNotice => "formal_notice",
        StepKind::CourtFile => "court_file",
    }
}

fn write_invoices(
    tx: &Transaction<'_>,
    reminder: i64,
    ladder: &Ladder,
    level: usize,
    invoices: &[DueInvoice],
    today: NaiveDate,
) -> Result<()> {
    tx.prepare_cached("DELETE FROM reminder_invoices WHERE reminder_id = ?1")?.execute([reminder])?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO reminder_invoices (reminder_id, invoice, level, remaining) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for inv in invoices {
        // An invoice is chased at its own level: a younger invoice named in a formal notice
        // has still only had its first reminder.
        let own = ladder.level_for((today - inv.due_on).num_days()).unwrap_or(0).min(level);
        ins.execute(params![reminder, inv.entry, own as i64, inv.remaining.minor()])?;
    }
    Ok(())
}

/// Queues one reminder (and the fees the step or the law adds), with its outbox row.
#[allow(clippy::too_many_arguments)]
fn queue(
    tx: &Transaction<'_>,
    config: &Config,
    customer_id: i64,
    f: &Facts,
    ladder: &Ladder,
    level: usize,
    channel: Channel,
    not_before: DateTime<FixedOffset>,
    now: Now,
) -> Result<ReminderRecord> {
    let today = now.date_naive();
    let step = &ladder.steps[level];
    let rendered = render(tx, config, customer_id, &f.customer, ladder, level, channel, &f.invoices, today)?;
    // Fees first: charging them refreshes the customer's other queued reminders, not this one.
    if let Some(fee) = step.fee {
        crate::store::till::ledger::charge(tx, customer_id, fee, &format!("frais : {}", step.name), now)?;
    }
    let fees_on = match f.customer.kind {
        CustomerKind::Business => config.shop.dunning.penalty_fees_business,
        CustomerKind::Consumer => config.shop.dunning.penalty_fees_consumer,
    };
    if step.kind == StepKind::FormalNotice && fees_on {
        if rendered.indemnity.is_positive() {
            crate::store::till::ledger::charge(
                tx,
                customer_id,
                rendered.indemnity,
                "indemnité forfaitaire de recouvrement (D441-5)",
                now,
            )?;
        }
        if rendered.penalties.is_positive() {
            crate::store::till::ledger::charge(
                tx,
                customer_id,
                rendered.penalties,
                "pénalités de retard (L441-10)",
                now,
            )?;
        }
    }
    let id = crate::store::new_id(now);
    tx.prepare_cached(
        "INSERT INTO reminders (uuid, customer_id, level, step, kind, channel, recipient, language, state, created_on,
         created_at, not_before, updated_at, subject, body, amount_due, penalties, indemnity, state_note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?10, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        id,
        customer_id,
        level as i64,
        step.name,
        kind_str(step.kind),
        channel.as_str(),
        rendered.recipient,
        f.customer.language.as_str(),
        today.to_string(),
        ms(now),
        not_before.to_rfc3339(),
        rendered.subject,
        rendered.body,
        rendered.amount_due.minor(),
        rendered.penalties.minor(),
        rendered.indemnity.minor(),
        missing_recipient(channel, rendered.recipient.as_deref())
    ])?;
    let row = tx.last_insert_rowid();
    write_invoices(tx, row, ladder, level, &f.invoices, today)?;
    let rec = reminder_event(tx, row)?;
    replica::emit(tx, Table::Reminders, Key::Rowid(row), now)?;
    Ok(rec)
}

/// Says what the shop must add before the back office can send it.
fn missing_recipient(channel: Channel, recipient: Option<&str>) -> Option<&'static str> {
    match channel {
        Channel::Letter if recipient.is_none() => {
            Some("no postal address: add the customer's address before the letter can go")
        }
        Channel::Email if recipient.is_none() => Some("no email address"),
        Channel::Sms | Channel::PhoneCall if recipient.is_none() => Some("no phone number"),
        _ => None,
    }
}

/// After any write to a customer's account: their reminders not yet sent are cancelled when
/// nothing is overdue any more, or rewritten with what is overdue now.
pub(in crate::store) fn refresh_queued(tx: &Transaction<'_>, customer_id: i64, now: Now) -> Result<()> {
    let queued: Vec<(i64, i64, String)> = {
        let mut stmt =
            tx.prepare_cached("SELECT id, level, channel FROM reminders WHERE customer_id = ?1 AND state = 'queued'")?;
        let rows = stmt.query_map([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if queued.is_empty() {
        return Ok(());
    }
    let today = now.date_naive();
    let config = Config::load(tx)?;
    let f = facts(tx, customer_id, today)?;
    let ladder = config.ladder(f.ladder.as_deref());
    for (id, level, channel) in queued {
        let level = (level as usize).min(ladder.steps.len() - 1);
        if f.invoices.is_empty() {
            tx.prepare_cached(
                "UPDATE reminders SET state = 'cancelled', state_note = ?2, updated_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, "nothing overdue any more (paid, credited or disputed)", ms(now)])?;
        } else {
            let r = render(
                tx,
                &config,
                customer_id,
                &f.customer,
                ladder,
                level,
                Channel::parse(&channel)?,
                &f.invoices,
                today,
            )?;
            tx.prepare_cached(
                "UPDATE reminders SET subject = ?2, body = ?3, amount_due = ?4, penalties = ?5, indemnity = ?6, updated_at = ?7
                 WHERE id = ?1",
            )?
            .execute(params![id, r.subject, r.body, r.amount_due.minor(), r.penalties.minor(), r.indemnity.minor(), ms(now)])?;
            write_invoices(tx, id, ladder, level, &f.invoices, today)?;
        }
        replica::emit(tx, Table::Reminders, Key::Rowid(id), now)?;
    }
    Ok(())
}

impl Store {
    /// The daily run: for every customer with something due, queues at most one reminder at
    /// the level of their most overdue invoice, unless paused. Idempotent within a day; one
    /// transaction.
    pub fn run_dunning(&mut self, now: Now) -> Result<RunReport> {
        let today = now.date_naive();
        let tx = self.conn.transaction()?;
        let config = Config::load(&tx)?;
        let horizon = today.checked_add_days(Days::new(config.lookahead())).unwrap_or(today);
        let candidates: Vec<i64> = {
            let mut stmt =
                tx.prepare_cached("SELECT customer_id FROM accounts WHERE oldest_due IS NOT NULL AND oldest_due < ?1")?;
            let rows = stmt.query_map([horizon.to_string()], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut report = RunReport { as_of: Some(today), ..Default::default() };
        for customer_id in candidates {
            report.customers_checked += 1;
            let f = facts(&tx, customer_id, horizon)?;
            let pause = pause_for(&tx, &f, customer_id, today, &mut report, now)?;
            let ladder = config.ladder(f.ladder.as_deref());
            let c = &f.customer;
            let contact = Contact {
                email: c.email.clone(),
                phone: c.phone.clone(),
                address: c.address.clone(),
                consent_email: c.consent_email,
                consent_sms: c.consent_sms,
                kind: c.kind,
            };
            match run::decide(ladder, &config.shop.dunning, &contact, &f.invoices, f.last_contact, pause, now) {
                Outcome::Skip(why) => *report.skipped.entry(why).or_insert(0) += 1,
                Outcome::Queue { level, channel, not_before } => {
                    // One customer's template problem must not stop everyone else's reminders;
                    // `queue` renders before it writes anything, so such an error left no trace.
                    match queue(&tx, &config, customer_id, &f, ladder, level, channel, not_before, now) {
                        Ok(rec) => report.queued.push(rec),
                        Err(e @ (Error::Invalid { .. } | Error::NotPositive { .. })) => {
                            report.errors.push(format!("{}: {e}", f.customer.reference));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// One reminder by id.
    pub fn reminder(&self, id: Uuid) -> Result<ReminderRecord> {
        let row: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM reminders WHERE uuid = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let row = row.ok_or_else(|| Error::NotFound { what: "reminder", id: id.to_string() })?;
        reminder_event(&self.conn, row)
    }

    /// The names of the shop's ladders ("default" first).
    pub fn ladder_names(&self) -> Result<Vec<String>> {
        let config = Config::load(&self.conn)?;
        let mut names: Vec<String> = config.ladders.into_keys().collect();
        names.sort_by_key(|n| (n != "default", n.clone()));
        Ok(names)
    }

    /// Reminders, newest first; `state` and `customer` narrow the list.
    pub fn reminders(
        &self,
        state: Option<ReminderState>,
        customer: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReminderRecord>> {
        if let Some(c) = customer {
            self.customer_row(c)?;
        }
        let sql = format!(
            "{REMINDER_SELECT} WHERE (?1 IS NULL OR r.state = ?1) AND (?2 IS NULL OR c.reference = ?2)
             ORDER BY r.created_at DESC, r.id DESC LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![state.map(ReminderState::as_str), customer, limit], reminder_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// Records what became of a queued reminder (sent, failed, or cancelled by hand).
    /// Just before the back office sends a queued reminder: rewrites it from the merged
    /// account as it stands now (cancelled when nothing is overdue any more, for instance
    /// because another till took a payment), and cancels it when another reminder already
    /// reached the customer within the shop's minimum gap. Returns it as it now is.
    pub fn recheck_reminder(&mut self, id: Uuid, now: Now) -> Result<ReminderRecord> {
        let min_gap = i64::from(self.settings.dunning.min_gap_days);
        let tx = self.conn.transaction()?;
        let (row, customer_id): (i64, i64) = tx
            .prepare_cached("SELECT id, customer_id FROM reminders WHERE uuid = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| Error::NotFound { what: "reminder", id: id.to_string() })?;
        refresh_queued(&tx, customer_id, now)?;
        let since = ms(now) - min_gap * 86_400_000;
        let other_sent: Option<String> = tx
            .prepare_cached(
                "SELECT created_on FROM reminders WHERE customer_id = ?1 AND id != ?2 AND state = 'sent' AND updated_at > ?3
                 ORDER BY updated_at DESC LIMIT 1",
            )?
            .query_row(params![customer_id, row, since], |r| r.get(0))
            .optional()?;
        let state: String =
            tx.prepare_cached("SELECT state FROM reminders WHERE id = ?1")?.query_row([row], |r| r.get(0))?;
        if let (Some(on), "queued") = (other_sent, state.as_str()) {
            tx.prepare_cached(
                "UPDATE reminders SET state = 'cancelled', state_note = ?2, updated_at = ?3 WHERE id = ?1",
            )?
            .execute(params![
                row,
                format!("another reminder (queued {on}) was sent within the minimum gap"),
                ms(now)
            ])?;
            replica::emit(&tx, Table::Reminders, Key::Rowid(row), now)?;
        }
        let rec = reminder_event(&tx, row)?;
        tx.commit()?;
        Ok(rec)
    }

    /// When a reminder was queued (the back office's grace period counts from it).
    pub fn reminder_created_at(&self, id: Uuid) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let at: Option<i64> = self
            .conn
            .prepare_cached("SELECT created_at FROM reminders WHERE uuid = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(at.and_then(chrono::DateTime::from_timestamp_millis))
    }

    pub fn set_reminder_state(
        &mut self,
        id: Uuid,
        state: ReminderState,
        note: Option<&str>,
        now: Now,
    ) -> Result<ReminderRecord> {
        let tx = self.conn.transaction()?;
        let row: Option<(i64, String)> = tx
            .prepare_cached("SELECT id, state FROM reminders WHERE uuid = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (row, current) = row.ok_or_else(|| Error::NotFound { what: "reminder", id: id.to_string() })?;
        let allowed = matches!(
            (current.as_str(), state),
            ("queued", _) | ("failed", ReminderState::Sent | ReminderState::Cancelled)
        );
        if !allowed || state == ReminderState::Queued {
            return Err(Error::Invalid {
                field: "reminder state",
                reason: format!("a {current} reminder cannot become {}", state.as_str()),
            });
        }
        tx.prepare_cached("UPDATE reminders SET state = ?2, state_note = ?3, updated_at = ?4 WHERE id = ?1")?
            .execute(params![row, state.as_str(), note, ms(now)])?;
        let rec = reminder_event(&tx, row)?;
        replica::emit(&tx, Table::Reminders, Key::Rowid(row), now)?;
        tx.commit()?;
        Ok(rec)
    }

    /// The ladder by name ("default" unless the shop made others).
    pub fn ladder(&self, name: &str) -> Result<Ladder> {
        let config = Config::load(&self.conn)?;
        config.ladders.get(name).cloned().ok_or_else(|| Error::NotFound { what: "ladder", id: name.to_owned() })
    }

    pub fn set_ladder(&mut self, ladder: Ladder, now: Now) -> Result<()> {
        let config = Config::load(&self.conn)?;
        ladder.validate(|t| config.templates.keys().any(|(n, _)| n == t))?;
        self.put_setting(&format!("ladder:{}", ladder.name), &ladder, now)
    }

    pub fn templates(&self) -> Result<Vec<Template>> {
        let config = Config::load(&self.conn)?;
        let mut all: Vec<Template> = config.templates.into_values().collect();
        all.sort_by(|a, b| (&a.name, a.language).cmp(&(&b.name, b.language)));
        Ok(all)
    }

    /// Saves a template; an unknown placeholder is refused here, not when a reminder is sent.
    pub fn set_template(&mut self, template: Template, now: Now) -> Result<()> {
        template.validate()?;
        let key = format!("template:{}:{}", template.name, template.language.as_str());
        self.put_setting(&key, &template, now)
    }

    pub fn rate_tables(&self) -> Result<RateTables> {
        Ok(Config::load(&self.conn)?.rates)
    }

    /// Replaces the penalty rate tables (CSV as in `shared/reference/`), without a release.
    pub fn set_rate_tables(&mut self, ecb_csv: &str, legal_csv: &str, now: Now) -> Result<RateTables> {
        let rates = RateTables::parse(ecb_csv, legal_csv)?;
        self.put_setting("rates", &rates, now)?;
        Ok(rates)
    }

    fn put_setting(&mut self, key: &str, value: &impl Serialize, now: Now) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, serde_json::to_string(value)?],
        )?;
        replica::emit(&tx, Table::Settings, Key::Text(key.to_owned()), now)?;
        tx.commit()?;
        Ok(())
    }
}
