-- Portable across SQLite and PostgreSQL: BIGINT and TEXT only, uuids as text, times in
-- milliseconds since 1970 UTC.

CREATE TABLE shops (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    epoch TEXT NOT NULL,
    head BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- A device id is global: the same till cannot belong to two shops.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expected_seq BIGINT NOT NULL DEFAULT 1,
    enrolled_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_seen_at BIGINT
);
CREATE INDEX devices_by_shop ON devices (shop_id);

CREATE TABLE enrol_codes (
    code_hash TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE events (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    shop_seq BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (shop_id, shop_seq),
    UNIQUE (shop_id, event_id),
    UNIQUE (shop_id, device_id, device_seq)
);

-- One row per consumed-but-refused event: a device sequence is either here or in events.
CREATE TABLE rejections (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (shop_id, device_id, device_seq)
);

CREATE TABLE shop_customers (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    customer_id TEXT NOT NULL,
    PRIMARY KEY (shop_id, customer_id)
);
