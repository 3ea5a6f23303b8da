-- The stable payment links reminders carry (`/r/{token}`): a provider's session expires within a
-- day, a reminder is read days later. Each row remembers what the reminder asked, so that the
-- link makes a fresh session when it is opened, for no more than the customer still owes.
-- Only the token's SHA-256 is kept: a copy of the database opens no link.
CREATE TABLE reminder_links (
    token_hash TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    customer_ref TEXT NOT NULL,
    reminder_id TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    invoices TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
