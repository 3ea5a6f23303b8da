//! `POST /v1/push`: a device's events join the shop's log, in one transaction, with gapless
//! shop sequences; repeats are acknowledged, business refusals consumed and reported.

use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{
    Event, KINDS, MAX_EVENT_BYTES, MAX_PUSH_EVENTS, PushRequest, PushResponse, Rejection,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::{Any, Transaction};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{Caller, gone, sha256_hex};
use crate::db::{Backend, Db, i64_of, now_ms, u64_of, uuid};
use crate::error::{ApiError, Error, Result};
use crate::extract::JsonBody;

pub(crate) async fn push(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let span = tracing::Span::current();
    span.record("events", request.events.len());
    if request.events.len() > MAX_PUSH_EVENTS {
        return Err(too_many(request.events.len()));
    }
    if request.device_id != caller.device {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "wrong_device", "device_id is not the device of this token"));
    }
    let payloads = check_batch(&request.events)?;
    let (response, repeats) = state
        .db
        .apply(caller.shop, caller.device, Some((request.epoch, request.acked_through)), &request.events, &payloads)
        .await?;
    span.record("repeats", repeats);
    span.record("rejected", response.rejected.len());
    Ok(Json(response))
}

fn too_many(n: usize) -> ApiError {
    ApiError::too_large(format!("{n} events: a push carries at most {MAX_PUSH_EVENTS}"))
}

/// Everything that can be checked without the database, so that a bad batch is refused before
/// taking the shop's lock. Returns each payload serialised, as it will be stored.
fn check_batch(events: &[Event]) -> Result<Vec<String>, ApiError> {
    if events.len() > MAX_PUSH_EVENTS {
        return Err(too_many(events.len()));
    }
    let mut payloads = Vec::with_capacity(events.len());
    for event in events {
        let seq = event.seq;
        if !KINDS.contains(&event.kind.as_str()) {
            let kind: String = event.kind.chars().take(40).collect();
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_kind",
                format!("event {seq}: unknown kind {kind:?}"),
            ));
        }
        let payload = serde_json::to_string(&event.payload).map_err(|e| ApiError::malformed(e.to_string()))?;
        if payload.len() > MAX_EVENT_BYTES {
            return Err(ApiError::too_large(format!(
                "event {seq}: payload of {} bytes, at most {MAX_EVENT_BYTES}",
                payload.len()
            )));
        }
        if Hlc::parse(&event.hlc).is_err() {
            return Err(ApiError::malformed(format!("event {seq}: hlc is not wall.counter.device")));
        }
        if seq == 0 {
            return Err(ApiError::malformed("device sequences start at 1"));
        }
        i64_of(seq)?;
        payloads.push(payload);
    }
    if let Some(w) = events.windows(2).find(|w| w[1].seq != w[0].seq.wrapping_add(1)) {
        return Err(ApiError::malformed(format!(
            "events must have consecutive sequences: {} follows {}",
            w[1].seq, w[0].seq
        )));
    }
    Ok(payloads)
}

