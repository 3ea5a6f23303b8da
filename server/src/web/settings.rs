//! The shop's settings the owner changes from the phone: the name, phone, email and IBAN the
//! reminders and the payment page show, and the checkout thresholds and reminder rules the
//! tills apply (`ShopSettings::checkout`, `ShopSettings::dunning`). Each form is a core
//! `Store::set_settings` on the merged copy, so every till receives it by sync; every value is
//! checked by the core, and a refused form changes nothing. The ladder, templates and rate
//! tables shown on the same page are `reminder_settings`'s.

use ardoise_core::Money;
use ardoise_core::store::ShopSettings;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::Owner;
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, money, now, number, render};
use super::reminder_settings::{self, LadderView, RatesView, TemplateView};
use crate::state::AppState;

#[derive(askama::Template)]
#[template(path = "settings.html")]
struct SettingsPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    name: String,
    phone: String,
    email: String,
    iban: String,
    legal: Legal,
    rules: Rules,
    ladder: LadderView,
    templates: Vec<TemplateView>,
    rates: RatesView,
    channels: [&'static str; 6],
}

impl SettingsPage<'_> {
    fn channel_label(&self, c: &str) -> &'static str {
        reminder_settings::channel_label(self.w, c)
    }
}

/// The shop's legal identity, which a formal notice and a court file state, and the address
/// its letters come from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Legal {
    pub legal_name: String,
    pub legal_form: String,
    pub siret: String,
    pub vat_number: String,
    pub rcs_city: String,
    pub registered_address: String,
    pub representative: String,
    pub representative_role: String,
    pub shop_address: String,
}

/// The checkout and reminder rules as the form shows them (amounts the French way).
pub(crate) struct Rules {
    pub warn_overdue_days: u32,
    pub refuse_overdue_days: u32,
    pub warn_limit_pct: u32,
    pub default_credit_limit: String,
    pub offline_after_hours: u32,
    pub offline_allowance: String,
    pub min_gap_days: u32,
    pub sms_from_hour: u32,
    pub sms_until_hour: u32,
    pub plan_grace_days: u32,
    pub fees_business: bool,
    pub fees_consumer: bool,
    pub contract_rate_pct: String,
}

/// An amount as typed in a form field: the French decimal comma.
fn amount_field(m: Money) -> String {
    m.to_string().replace('.', ",")
}

