-- The web pages (issue 19): owners' accounts, their set-up links and sessions, and the
-- customers' payment pages. Every secret is kept as its SHA-256 only; passwords as argon2id.

CREATE TABLE web_users (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    language TEXT NOT NULL DEFAULT 'fr',
    created_at BIGINT NOT NULL
);
CREATE INDEX web_users_by_shop ON web_users (shop_id);

CREATE TABLE web_setup_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES web_users (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES web_users (id),
    agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);

CREATE TABLE pay_pages (
    token_hash TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    customer_ref TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
