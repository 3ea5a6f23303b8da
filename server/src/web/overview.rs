//! The owner's first pages: the overview (receivables, overdue, aging buckets that open the
//! overdue list filtered, countback DSO and its 12-month trend, collected this month) and the
//! overdue list (sorted by amount, age or risk, searched by name), all from core's reports on
//! the merged ledger.

use ardoise_core::bank::LineState;
use ardoise_core::report::aging::Buckets;
use ardoise_core::store::{OverdueAccount, OverdueSort};
use ardoise_core::{Money, search};
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, now, render, seg};
use crate::state::AppState;

/// The months the KPIs cover, as `ardoise report kpis` does by default: the page and a till's
/// report agree.
pub(crate) const KPI_MONTHS: u32 = 3;

pub(crate) struct Bucket {
    pub label: &'static str,
    pub key: &'static str,
    pub amount: String,
}

#[derive(askama::Template)]
#[template(path = "overview.html")]
struct OverviewPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    shop: String,
    receivables: String,
    overdue: String,
    collected: String,
    dso: String,
    buckets: Vec<Bucket>,
    trend: String,
    trend_first: String,
    trend_last: String,
    debtors: Vec<Row>,
    bank_to_confirm: usize,
    open_disputes: usize,
}

/// The last day of `d`'s month, or `d` itself for the month in progress.
fn month_end(today: NaiveDate, back: u32) -> NaiveDate {
    let first = today.with_day(1).unwrap_or(today);
    let target = first.checked_sub_months(chrono::Months::new(back)).unwrap_or(first);
    if back == 0 {
        return today;
    }
    target.checked_add_months(chrono::Months::new(1)).and_then(|n| n.pred_opt()).unwrap_or(target)
}

pub(crate) fn buckets(w: &'static Words, b: &Buckets) -> Vec<Bucket> {
    vec![
        Bucket { label: w.current, key: "current", amount: euros(b.current) },
        Bucket { label: w.d1_30, key: "1_30", amount: euros(b.d1_30) },
        Bucket { label: w.d31_60, key: "31_60", amount: euros(b.d31_60) },
        Bucket { label: w.d61_90, key: "61_90", amount: euros(b.d61_90) },
        Bucket { label: w.d91_plus, key: "91_plus", amount: euros(b.d91_plus) },
    ]
}

pub(crate) async fn overview(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let now = now();
    let today = now.date_naive();
    let (dash, ends, shop, todo) = d
        .read_merged_cached(owner.shop(), "overview", now, move |s| {
            let ends: Vec<NaiveDate> = (0..12).rev().map(|back| month_end(today, back)).collect();
            let dash = s.dashboard(today, KPI_MONTHS, &ends, 5)?;
            // What waits for the owner: bank lines to confirm, disputes to settle.
            let bank = s.bank_lines(Some(LineState::Suggested), 1000, 0)?.len()
                + s.bank_lines(Some(LineState::Unmatched), 1000, 0)?.iter().filter(|l| l.amount.is_positive()).count();
            let disputes = s.disputes(None)?.iter().filter(|d| d.state == "open").count();
            Ok((dash, ends, s.settings().shop_name.clone(), (bank, disputes)))
        })
        .await
        .map_err(|e| WebError::of(w, e))?;
    let (kpis, month, debtors) = (dash.kpis, dash.month, dash.debtors);
    let trend: Vec<(NaiveDate, Option<f64>)> = ends.into_iter().zip(dash.trend).collect();
    // Collected in the month: what was owed at its start plus what was sold on account, less
    // what is owed now (the collection-effectiveness index counts the same way).
    let collected = month.receivables_start + month.credit_sales - month.receivables;
    let values: Vec<Option<f64>> = trend.iter().map(|t| t.1).collect();
    // The name the owner gave the shop at the till, else the one it was created with here.
    let shop =
        if shop.is_empty() { state.db.shop(owner.shop()).await.map_err(|e| WebError::of(w, e))?.name } else { shop };
    Ok(render(&OverviewPage {
        w,
        csrf: &owner.csrf,
        active: "overview",
        shop,
        receivables: euros(dash.receivables),
        overdue: euros(dash.buckets.overdue()),
        collected: euros(collected.max(Money::ZERO)),
        dso: fmt::days(w, kpis.dso_countback),
        buckets: buckets(w, &dash.buckets),
        trend: fmt::trend_points(&values),
        trend_first: trend.first().map(|t| fmt::date(w, t.0)).unwrap_or_default(),
        trend_last: trend.last().map(|t| fmt::date(w, t.0)).unwrap_or_default(),
        debtors: debtors.into_iter().map(row).collect(),
        bank_to_confirm: todo.0,
        open_disputes: todo.1,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct OverdueQuery {
    #[serde(default)]
    sort: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    bucket: String,
}

pub(crate) struct Row {
    pub href: String,
    pub name: String,
    pub reference: String,
    pub overdue: String,
    pub owed: String,
    pub oldest: i64,
    pub risk: String,
}

#[derive(askama::Template)]
#[template(path = "overdue.html")]
struct OverduePage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    sort: String,
    q: String,
    bucket: String,
    rows: Vec<Row>,
}

fn row(a: OverdueAccount) -> Row {
    Row {
        href: format!("/app/customers/{}", seg(&a.customer_ref)),
        name: a.name,
        reference: a.customer_ref,
        overdue: euros(a.overdue),
        owed: euros(a.owed),
        oldest: a.oldest_days,
        risk: fmt::pct(a.risk),
    }
}

fn in_bucket(b: &Buckets, key: &str) -> bool {
    match key {
        "1_30" => b.d1_30.is_positive(),
        "31_60" => b.d31_60.is_positive(),
        "61_90" => b.d61_90.is_positive(),
        "91_plus" => b.d91_plus.is_positive(),
        _ => true,
    }
}

pub(crate) async fn overdue(
    State(state): State<AppState>,
    owner: Owner,
    Query(query): Query<OverdueQuery>,
) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let sort = match query.sort.as_str() {
        "age" => OverdueSort::Age,
        "risk" => OverdueSort::Risk,
        _ => OverdueSort::Amount,
    };
    let q = super::page::field(w, &query.q, 100)?;
    let now = now();
    let today = now.date_naive();
    let list = d
        .read_merged_cached(owner.shop(), overdue_name(sort), now, move |s| s.overdue_accounts(today, sort, 10_000))
        .await
        .map_err(|e| WebError::of(w, e))?;
    // Names are matched folded (case and accents), as the till's search does.
    let wanted = search::fold(&q);
    let rows = list
        .into_iter()
        .filter(|a| in_bucket(&a.buckets, &query.bucket))
        .filter(|a| wanted.is_empty() || search::fold(&a.name).contains(&wanted) || a.customer_ref.contains(q.as_str()))
        .take(500)
        .map(row)
        .collect();
    let sort = match sort {
        OverdueSort::Age => "age",
        OverdueSort::Risk => "risk",
        OverdueSort::Amount => "amount",
    };
    Ok(render(&OverduePage {
        w,
        csrf: &owner.csrf,
        active: "overdue",
        sort: sort.to_owned(),
        q,
        bucket: query.bucket.clone(),
        rows,
    }))
}

/// The name the overdue list sorted this way is kept under (one answer per order).
fn overdue_name(sort: OverdueSort) -> &'static str {
    match sort {
        OverdueSort::Amount => "overdue:amount",
        OverdueSort::Age => "overdue:age",
        OverdueSort::Risk => "overdue:risk",
    }
}
