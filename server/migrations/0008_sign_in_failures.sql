-- Failed sign-ins to the web pages, per account and per address, shared by every server process
-- on this database (a limit kept in one process's memory let each process grant its own tries).
-- The key is the SHA-256 of "account:<email>" or "address:<ip>": no email or address in clear.
CREATE TABLE web_sign_in_failures (
    key_hash TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX web_sign_in_failures_by_key ON web_sign_in_failures (key_hash, at);
