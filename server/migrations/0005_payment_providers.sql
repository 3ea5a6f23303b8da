-- A shop's account with an online payment provider: its API key and the secrets its webhooks
-- are signed with (several, newline-separated, during a rotation). Kept on the server only:
-- never sent to a device, never logged.
CREATE TABLE payment_providers (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    provider TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    webhook_secrets TEXT NOT NULL,
    PRIMARY KEY (shop_id, provider)
);
