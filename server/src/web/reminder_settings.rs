//! The reminder settings on the settings page: the shop's default ladder (each step's name,
//! delay, channel, template and fee; a step removed), the reminder templates (subject, body,
//! SMS, per language) and the penalty rate tables (ECB and legal interest, as CSV with how far
//! they were checked). Each is saved by the core (`Store::set_ladder`, `set_template`,
//! `set_rate_tables`), which checks it whole and refuses it without writing; on the merged
//! copy, so every till runs the same ladder.

use ardoise_core::dunning::ladder::{Channel, Ladder, StepKind};
use ardoise_core::dunning::penalty::RateTables;
use ardoise_core::dunning::template::{Language, Template};
use ardoise_core::store::Store;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::Owner;
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, money, now};
use crate::state::AppState;

/// The ladder the page edits: the one every customer without another follows.
const LADDER: &str = "default";

pub(crate) struct StepView {
    pub name: String,
    pub offset: i32,
    pub channel: &'static str,
    pub template: String,
    pub fee: String,
    pub kind: &'static str,
}

pub(crate) struct LadderView {
    pub steps: Vec<StepView>,
    pub templates: Vec<String>,
}

pub(crate) struct TemplateView {
    pub name: String,
    pub language: &'static str,
    pub subject: String,
    pub body: String,
    pub sms: String,
}

pub(crate) struct RatesView {
    pub ecb_checked: String,
    pub legal_checked: String,
    /// (since, rate in percent)
    pub ecb: Vec<(String, String)>,
    /// (year and half, rate in percent)
    pub legal: Vec<(String, String)>,
    pub ecb_csv: String,
    pub legal_csv: String,
}

/// The channels a step may use, as the form's options name them.
pub(crate) const CHANNELS: [&str; 6] = ["email", "sms", "letter", "phone_call", "till", "document"];

fn kind(k: StepKind) -> &'static str {
    match k {
        StepKind::Reminder => "reminder",
        StepKind::FormalNotice => "formal_notice",
        StepKind::CourtFile => "court_file",
    }
}

/// The tables as CSV in the format `RateTables::parse` reads (the files of `core/data/`): what
/// the owner edits to add a rate and move the checked-through day on.
fn csv(r: &RateTables) -> (String, String) {
    let mut ecb = format!("# checked_through: {}\neffective_date,main_refinancing_rate_pct\n", r.ecb_checked_through);
    for rate in &r.ecb {
        ecb.push_str(&format!("{},{}\n", rate.effective_on, rate.rate_pct));
    }
    let mut legal = format!(
        "# checked_through: {}\nyear,half,creditor_individual_pct,all_other_cases_pct\n",
        r.legal_checked_through
    );
    for rate in &r.legal {
        legal.push_str(&format!("{},{},,{}\n", rate.year, rate.half, rate.rate_pct));
    }
    (ecb, legal)
}

/// What the settings page shows of the reminder settings, read from the merged copy.
pub(crate) fn views(s: &Store) -> ardoise_core::Result<(LadderView, Vec<TemplateView>, RatesView)> {
    let ladder = s.ladder(LADDER)?;
    let templates = s.templates()?;
    let rates = s.rate_tables()?;
    let mut names: Vec<String> = templates.iter().map(|t| t.name.clone()).collect();
    names.dedup();
    let steps = ladder
        .steps
        .into_iter()
        .map(|st| StepView {
            name: st.name,
            offset: st.offset_days,
            channel: st.channel.as_str(),
            template: st.template,
            fee: st.fee.map(|f| f.to_string().replace('.', ",")).unwrap_or_default(),
            kind: kind(st.kind),
        })
        .collect();
    let (ecb_csv, legal_csv) = csv(&rates);
    let rates = RatesView {
        ecb_checked: rates.ecb_checked_through.to_string(),
        legal_checked: rates.legal_checked_through.to_string(),
        ecb: rates.ecb.iter().rev().map(|r| (r.effective_on.to_string(), r.rate_pct.to_string())).collect(),
        legal: rates.legal.iter().rev().map(|r| (format!("{} S{}", r.year, r.half), r.rate_pct.to_string())).collect(),
        ecb_csv,
        legal_csv,
    };
    let templates = templates
        .into_iter()
        .map(|t| TemplateView {
            name: t.name,
            language: t.language.as_str(),
            subject: t.subject,
            body: t.body,
            sms: t.sms,
        })
        .collect();
    Ok((LadderView { steps, templates: names }, templates, rates))
}

