//! The server under test: a fresh database (a SQLite file on the disk, or a PostgreSQL schema
//! of its own) served on loopback from a runtime of its own, and a tracing layer that counts
//! every answer by status and keeps the server-side latency of each request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ardoise_server::{Db, RateLimit, ServeConfig, Serving};
use sqlx::Connection;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }
}

pub fn pg_base_url() -> String {
    std::env::var("ARDOISE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether PostgreSQL answers at the test URL.
pub async fn postgres_available() -> bool {
    sqlx::any::install_default_drivers();
    match sqlx::AnyConnection::connect(&pg_base_url()).await {
        Ok(c) => c.close().await.is_ok(),
        Err(e) => {
            eprintln!("PostgreSQL not available at {}: {e}", pg_base_url());
            false
        }
    }
}

pub struct Server {
    pub kind: Kind,
    pub db: Db,
    pub base: String,
    serving: Option<Serving>,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl Server {
    /// Must run inside the server's runtime: the pool and the listener belong to it.
    pub async fn start(kind: Kind, rate: RateLimit) -> Server {
        sqlx::any::install_default_drivers();
        let (url, dir, schema) = match kind {
            Kind::Sqlite => {
                let root = super::till::data_dir();
                std::fs::create_dir_all(&root).unwrap();
                let dir = tempfile::tempdir_in(root).unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
                (url, Some(dir), None)
            }
            Kind::Postgres => {
                let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::AnyConnection::connect(&pg_base_url()).await.expect("PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
                let sep = if pg_base_url().contains('?') { '&' } else { '?' };
                (format!("{}{sep}options=-c%20search_path%3D{name}", pg_base_url()), None, Some(name))
            }
        };
        let db = ardoise_server::connect(&url).await.expect("connect the server database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let serving =
            ardoise_server::serve(listener, db.clone(), ServeConfig { tls: None, rate, ..Default::default() })
                .await
                .unwrap();
        Server { kind, db, base: serving.base_url(), serving: Some(serving), _dir: dir, schema }
    }

    /// Stops serving and removes the data (the PostgreSQL schema, the SQLite directory).
    pub async fn stop(mut self) {
        if let Some(serving) = self.serving.take() {
            serving.shutdown(std::time::Duration::from_secs(5)).await.ok();
        }
        self.db.pool().close().await;
        if let Some(name) = self.schema.take() {
            let mut conn = sqlx::AnyConnection::connect(&pg_base_url()).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.ok();
        }
    }

    /// Bytes the server's data takes (the SQLite file and its WAL, or the schema's relations).
    pub async fn data_bytes(&self) -> u64 {
        match (self.kind, &self._dir, &self.schema) {
            (Kind::Sqlite, Some(dir), _) => std::fs::read_dir(dir.path())
                .map(|it| it.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
                .unwrap_or(0),
            (Kind::Postgres, _, Some(name)) => {
                let q = format!(
                    "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{name}' AND c.relkind = 'r'"
                );
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(q)).fetch_one(self.db.pool()).await.unwrap_or(0) as u64
            }
            _ => 0,
        }
    }
}

/// What the server answered, as its own request log says it.
#[derive(Default)]
pub struct Answers {
    /// (path, status) -> count.
    pub counts: BTreeMap<(String, u16), u64>,
    /// path -> server-side latency of each answer, ms.
    pub latency_ms: BTreeMap<String, Vec<f64>>,
    /// Warnings and errors logged (first few), e.g. "request failed" with the database error.
    pub problems: Vec<String>,
    pub problem_count: u64,
}

impl Answers {
    pub fn errors(&self) -> u64 {
        self.counts.iter().filter(|((_, s), _)| *s >= 400).map(|(_, n)| n).sum()
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let counts: BTreeMap<String, u64> = self.counts.iter().map(|((p, s), n)| (format!("{s} {p}"), *n)).collect();
        let latency: BTreeMap<String, serde_json::Value> = self
            .latency_ms
            .iter()
            .map(|(p, v)| (p.clone(), super::stats::Spread::of_ms(v.clone()).to_json()))
            .collect();
        serde_json::json!({
            "answers": counts, "server_latency": latency, "problems": self.problems,
            "problem_count": self.problem_count,
        })
    }
}

#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Answers>>);

impl Recorder {
    /// Everything recorded since the last call.
    pub fn take(&self) -> Answers {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn install(&self) {
        use tracing_subscriber::filter::Targets;
        use tracing_subscriber::prelude::*;
        let filter = Targets::new().with_target("ardoise_server", Level::INFO).with_default(Level::WARN);
        tracing_subscriber::registry().with(self.clone().with_filter(filter)).init();
    }
}

struct PathOf(String);

#[derive(Default)]
struct Fields {
    path: Option<String>,
    status: Option<u64>,
    latency_ms: Option<f64>,
    message: Option<String>,
    error: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "status" {
            self.status = u64::try_from(value).ok();
        }
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "latency_ms" {
            self.latency_ms = Some(value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "path" => self.path = Some(value.to_owned()),
            "message" => self.message = Some(value.to_owned()),
            "error" => self.error = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "path" => self.path = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "message" => self.message = Some(format!("{value:?}")),
            "error" => self.error = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let (Some(path), Some(span)) = (f.path, ctx.span(id)) {
            span.extensions_mut().insert(PathOf(path));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let level = *event.metadata().level();
        let mut answers = self.0.lock().unwrap();
        if let (Some(status), Some(latency)) = (f.status, f.latency_ms) {
            let path = ctx
                .event_span(event)
                .and_then(|s| s.extensions().get::<PathOf>().map(|p| p.0.clone()))
                .unwrap_or_else(|| "?".into());
            *answers.counts.entry((path.clone(), u16::try_from(status).unwrap_or(0))).or_default() += 1;
            answers.latency_ms.entry(path).or_default().push(latency);
        }
        if f.status.is_none() && level <= Level::WARN {
            answers.problem_count += 1;
            if answers.problems.len() < 20 {
                let text = format!(
                    "{level} {}: {}{}",
                    event.metadata().target(),
                    f.message.unwrap_or_default(),
                    f.error.map(|e| format!(" ({e})")).unwrap_or_default()
                );
                answers.problems.push(text);
            }
        }
    }
}
