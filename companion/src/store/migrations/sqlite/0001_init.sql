-- Server-wide values: the fingerprint key, persisted OAuth tokens.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per payment attempt (one confirm request's idempotency key).
CREATE TABLE attempts (
    id                    TEXT PRIMARY KEY,
    idempotency_key       TEXT NOT NULL UNIQUE,
    fingerprint           TEXT NOT NULL,
    payment_id            TEXT NOT NULL,
    paysystem_id          TEXT NOT NULL,
    state                 TEXT NOT NULL,
    decline_code          TEXT,
    amount_minor          INTEGER NOT NULL,
    currency              TEXT NOT NULL,
    brand                 TEXT NOT NULL,
    last4                 TEXT NOT NULL,
    registry              TEXT NOT NULL,
    acquirer              TEXT NOT NULL,
    order_id              TEXT,
    transaction_id        TEXT,
    challenge_ref         TEXT,
    challenge_code_length INTEGER,
    challenge_key         TEXT,
    challenge_fingerprint TEXT,
    outbox_payload        TEXT,
    portal_notified       INTEGER NOT NULL DEFAULT 0,
    lease_until           INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- The exactly-once guarantee lives here, not in process memory: a portal payment has at most one
-- attempt that is in flight, waiting for its challenge, or charged — across every instance.
CREATE UNIQUE INDEX attempts_one_live_per_payment
    ON attempts (paysystem_id, payment_id)
    WHERE state IN ('processing', 'requires_action', 'succeeded');

-- Portal calls owed after a charge, written in the same transaction as the charge's record.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id     TEXT NOT NULL UNIQUE REFERENCES attempts (id),
    payload        TEXT NOT NULL,
    done           INTEGER NOT NULL DEFAULT 0,
    tries          INTEGER NOT NULL DEFAULT 0,
    clean_failures INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    lease_until    INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     INTEGER NOT NULL,
    done_at        INTEGER
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE done = 0;

-- The built-in test acquirer's own ledger: what a real acquirer remembers per idempotency key.
CREATE TABLE test_acquirer_charges (
    idempotency_key TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    last4           TEXT NOT NULL,
    reference       TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX test_acquirer_charges_reference ON test_acquirer_charges (reference);

-- Recording a success enqueues its portal call in the same statement (so in the same
-- transaction); marking the call delivered flags the attempt. One statement each for the hot
-- path instead of a multi-statement transaction.
CREATE TRIGGER attempts_succeeded_enqueue AFTER UPDATE OF state ON attempts
WHEN NEW.state = 'succeeded' AND OLD.state <> 'succeeded'
BEGIN
    INSERT INTO outbox (attempt_id, payload, next_at, created_at)
    VALUES (NEW.id, NEW.outbox_payload, NEW.updated_at, NEW.updated_at);
END;

CREATE TRIGGER outbox_done_notifies AFTER UPDATE OF done ON outbox
WHEN NEW.done = 1 AND OLD.done = 0
BEGIN
    UPDATE attempts SET portal_notified = 1, updated_at = NEW.done_at WHERE id = NEW.attempt_id;
END;
