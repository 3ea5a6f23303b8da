//! The shop's devices for the owner: a one-time enrolment code for a new till (shown once,
//! with a QR code of the server's address and the code), each till with when it enrolled and
//! was last seen, and a form that revokes a lost one (its token stops at once; its events stay
//! in the log). The back office's own device is listed but cannot be revoked from here.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Owner;
use super::fmt;
use super::i18n::Words;
use super::page::{Cookies, WebError, dispatcher, render};
use crate::state::AppState;

pub(crate) struct DeviceRow {
    pub id: Uuid,
    pub name: String,
    pub enrolled: String,
    pub seen: String,
    pub revoked: Option<String>,
    pub ours: bool,
}

/// A code just issued: the only time it is shown (the database keeps its hash only).
pub(crate) struct Enrolment {
    pub server: String,
    pub code: String,
    /// The QR code as an `<svg>` element, drawn by the `qrcode` crate.
    pub qr: String,
}

#[derive(askama::Template)]
#[template(path = "devices.html")]
struct DevicesPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    rows: Vec<DeviceRow>,
    enrolment: Option<Enrolment>,
}

/// How long an enrolment code from the page stays valid.
const CODE_HOURS: i64 = 24;

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let rows = rows(&state, &owner).await?;
    Ok(render(&DevicesPage { w: owner.w, csrf: &owner.csrf, active: "devices", rows, enrolment: None }))
}

async fn rows(state: &AppState, owner: &Owner) -> Result<Vec<DeviceRow>, WebError> {
    let w = owner.w;
    let ours = dispatcher(state, w)?.device_of(owner.shop()).await.map_err(|e| WebError::of(w, e))?;
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
    Ok(rows)
}

/// What a till scans: the server's address and the code, the two things `ardoise enrol
/// --server URL --code CODE` (and the bindings' `enrol(server_url, code, name)`) take.
pub(crate) fn enrol_uri(server: &str, code: &str) -> String {
    format!("ardoise:enrol?server={}&code={code}", super::page::seg(server))
}

/// The QR code of `data` as an inline `<svg>` (no script, no style attribute: the CSP allows
/// neither), labelled for screen readers.
fn qr_svg(data: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    let start = svg.find("<svg")?;
    let label = label.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Some(svg[start..].replacen("<svg", &format!("<svg role=\"img\" aria-label=\"{label}\""), 1))
}

/// The address the owner reached this page at is the one a till on the same network or the
/// internet reaches the sync API at (same server, same port).
fn server_url(headers: &HeaderMap, tls: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let valid = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    valid.then(|| format!("{}://{host}", if tls { "https" } else { "http" }))
}

/// Issues a one-time enrolment code for the owner's shop, valid 24 hours, and shows it once.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    owner: Owner,
    cookies: Cookies,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let server = server_url(&headers, cookies.tls).ok_or(WebError::Invalid(w, w.no_host.to_owned()))?;
    let code =
        state.db.enrol_code(owner.shop(), chrono::Duration::hours(CODE_HOURS)).await.map_err(|e| WebError::of(w, e))?;
    let qr = qr_svg(&enrol_uri(&server, &code), w.enrol_qr).ok_or(WebError::Internal(w))?;
    let rows = rows(&state, &owner).await?;
    let enrolment = Some(Enrolment { server, code, qr });
    Ok(render(&DevicesPage { w, csrf: &owner.csrf, active: "devices", rows, enrolment }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_svg_element_with_a_label() {
        let uri = enrol_uri("https://boutique.example:8443", "ABCD2345");
        assert_eq!(uri, "ardoise:enrol?server=https%3A%2F%2Fboutique.example%3A8443&code=ABCD2345");
        let svg = qr_svg(&uri, "QR").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR\""), "{svg}");
        assert!(svg.ends_with("</svg>") && !svg.contains("style="), "{svg}");
    }
}
