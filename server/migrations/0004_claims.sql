-- Several server processes on one database (hosts behind a load balancer) each keep their own
-- merged copy of a shop; these rows are what they agree on, so that a reminder leaves once
-- and a day's reminder run (which queues reminders and charges fees) happens once.
-- A claim is held until `lease_until` (ms): a process that dies holding one is replaced when
-- the lease runs out. `holder` is the merged copy's device id, which survives a restart, so a
-- restarted process takes its own lease back at once.

-- One row per reminder a process set out to send. `outcome` is NULL while it is being sent,
-- then 'sent' (with `detail`, the transport's proof) or 'failed' (with why): a reminder with
-- an outcome is never sent again.
CREATE TABLE reminder_claims (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    reminder_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 1,
    outcome TEXT,
    detail TEXT,
    done_at BIGINT,
    PRIMARY KEY (shop_id, reminder_id)
);

-- One row per shop and day whose reminder run a process took on; `done_at` once its
-- reminders are in the shop's log. `taken_from` is the holder whose lease ran out before it
-- finished: that process's copy may hold a run the log never got, which must not reach it.
CREATE TABLE ladder_runs (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    day TEXT NOT NULL,
    holder TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    taken_from TEXT,
    done_at BIGINT,
    PRIMARY KEY (shop_id, day)
);
