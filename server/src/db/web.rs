//! The web pages' rows: owners (one shop each), their one-time set-up links, their sessions,
//! and the customers' payment pages. Only hashes of the secrets are kept, so a copy of the
//! database opens no session and no page.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Db, now_ms, time_of, uuid};
use crate::error::{ApiError, Result};

/// An owner's account as the login reads it.
#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub shop: Uuid,
    pub email: String,
    pub language: String,
    /// argon2id PHC string; `None` until the set-up link was used.
    pub password_hash: Option<String>,
}

/// A signed-in session, as the Sessions page lists it.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: Uuid,
    pub agent: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub seen_at: chrono::DateTime<chrono::Utc>,
}

type UserRow = (String, String, String, String, Option<String>);

fn user_of(r: UserRow) -> Result<User> {
    Ok(User { id: uuid(&r.0)?, shop: uuid(&r.1)?, email: r.2, language: r.3, password_hash: r.4 })
}

const USER_COLUMNS: &str = "u.id, u.shop_id, u.email, u.language, u.password_hash";

/// Emails are compared as typed, less case and surrounding spaces.
pub fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Db {
    /// Adds the owner `email` to `shop` (or finds them again, to reset a forgotten password) and
    /// stores a set-up link's hash valid until `expires_at` (ms). An email already used by
    /// another shop is refused: one login names one shop.
    pub async fn add_user(
        &self,
        shop: Uuid,
        email: &str,
        language: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<Uuid> {
        let email = normal_email(email);
        if !email.contains('@') || email.len() > 254 {
            return Err(ApiError::malformed("an email address is needed").into());
        }
        let mut tx = self.begin_write().await?;
        super::shops::get(&mut tx, shop).await?;
        let found: Option<(String, String)> = sqlx::query_as("SELECT id, shop_id FROM web_users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match found {
            Some((_, other)) if other != shop.to_string() => {
                return Err(ApiError::malformed("this email signs in to another shop").into());
            }
            Some((id, _)) => uuid(&id)?,
            None => {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO web_users (id, shop_id, email, password_hash, language, created_at)
                     VALUES ($1, $2, $3, NULL, $4, $5)",
                )
                .bind(id.to_string())
                .bind(shop.to_string())
                .bind(&email)
                .bind(language)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        sqlx::query(
            "INSERT INTO web_setup_tokens (token_hash, user_id, expires_at, used_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(token_hash)
        .bind(id.to_string())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The owner a set-up link is for, if it is unused and unexpired (read only).
    pub async fn setup_user(&self, token_hash: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM web_setup_tokens t JOIN web_users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2"
        )))
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(user_of).transpose()
    }

    /// Spends the set-up link and sets the password, at once: a link works once. Every session
    /// of the owner ends (a reset after a stolen password must shut the thief out).
    pub async fn finish_setup(&self, token_hash: &str, password_hash: &str) -> Result<Option<User>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let Some(user) = setup_in(&mut tx, token_hash, now).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE web_setup_tokens SET used_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE web_users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE web_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM web_users u WHERE u.email = $1")))
                .bind(normal_email(email))
                .fetch_optional(&mut *self.conn().await?)
                .await?;
        row.map(user_of).transpose()
    }

    pub async fn set_user_language(&self, user: Uuid, language: &str) -> Result<()> {
        sqlx::query("UPDATE web_users SET language = $1 WHERE id = $2")
            .bind(language)
            .bind(user.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    /// A new session; the owner's ended and expired ones are dropped on the way, so the table
    /// holds live sessions only.
    pub async fn insert_session(&self, user: Uuid, token_hash: &str, agent: &str, expires_at: i64) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let now = now_ms();
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1 AND (revoked_at IS NOT NULL OR expires_at <= $2)")
            .bind(user.to_string())
            .bind(now)
            .execute(&mut *self.conn().await?)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id, token_hash, user_id, agent, created_at, seen_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $5, $6, NULL)",
        )
        .bind(id.to_string())
        .bind(token_hash)
        .bind(user.to_string())
        .bind(agent)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(id)
    }

    /// The session's id and owner when the session is live; marks it seen.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(Uuid, User)>> {
        let now = now_ms();
        let mut conn = self.conn().await?;
        let row: Option<(String, String, String, String, String, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT s.id, {USER_COLUMNS} FROM web_sessions s JOIN web_users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2"
            )))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((sid, a, b, c, d, e)) = row else { return Ok(None) };
        sqlx::query("UPDATE web_sessions SET seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&sid)
            .execute(&mut *conn)
            .await?;
        Ok(Some((uuid(&sid)?, user_of((a, b, c, d, e))?)))
    }

    /// The owner's live sessions, most recently seen first.
    pub async fn sessions(&self, user: Uuid) -> Result<Vec<SessionInfo>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, agent, created_at, seen_at FROM web_sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY seen_at DESC",
        )
        .bind(user.to_string())
        .bind(now_ms())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.into_iter()
            .map(|(id, agent, c, s)| {
                Ok(SessionInfo { id: uuid(&id)?, agent, created_at: time_of(c), seen_at: time_of(s) })
            })
            .collect()
    }

    /// Ends one of the owner's own sessions; false when it is not theirs or already ended.
    pub async fn revoke_session(&self, user: Uuid, session: Uuid) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE web_sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(session.to_string())
        .bind(user.to_string())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A customer's payment page, valid until `expires_at` (ms).
    pub async fn add_pay_page(&self, shop: Uuid, customer: &str, token_hash: &str, expires_at: i64) -> Result<()> {
        let mut conn = self.conn().await?;
        super::shops::get(&mut conn, shop).await?;
        sqlx::query(
            "INSERT INTO pay_pages (token_hash, shop_id, customer_ref, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(token_hash)
        .bind(shop.to_string())
        .bind(customer)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The shop and customer a live payment page is for.
    pub async fn pay_page(&self, token_hash: &str) -> Result<Option<(Uuid, String)>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT shop_id, customer_ref FROM pay_pages
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|(s, c)| Ok((uuid(&s)?, c))).transpose()
    }

    /// Ends every payment page of a customer; how many were live.
    pub async fn revoke_pay_pages(&self, shop: Uuid, customer: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE pay_pages SET revoked_at = $1 WHERE shop_id = $2 AND customer_ref = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(shop.to_string())
        .bind(customer)
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(done.rows_affected())
    }
}

async fn setup_in(conn: &mut AnyConnection, token_hash: &str, now: i64) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM web_setup_tokens t JOIN web_users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2"
    )))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(user_of).transpose()
}
