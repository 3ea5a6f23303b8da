//! The shop's devices for the owner: each till with when it enrolled and was last seen, and a
//! form that revokes a lost one (its token stops at once; its events stay in the log). The
//! back office's own device is listed but cannot be revoked from here.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Owner;
use super::fmt;
use super::i18n::Words;
use super::page::{WebError, dispatcher, render};
use crate::state::AppState;

pub(crate) struct DeviceRow {
    pub id: Uuid,
    pub name: String,
    pub enrolled: String,
    pub seen: String,
    pub revoked: Option<String>,
    pub ours: bool,
}

#[derive(askama::Template)]
#[template(path = "devices.html")]
struct DevicesPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    rows: Vec<DeviceRow>,
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let ours = dispatcher(&state, w)?.device_of(owner.shop()).await.map_err(|e| WebError::of(w, e))?;
    let list = state.db.devices(owner.shop()).await.map_err(|e| WebError::of(w, e))?;
    let rows = list
        .into_iter()
        .map(|d| DeviceRow {
            ours: d.id == ours,
            id: d.id,
            name: d.name,
            enrolled: fmt::instant(d.enrolled_at),
            seen: d.last_seen_at.map(fmt::instant).unwrap_or_else(|| "—".to_owned()),
            revoked: d.revoked_at.map(fmt::instant),
        })
        .collect();
    Ok(render(&DevicesPage { w, csrf: &owner.csrf, active: "devices", rows }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RevokeForm {
    csrf: String,
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let id = Uuid::try_parse(&id).map_err(|_| WebError::NotFound(w))?;
    let ours = dispatcher(&state, w)?.device_of(owner.shop()).await.map_err(|e| WebError::of(w, e))?;
    // Only a till of the owner's own shop, and never the back office itself.
    let theirs = state.db.devices(owner.shop()).await.map_err(|e| WebError::of(w, e))?.iter().any(|d| d.id == id);
    if !theirs || id == ours {
        return Err(WebError::NotFound(w));
    }
    state.db.revoke(id).await.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/devices").into_response())
}