fn rules(s: &ShopSettings) -> Rules {
    let (c, d) = (&s.checkout, &s.dunning);
    Rules {
        warn_overdue_days: c.warn_overdue_days,
        refuse_overdue_days: c.refuse_overdue_days,
        warn_limit_pct: c.warn_limit_pct,
        default_credit_limit: c.default_credit_limit.map(amount_field).unwrap_or_default(),
        offline_after_hours: c.offline_after_hours,
        offline_allowance: amount_field(c.offline_allowance),
        min_gap_days: d.min_gap_days,
        sms_from_hour: d.sms_from_hour,
        sms_until_hour: d.sms_until_hour,
        plan_grace_days: d.plan_grace_days,
        fees_business: d.penalty_fees_business,
        fees_consumer: d.penalty_fees_consumer,
        contract_rate_pct: d.contract_rate_pct.map(|r| r.to_string()).unwrap_or_default(),
    }
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let (s, ladder, templates, rates) = d
        .read_merged(owner.shop(), now(), |s| {
            let (ladder, templates, rates) = reminder_settings::views(s)?;
            Ok(((*s.settings()).clone(), ladder, templates, rates))
        })
        .await
        .map_err(|e| WebError::of(w, e))?;
    Ok(render(&SettingsPage {
        w,
        csrf: &owner.csrf,
        active: "settings",
        name: s.shop_name.clone(),
        phone: s.shop_phone.clone(),
        email: s.shop_email.clone(),
        iban: ardoise_core::identity::iban_grouped(&s.identity.iban),
        legal: Legal {
            legal_name: s.identity.legal_name.clone(),
            legal_form: s.identity.legal_form.clone(),
            siret: s.identity.siret.clone(),
            vat_number: s.identity.vat_number.clone(),
            rcs_city: s.identity.rcs_city.clone(),
            registered_address: s.identity.address.clone(),
            representative: s.identity.representative.clone(),
            representative_role: s.identity.representative_role.clone(),
            shop_address: s.shop_address.clone(),
        },
        rules: rules(&s),
        ladder,
        templates,
        rates,
        channels: reminder_settings::CHANNELS,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SettingsForm {
    csrf: String,
    name: String,
    phone: String,
    email: String,
    iban: String,
    /// Absent from a form that does not show them: they stay as they are.
    #[serde(flatten)]
    legal: Option<LegalForm>,
}

/// The legal identity's fields as a form sends them, all together.
#[derive(Debug, Deserialize)]
pub(crate) struct LegalForm {
    legal_name: String,
    legal_form: String,
    siret: String,
    vat_number: String,
    rcs_city: String,
    registered_address: String,
    representative: String,
    representative_role: String,
    shop_address: String,
}

pub(crate) async fn save(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let (name, phone, email, iban) = (
        field(w, &form.name, 200)?,
        field(w, &form.phone, 50)?,
        field(w, &form.email, 254)?,
        field(w, &form.iban, 50)?,
    );
    let legal = match form.legal {
        Some(l) => Some(LegalForm {
            legal_name: field(w, &l.legal_name, 200)?,
            legal_form: field(w, &l.legal_form, 50)?,
            siret: field(w, &l.siret, 30)?,
            vat_number: field(w, &l.vat_number, 30)?,
            rcs_city: field(w, &l.rcs_city, 100)?,
            registered_address: field(w, &l.registered_address, 500)?.replace("\r\n", "\n"),
            representative: field(w, &l.representative, 200)?,
            representative_role: field(w, &l.representative_role, 100)?,
            shop_address: field(w, &l.shop_address, 500)?.replace("\r\n", "\n"),
        }),
        None => None,
    };
    change(&state, &owner, move |settings| {
        // Only the form's fields change: the rest of the settings stays as the tills set it.
        settings.shop_name = name;
        settings.shop_phone = phone;
        settings.shop_email = email;
        settings.identity.iban = iban;
        if let Some(l) = legal {
            let id = &mut settings.identity;
            id.legal_name = l.legal_name;
            id.legal_form = l.legal_form;
            id.siret = l.siret;
            id.vat_number = l.vat_number;
            id.rcs_city = l.rcs_city;
            id.address = l.registered_address;
            id.representative = l.representative;
            id.representative_role = l.representative_role;
            settings.shop_address = l.shop_address;
        }
        settings.identity = std::mem::take(&mut settings.identity).normalised();
    })
    .await
}

/// The shop's settings as they are in the merged copy, changed by `f`, saved by the core
/// (which checks them whole: a refusal writes nothing), then back to the page.
async fn change(
    state: &AppState,
    owner: &Owner,
    f: impl FnOnce(&mut ShopSettings) + Send + 'static,
) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(state, w)?;
    let now = now();
    d.write_merged(owner.shop(), now, move |s| {
        let mut settings = (*s.settings()).clone();
        f(&mut settings);
        s.set_settings(settings, now)
    })
    .await
    .map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/settings").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RulesForm {
    csrf: String,
    warn_overdue_days: String,
    refuse_overdue_days: String,
    warn_limit_pct: String,
    default_credit_limit: String,
    offline_after_hours: String,
    offline_allowance: String,
    min_gap_days: String,
    sms_from_hour: String,
    sms_until_hour: String,
    plan_grace_days: String,
    fees_business: Option<String>,
    fees_consumer: Option<String>,
    contract_rate_pct: String,
}

pub(crate) async fn save_rules(
    State(state): State<AppState>,
    owner: Owner,
    Form(f): Form<RulesForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&f.csrf)?;
    let warn_overdue_days = number(w, w.warn_overdue_days, &f.warn_overdue_days)?;
    let refuse_overdue_days = number(w, w.refuse_overdue_days, &f.refuse_overdue_days)?;
    let warn_limit_pct = number(w, w.warn_limit_pct, &f.warn_limit_pct)?;
    let default_credit_limit = money(w, &f.default_credit_limit)?;
    let offline_after_hours = number(w, w.offline_after_hours, &f.offline_after_hours)?;
    let offline_allowance = money(w, &f.offline_allowance)?.unwrap_or(Money::ZERO);
    let min_gap_days = number(w, w.min_gap_days, &f.min_gap_days)?;
    let sms_from_hour = number(w, w.sms_from, &f.sms_from_hour)?;
    let sms_until_hour = number(w, w.sms_until, &f.sms_until_hour)?;
    let plan_grace_days = number(w, w.plan_grace_days, &f.plan_grace_days)?;
    let contract_rate_pct = match f.contract_rate_pct.trim() {
        "" => None,
        r => Some(
            ardoise_core::dunning::penalty::parse_rate_pct(&r.replace(',', "."))
                .map_err(|e| WebError::Invalid(w, e.to_string()))?,
        ),
    };
    let (fees_business, fees_consumer) = (f.fees_business.is_some(), f.fees_consumer.is_some());
    change(&state, &owner, move |s| {
        let c = &mut s.checkout;
        c.warn_overdue_days = warn_overdue_days;
        c.refuse_overdue_days = refuse_overdue_days;
        c.warn_limit_pct = warn_limit_pct;
        c.default_credit_limit = default_credit_limit;
        c.offline_after_hours = offline_after_hours;
        c.offline_allowance = offline_allowance;
        let d = &mut s.dunning;
        d.min_gap_days = min_gap_days;
        d.sms_from_hour = sms_from_hour;
        d.sms_until_hour = sms_until_hour;
        d.plan_grace_days = plan_grace_days;
        d.penalty_fees_business = fees_business;
        d.penalty_fees_consumer = fees_consumer;
        d.contract_rate_pct = contract_rate_pct;
    })
    .await
}
