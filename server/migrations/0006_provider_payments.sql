-- The payments a provider reported and the back office recorded: whose they are and which
-- invoices they were for, so that a refund or a chargeback that names only the provider's
-- payment finds them. Written once per payment (the ledger entry's id derives from it).
CREATE TABLE provider_payments (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    provider TEXT NOT NULL,
    payment TEXT NOT NULL,
    customer TEXT NOT NULL,
    invoices TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (shop_id, provider, payment)
);
