//! The `reminder_claims` and `ladder_runs` tables: what several server processes on one
//! database agree on before acting, so that a reminder is sent once and a shop's daily
//! reminder run happens once, whichever process gets there first.
//!
//! A claim is a lease: one conditional statement (`INSERT ... ON CONFLICT ... DO UPDATE ...
//! WHERE`) takes the row when it is new, when its lease ran out, or when it is already the
//! caller's (a restarted process finds its own lease). Both backends run it atomically: on
//! PostgreSQL the conflicting row is locked and the condition checked again on its latest
//! version; on SQLite the statement holds the database's write lock.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Db, uuid};
use crate::error::{Error, Result};

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim<D> {
    /// The caller holds it until its lease ends.
    Won,
    /// Another holder's lease is still running.
    Busy { holder: Uuid, until_ms: i64 },
    /// Finished already, by whichever process.
    Done(D),
}

/// What became of a claimed reminder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The transport accepted it; `detail` is its proof (Message-ID, file, provider's id).
    Sent { at_ms: i64, detail: String },
    /// It can never leave (bad address, incomplete document): why.
    Failed { at_ms: i64, reason: String },
}

impl Outcome {
    fn columns(&self) -> (&'static str, &str, i64) {
        match self {
            Outcome::Sent { at_ms, detail } => ("sent", detail, *at_ms),
            Outcome::Failed { at_ms, reason } => ("failed", reason, *at_ms),
        }
    }

    fn from_columns(outcome: &str, detail: Option<String>, at_ms: Option<i64>) -> Result<Outcome> {
        let (detail, at_ms) = (detail.unwrap_or_default(), at_ms.unwrap_or_default());
        match outcome {
            "sent" => Ok(Outcome::Sent { at_ms, detail }),
            "failed" => Ok(Outcome::Failed { at_ms, reason: detail }),
            other => Err(Error::Corrupt(format!("reminder claim outcome {other:?}"))),
        }
    }
}