fn back(anchor: &str) -> Response {
    Redirect::to(&format!("/app/settings#{anchor}")).into_response()
}

/// The ladder's form: `name-N`, `offset-N`, `channel-N`, `template-N`, `fee-N` and `remove-N`
/// for step N (0-based) of the ladder as it stands; the step's kind (reminder, formal notice,
/// court file), which decides what the law makes it say, stays as it is.
pub(crate) async fn save_ladder(
    State(state): State<AppState>,
    owner: Owner,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let w = owner.w;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    owner.check(get("csrf").unwrap_or(""))?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let mut ladder = d.read_merged(owner.shop(), now, |s| s.ladder(LADDER)).await.map_err(|e| WebError::of(w, e))?;
    let mut steps = Vec::new();
    for (i, mut step) in ladder.steps.into_iter().enumerate() {
        if get(&format!("remove-{i}")).is_some() {
            continue;
        }
        if let Some(name) = get(&format!("name-{i}")) {
            step.name = field(w, name, 100)?;
        }
        if let Some(offset) = get(&format!("offset-{i}")) {
            step.offset_days = offset
                .trim()
                .parse()
                .map_err(|_| WebError::Invalid(w, format!("{} : {offset:?} — {}", step.name, w.not_a_number)))?;
        }
        if let Some(channel) = get(&format!("channel-{i}")) {
            step.channel = Channel::parse(channel).map_err(|e| WebError::Invalid(w, e.to_string()))?;
        }
        if let Some(template) = get(&format!("template-{i}")) {
            step.template = field(w, template, 100)?;
        }
        if let Some(fee) = get(&format!("fee-{i}")) {
            step.fee = money(w, fee)?;
        }
        steps.push(step);
    }
    ladder = Ladder { steps, ..ladder };
    d.write_merged(owner.shop(), now, move |s| s.set_ladder(ladder, now)).await.map_err(|e| WebError::of(w, e))?;
    Ok(back("ladder"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TemplateForm {
    csrf: String,
    name: String,
    language: String,
    subject: String,
    body: String,
    sms: String,
}

pub(crate) async fn save_template(
    State(state): State<AppState>,
    owner: Owner,
    Form(f): Form<TemplateForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&f.csrf)?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let language = Language::parse(f.language.trim()).map_err(|e| WebError::Invalid(w, e.to_string()))?;
    // Only a template the shop has: a name typed by hand makes no new one here.
    let name = field(w, &f.name, 100)?;
    let template = Template {
        name: name.clone(),
        language,
        subject: field(w, &f.subject, 300)?,
        body: f.body.replace("\r\n", "\n"),
        sms: field(w, &f.sms, 1000)?,
    };
    d.write_merged(owner.shop(), now, move |s| {
        if !s.templates()?.iter().any(|t| t.name == name && t.language == language) {
            return Err(ardoise_core::Error::NotFound { what: "template", id: name });
        }
        s.set_template(template, now)
    })
    .await
    .map_err(|e| WebError::of(w, e))?;
    Ok(back("templates"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RatesForm {
    csrf: String,
    ecb: String,
    legal: String,
}

pub(crate) async fn save_rates(
    State(state): State<AppState>,
    owner: Owner,
    Form(f): Form<RatesForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&f.csrf)?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let (ecb, legal) = (f.ecb.replace("\r\n", "\n"), f.legal.replace("\r\n", "\n"));
    d.write_merged(owner.shop(), now, move |s| s.set_rate_tables(&ecb, &legal, now).map(|_| ()))
        .await
        .map_err(|e| WebError::of(w, e))?;
    Ok(back("rates"))
}

/// A channel's name in the reader's words, for the ladder's select.
pub(crate) fn channel_label(w: &Words, c: &str) -> &'static str {
    match c {
        "email" => w.ch_email,
        "sms" => w.ch_sms,
        "letter" => w.ch_letter,
        "phone_call" => w.ch_call,
        "till" => w.ch_till,
        _ => w.ch_document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_written_as_csv_read_back_the_same() {
        let r = RateTables::default();
        let (ecb, legal) = csv(&r);
        assert_eq!(RateTables::parse(&ecb, &legal).unwrap(), r);
    }
}
