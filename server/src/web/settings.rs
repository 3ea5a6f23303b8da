//! The shop's settings the owner changes from the phone: the name, phone, email and IBAN the
//! reminders and the payment page show. A core `Store::set_settings` on the merged copy, so
//! every till receives them by sync; the numbers are checked by the core (the IBAN's key).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::Owner;
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, now, render};
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
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let s = d.read_merged(owner.shop(), now(), |s| Ok(s.settings())).await.map_err(|e| WebError::of(w, e))?;
    Ok(render(&SettingsPage {
        w,
        csrf: &owner.csrf,
        active: "settings",
        name: s.shop_name.clone(),
        phone: s.shop_phone.clone(),
        email: s.shop_email.clone(),
        iban: ardoise_core::identity::iban_grouped(&s.identity.iban),
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
}

pub(crate) async fn save(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let d = dispatcher(&state, w)?;
    let (name, phone, email, iban) = (
        field(w, &form.name, 200)?,
        field(w, &form.phone, 50)?,
        field(w, &form.email, 254)?,
        field(w, &form.iban, 50)?,
    );
    let now = now();
    d.write_merged(owner.shop(), now, move |s| {
        // Only these four fields change: everything else of the settings stays as the tills set it.
        let mut settings = (*s.settings()).clone();
        settings.shop_name = name;
        settings.shop_phone = phone;
        settings.shop_email = email;
        settings.identity.iban = iban;
        settings.identity = settings.identity.normalised();
        s.set_settings(settings, now)
    })
    .await
    .map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/settings").into_response())
}
