//! The HTTP application: the routes, the middleware every request goes through (protocol
//! version, request log, rate limit, body size), and serving it, plain or TLS. Handlers are in
//! `api`, what they share in `state`.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ardoise_core::sync::protocol::{MAX_BODY_BYTES, PROTOCOL_VERSION};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use tracing::Instrument;
use tracing::field::Empty;

use crate::api::{changes, enrol, push, webhook};
use crate::caller::bearer;
use crate::db::Db;
use crate::error::ApiError;
use crate::secret::sha256_hex;
use crate::state::{AppState, ServeConfig};
use crate::tls;

const PROTOCOL_HEADER: HeaderName = HeaderName::from_static("ardoise-protocol");

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/enrol", post(enrol::enrol))
        .route("/v1/push", post(push::push))
        .route("/v1/changes", get(changes::changes))
        .route("/v1/status", get(changes::status))
        .route("/v1/pay/stripe/{shop}", post(webhook::stripe))
        .route("/v1/pay/mollie/{shop}", post(webhook::mollie))
        .route("/v1/pay/done", get(webhook::done))
        .merge(crate::web::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "wrong method for this endpoint")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// One log line per request, with the shop, device and counts the handlers record on the
/// span, but never a payload, a name, a token or a code.
async fn observe(request: Request, next: Next) -> Response {
    let path = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path,
        shop = Empty,
        device = Empty,
        events = Empty,
        repeats = Empty,
        rejected = Empty,
        error = Empty,
    );
    let started = Instant::now();
    let mut response = match request.headers().get(&PROTOCOL_HEADER) {
        Some(v) if v.to_str().ok().and_then(|v| v.trim().parse::<u32>().ok()) != Some(PROTOCOL_VERSION) => span
            .in_scope(|| {
                ApiError::malformed(format!("this server speaks protocol version {PROTOCOL_VERSION}")).into_response()
            }),
        _ => next.run(request).instrument(span.clone()).await,
    };
    response.headers_mut().insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "answered");
        } else {
            tracing::info!(status, latency_ms, "answered");
        }
    });
    response
}

/// Keyed by the token's hash when there is one (a till behind a shared address is not slowed
/// by its neighbours), or a browser's session cookie's, else by the peer address.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = match bearer(request.headers()).or_else(|| crate::web::session_cookie(request.headers())) {
        Some(token) => sha256_hex(token),
        None => match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => peer.ip().to_string(),
            None => "anonymous".to_owned(),
        },
    };
    if !state.limiter.allow(&key) {
        return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests: slow down")
            .into_response();
    }
    next.run(request).await
}

/// A running server.
#[derive(Debug)]
pub struct Serving {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle,
    task: JoinHandle<io::Result<()>>,
}

impl Serving {
    /// The bound address (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to `grace`), and waits.
    pub async fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.stopper().stop(grace);
        self.wait().await
    }

    /// Something another task can stop the server with.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.handle.clone())
    }

    /// Runs until the server stops (an accept error, or a shutdown from elsewhere).
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}

#[derive(Clone, Debug)]
pub struct Stopper(axum_server::Handle);

impl Stopper {
    /// Stops accepting and lets requests in flight finish, for up to `grace`.
    pub fn stop(&self, grace: Duration) {
        self.0.graceful_shutdown(Some(grace));
    }
}

/// Serves the application on `listener` in a background task and returns once it listens.
pub async fn serve(listener: tokio::net::TcpListener, db: Db, config: ServeConfig) -> anyhow::Result<Serving> {
    let addr = listener.local_addr()?;
    let listener = listener.into_std()?;
    let app =
        router(AppState::new(db, config.rate).with_quota(config.quota).with_dispatcher(config.dispatcher.clone()))
            .layer(axum::Extension(crate::web::Tls(config.tls.is_some())))
            .into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let task = match &config.tls {
        Some(files) => {
            let tls = tls::load(files).await?;
            tokio::spawn(axum_server::from_tcp_rustls(listener, tls).handle(handle.clone()).serve(app))
        }
        None => tokio::spawn(axum_server::from_tcp(listener).handle(handle.clone()).serve(app)),
    };
    handle.listening().await.ok_or_else(|| anyhow::anyhow!("the server stopped before listening on {addr}"))?;
    tracing::info!(%addr, tls = config.tls.is_some(), rate_per_second = config.rate.per_second, "listening");
    Ok(Serving { addr, tls: config.tls.is_some(), handle, task })
}