impl Db {
    /// Appends events the server itself records (reminders sent, for instance) under its own
    /// device id, with the same rules as a push: `events` carry consecutive sequences from
    /// [`Db::expected_seq`], and a retried batch is acknowledged, not applied twice. The
    /// device is registered in the shop on first use, with no token that could ever match.
    pub async fn append_server_events(
        &self,
        shop: Uuid,
        server_device: Uuid,
        events: &[Event],
    ) -> Result<PushResponse> {
        let payloads = check_batch(events)?;
        sqlx::query(
            "INSERT INTO devices (id, shop_id, name, token_hash, expected_seq, enrolled_at)
             VALUES ($1, $2, 'server', $3, 1, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(server_device.to_string())
        .bind(shop.to_string())
        .bind(sha256_hex(&format!("server:{}", hex::encode(rand::random::<[u8; 32]>()))))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(self.apply(shop, server_device, None, events, &payloads).await?.0)
    }

    /// The next sequence the server expects from a device of the shop.
    pub async fn expected_seq(&self, shop: Uuid, device: Uuid) -> Result<u64> {
        let expected: Option<i64> =
            sqlx::query_scalar("SELECT expected_seq FROM devices WHERE id = $1 AND shop_id = $2")
                .bind(device.to_string())
                .bind(shop.to_string())
                .fetch_optional(self.pool())
                .await?;
        u64_of(expected.ok_or_else(|| Error::not_found("device", device))?)
    }

    /// The transaction of a push, on a batch `check_batch` accepted. Returns the answer and
    /// how many events were repeats.
    async fn apply(
        &self,
        shop: Uuid,
        device: Uuid,
        device_view: Option<(Uuid, u64)>,
        events: &[Event],
        payloads: &[String],
    ) -> Result<(PushResponse, usize)> {
        let epoch = device_view.map(|(e, _)| e);
        let shop_id = shop.to_string();
        let device_id = device.to_string();
        let mut tx = self.begin_write().await?;
        // Taking the shop row's lock first serialises the shop's pushes (a row lock on
        // PostgreSQL, the database lock on SQLite), so shop sequences cannot collide.
        let locked = sqlx::query("UPDATE shops SET head = head WHERE id = $1").bind(&shop_id).execute(&mut *tx).await?;
        if locked.rows_affected() == 0 {
            return Err(Error::not_found("shop", shop));
        }
        let (current, head): (String, i64) =
            sqlx::query_as("SELECT epoch, head FROM shops WHERE id = $1").bind(&shop_id).fetch_one(&mut *tx).await?;
        let current = uuid(&current)?;
        if epoch.is_some_and(|e| e != current) {
            return Err(ApiError::epoch_changed(current).into());
        }
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT expected_seq, revoked_at FROM devices WHERE id = $1 AND shop_id = $2")
                .bind(&device_id)
                .bind(&shop_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (expected, revoked) = row.ok_or_else(gone)?;
        if revoked.is_some() {
            return Err(gone());
        }
        let mut expected = u64_of(expected)?;
        let mut head = u64_of(head)?;
        let fresh = events.iter().position(|e| e.seq >= expected).unwrap_or(events.len());
        if let Some(first) = events.get(fresh).filter(|e| e.seq > expected) {
            if device_view.is_some_and(|(_, acked)| acked >= expected) {
                // This server acknowledged events it no longer has: it was restored from a
                // backup. A new epoch makes every device resend and pull everything again.
                drop(tx);
                let epoch = self.bump_epoch(shop, current).await?;
                tracing::warn!(%shop, %device, expected, "acknowledged events missing: new epoch");
                return Err(ApiError::epoch_changed(epoch).into());
            }
            return Err(ApiError::sequence_gap(expected, first.seq).into());
        }
        let now = now_ms();
        let mut rejected = Vec::new();
        let fresh_events = &events[fresh..];
        // One statement per kind of write for the whole batch, not per event: each statement
        // is a round trip to the database (a hop to sqlx's SQLite thread, a loopback exchange
        // with PostgreSQL), which cost far more than the SQL itself.
        let mut taken = taken_ids(&mut tx, self.backend(), &shop_id, fresh_events).await?;
        let mut stored: Vec<(u64, &Event, &String)> = Vec::with_capacity(fresh_events.len());
        let mut refused: Vec<(&Event, &'static str, &String)> = Vec::new();
        let mut customers: Vec<String> = Vec::new();
        for (event, payload) in fresh_events.iter().zip(&payloads[fresh..]) {
            // `taken` grows with the batch, so the second of two events with one id in the same
            // push is refused like a repeat from an earlier push.
            match verdict(&mut taken, device, event) {
                Verdict::Store { customer } => {
                    head += 1;
                    stored.push((head, event, payload));
                    customers.extend(customer.map(|c| c.to_string()));
                }
                Verdict::Refuse(reason) => {
                    refused.push((event, reason, payload));
                    rejected.push(Rejection { seq: event.seq, id: event.id, reason: reason.to_owned() });
                }
            }
            expected = event.seq + 1;
        }
        customers.sort_unstable();
        customers.dedup();
        for chunk in customers.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO shop_customers (shop_id, customer_id) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for customer in chunk {
                q = q.bind(&shop_id).bind(customer);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in stored.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO events (shop_id, shop_seq, device_id, device_seq, event_id, kind, hlc, payload, received_at)
                 VALUES {}",
                placeholders(chunk.len(), 9)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (shop_seq, event, payload) in chunk {
                q = q
                    .bind(&shop_id)
                    .bind(i64_of(*shop_seq)?)
                    .bind(&device_id)
                    .bind(i64_of(event.seq)?)
                    .bind(event.id.to_string())
                    .bind(&event.kind)
                    .bind(&event.hlc)
                    .bind(*payload)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in refused.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO rejections (shop_id, device_id, device_seq, event_id, kind, reason, payload, at)
                 VALUES {}",
                placeholders(chunk.len(), 8)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (event, reason, payload) in chunk {
                q = q
                    .bind(&shop_id)
                    .bind(&device_id)
                    .bind(i64_of(event.seq)?)
                    .bind(event.id.to_string())
                    .bind(&event.kind)
                    .bind(*reason)
                    .bind(*payload)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        if fresh < events.len() {
            sqlx::query("UPDATE devices SET expected_seq = $1 WHERE id = $2")
                .bind(i64_of(expected)?)
                .bind(&device_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE shops SET head = $1 WHERE id = $2")
                .bind(i64_of(head)?)
                .bind(&shop_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((PushResponse { epoch: current, acked_through: expected - 1, rejected, head }, fresh))
    }
}

/// Rows per multi-row statement: 500 events of 9 columns stay far below SQLite's limit of
/// 32,766 bound parameters (and PostgreSQL's 65,535).
const ROWS_PER_STATEMENT: usize = 500;

/// `($1, $2), ($3, $4), ...`: `rows` tuples of `cols` numbered parameters. Only these
/// placeholders are formatted into the SQL (hence `AssertSqlSafe`); every value is bound.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// The ids of the batch the shop's log already holds, in one lookup per chunk.
async fn taken_ids(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    shop_id: &str,
    events: &[Event],
) -> Result<std::collections::HashSet<Uuid>> {
    let mut taken = std::collections::HashSet::new();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = match backend {
            Backend::Sqlite => {
                format!("SELECT event_id FROM events WHERE shop_id = $1 AND event_id IN ({})", list.join(", "))
            }
            // With `IN (...)`, PostgreSQL's planner may scan the whole shop through the primary
            // key and test each row against the list (1.4 s per push of 500 at 100,000 events
            // when the table's statistics lag its growth). One probe of the (shop, event id)
            // unique index per id, forced by LATERAL ... LIMIT 1, stays a few milliseconds.
            Backend::Postgres => format!(
                "SELECT v.id FROM (VALUES ({})) AS v(id)
                 CROSS JOIN LATERAL (SELECT 1 FROM events e WHERE e.shop_id = $1 AND e.event_id = v.id LIMIT 1) AS hit",
                list.join("), (")
            ),
        };
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(shop_id);
        for event in chunk {
            q = q.bind(event.id.to_string());
        }
        for id in q.fetch_all(&mut **tx).await? {
            taken.insert(uuid(&id)?);
        }
    }
    Ok(taken)
}

enum Verdict {
    /// Into the log; a customer event also registers its customer with the shop.
    Store {
        customer: Option<Uuid>,
    },
    Refuse(&'static str),
}

/// The business rules the server enforces itself (everything else lives on the tills): why
/// the event is refused, or what storing it involves. `taken` holds the ids already in the
/// log, and takes this one's when it is stored.
fn verdict(taken: &mut std::collections::HashSet<Uuid>, device: Uuid, event: &Event) -> Verdict {
    if taken.contains(&event.id) {
        return Verdict::Refuse("event id already used");
    }
    let field =
        |pointer: &str| event.payload.pointer(pointer).and_then(|v| v.as_str()).and_then(|s| Uuid::try_parse(s).ok());
    let customer = match event.kind.as_str() {
        "customer" => {
            let Some(customer) = field("/customer/id") else {
                return Verdict::Refuse("customer event without a customer id");
            };
            Some(customer)
        }
        // An entry for a customer this log does not hold yet is kept: after a restore from a
        // backup, a till may resend it before another till resends the customer. Devices hold
        // such entries until the customer arrives.
        "entry" if field("/device_id") != Some(device) => return Verdict::Refuse("entry recorded by another device"),
        _ => None,
    };
    taken.insert(event.id);
    Verdict::Store { customer }
}