/// Takes the reminder for `holder` until `now_ms + lease_ms`, unless another holder's lease
/// runs or it has an outcome.
pub(crate) async fn claim_reminder(
    conn: &mut AnyConnection,
    shop: Uuid,
    reminder: Uuid,
    holder: Uuid,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Claim<Outcome>> {
    let taken = sqlx::query(
        "INSERT INTO reminder_claims (shop_id, reminder_id, holder, lease_until, attempts)
         VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (shop_id, reminder_id) DO UPDATE
         SET holder = excluded.holder, lease_until = excluded.lease_until,
             attempts = reminder_claims.attempts + 1
         WHERE reminder_claims.outcome IS NULL
           AND (reminder_claims.lease_until <= $5 OR reminder_claims.holder = excluded.holder)",
    )
    .bind(shop.to_string())
    .bind(reminder.to_string())
    .bind(holder.to_string())
    .bind(now_ms.saturating_add(lease_ms))
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() > 0 {
        return Ok(Claim::Won);
    }
    let (holder, until_ms, outcome, detail, done_at): (String, i64, Option<String>, Option<String>, Option<i64>) =
        sqlx::query_as(
            "SELECT holder, lease_until, outcome, detail, done_at FROM reminder_claims
             WHERE shop_id = $1 AND reminder_id = $2",
        )
        .bind(shop.to_string())
        .bind(reminder.to_string())
        .fetch_one(&mut *conn)
        .await?;
    match outcome {
        Some(o) => Ok(Claim::Done(Outcome::from_columns(&o, detail, done_at)?)),
        None => Ok(Claim::Busy { holder: uuid(&holder)?, until_ms }),
    }
}

/// Records what became of a reminder, whoever holds its claim now: a transport that accepted
/// the message is the fact, even when the lease ran out during a slow send. Returns the
/// outcome recorded before, if another process finished it first (then nothing changes).
pub(crate) async fn finish_reminder(
    conn: &mut AnyConnection,
    shop: Uuid,
    reminder: Uuid,
    outcome: &Outcome,
) -> Result<Option<Outcome>> {
    let (state, detail, at_ms) = outcome.columns();
    let done = sqlx::query(
        "UPDATE reminder_claims SET outcome = $3, detail = $4, done_at = $5
         WHERE shop_id = $1 AND reminder_id = $2 AND outcome IS NULL",
    )
    .bind(shop.to_string())
    .bind(reminder.to_string())
    .bind(state)
    .bind(detail)
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(None);
    }
    let row: Option<(Option<String>, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT outcome, detail, done_at FROM reminder_claims WHERE shop_id = $1 AND reminder_id = $2")
            .bind(shop.to_string())
            .bind(reminder.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some((Some(o), detail, at)) => Ok(Some(Outcome::from_columns(&o, detail, at)?)),
        _ => Err(Error::Internal(format!("reminder {reminder} was finished without being claimed"))),
    }
}

/// Gives the reminder back before its lease ends (it was cancelled at the last check, or the
/// transport asked to come back later), so any process may take it at once.
pub(crate) async fn release_reminder(conn: &mut AnyConnection, shop: Uuid, reminder: Uuid, holder: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE reminder_claims SET lease_until = 0
         WHERE shop_id = $1 AND reminder_id = $2 AND holder = $3 AND outcome IS NULL",
    )
    .bind(shop.to_string())
    .bind(reminder.to_string())
    .bind(holder.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the shop's reminder run for `day` (the dispatcher's local date, `YYYY-MM-DD`).
pub(crate) async fn claim_ladder_run(
    conn: &mut AnyConnection,
    shop: Uuid,
    day: &str,
    holder: Uuid,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Claim<()>> {
    let taken = sqlx::query(
        "INSERT INTO ladder_runs (shop_id, day, holder, lease_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (shop_id, day) DO UPDATE
         SET holder = excluded.holder, lease_until = excluded.lease_until,
             taken_from = CASE WHEN ladder_runs.holder = excluded.holder THEN ladder_runs.taken_from
                               ELSE ladder_runs.holder END
         WHERE ladder_runs.done_at IS NULL
           AND (ladder_runs.lease_until <= $5 OR ladder_runs.holder = excluded.holder)",
    )
    .bind(shop.to_string())
    .bind(day)
    .bind(holder.to_string())
    .bind(now_ms.saturating_add(lease_ms))
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() > 0 {
        return Ok(Claim::Won);
    }
    let (holder, until_ms, done_at): (String, i64, Option<i64>) =
        sqlx::query_as("SELECT holder, lease_until, done_at FROM ladder_runs WHERE shop_id = $1 AND day = $2")
            .bind(shop.to_string())
            .bind(day)
            .fetch_one(&mut *conn)
            .await?;
    match done_at {
        Some(_) => Ok(Claim::Done(())),
        None => Ok(Claim::Busy { holder: uuid(&holder)?, until_ms }),
    }
}

/// Extends `holder`'s lease on the day's run; false when another process took it over
/// meanwhile (this one's lease ran out).
pub(crate) async fn renew_ladder_run(
    conn: &mut AnyConnection,
    shop: Uuid,
    day: &str,
    holder: Uuid,
    now_ms: i64,
    lease_ms: i64,
) -> Result<bool> {
    let renewed = sqlx::query(
        "UPDATE ladder_runs SET lease_until = $4
         WHERE shop_id = $1 AND day = $2 AND holder = $3 AND done_at IS NULL",
    )
    .bind(shop.to_string())
    .bind(day)
    .bind(holder.to_string())
    .bind(now_ms.saturating_add(lease_ms))
    .execute(&mut *conn)
    .await?;
    Ok(renewed.rows_affected() > 0)
}

/// Whether another process ever took a day's run over from `holder` (its lease ran out
/// before the run was in the log).
pub(crate) async fn ladder_run_taken_from(conn: &mut AnyConnection, shop: Uuid, holder: Uuid) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ladder_runs WHERE shop_id = $1 AND taken_from = $2")
        .bind(shop.to_string())
        .bind(holder.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// The day's run is in the shop's log: no process runs it again.
pub(crate) async fn finish_ladder_run(conn: &mut AnyConnection, shop: Uuid, day: &str, now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE ladder_runs SET done_at = $3 WHERE shop_id = $1 AND day = $2 AND done_at IS NULL")
        .bind(shop.to_string())
        .bind(day)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Db {
    pub async fn claim_reminder(
        &self,
        shop: Uuid,
        reminder: Uuid,
        holder: Uuid,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claim<Outcome>> {
        claim_reminder(&mut *self.conn().await?, shop, reminder, holder, now_ms, lease_ms).await
    }

    pub async fn finish_reminder(&self, shop: Uuid, reminder: Uuid, outcome: &Outcome) -> Result<Option<Outcome>> {
        finish_reminder(&mut *self.conn().await?, shop, reminder, outcome).await
    }

    pub async fn release_reminder(&self, shop: Uuid, reminder: Uuid, holder: Uuid) -> Result<()> {
        release_reminder(&mut *self.conn().await?, shop, reminder, holder).await
    }

    pub async fn claim_ladder_run(
        &self,
        shop: Uuid,
        day: &str,
        holder: Uuid,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claim<()>> {
        claim_ladder_run(&mut *self.conn().await?, shop, day, holder, now_ms, lease_ms).await
    }

    pub async fn finish_ladder_run(&self, shop: Uuid, day: &str, now_ms: i64) -> Result<()> {
        finish_ladder_run(&mut *self.conn().await?, shop, day, now_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn shop(db: &Db) -> Uuid {
        super::super::shops::create(&mut db.conn().await.unwrap(), "Claims", 0).await.unwrap()
    }

    #[tokio::test]
    async fn a_restarted_holder_takes_its_own_lease_back() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let shop = shop(&db).await;
        let (r, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(db.claim_reminder(shop, r, a, 1_000, 60_000).await.unwrap(), Claim::Won);
        assert_eq!(db.claim_reminder(shop, r, a, 2_000, 60_000).await.unwrap(), Claim::Won);
        // The second claim moved the lease on, so another process still waits after the first's end.
        assert_eq!(
            db.claim_reminder(shop, r, b, 61_500, 60_000).await.unwrap(),
            Claim::Busy { holder: a, until_ms: 62_000 }
        );
    }

    #[tokio::test]
    async fn a_released_reminder_is_free_at_once() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let shop = shop(&db).await;
        let (r, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(db.claim_reminder(shop, r, a, 1_000, 60_000).await.unwrap(), Claim::Won);
        // Only the holder can give it back.
        db.release_reminder(shop, r, b).await.unwrap();
        assert!(matches!(db.claim_reminder(shop, r, b, 2_000, 60_000).await.unwrap(), Claim::Busy { .. }));
        db.release_reminder(shop, r, a).await.unwrap();
        assert_eq!(db.claim_reminder(shop, r, b, 2_000, 60_000).await.unwrap(), Claim::Won);
    }

    #[tokio::test]
    async fn the_first_outcome_stays() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let shop = shop(&db).await;
        let (r, a) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(db.claim_reminder(shop, r, a, 1_000, 60_000).await.unwrap(), Claim::Won);
        let sent = Outcome::Sent { at_ms: 1_500, detail: "<r@shop.fr>".into() };
        assert_eq!(db.finish_reminder(shop, r, &sent).await.unwrap(), None);
        let failed = Outcome::Failed { at_ms: 1_600, reason: "late".into() };
        assert_eq!(db.finish_reminder(shop, r, &failed).await.unwrap(), Some(sent));
    }
}
