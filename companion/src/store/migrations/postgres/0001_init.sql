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
    amount_minor          BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    brand                 TEXT NOT NULL,
    last4                 TEXT NOT NULL,
    registry              TEXT NOT NULL,
    acquirer              TEXT NOT NULL,
    order_id              TEXT,
    transaction_id        TEXT,
    challenge_ref         TEXT,
    challenge_code_length BIGINT,
    challenge_key         TEXT,
    challenge_fingerprint TEXT,
    outbox_payload        TEXT,
    portal_notified       BOOLEAN NOT NULL DEFAULT FALSE,
    lease_until           BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

-- The exactly-once guarantee lives here, not in process memory: a portal payment has at most one
-- attempt that is in flight, waiting for its challenge, or charged — across every instance.
CREATE UNIQUE INDEX attempts_one_live_per_payment
    ON attempts (paysystem_id, payment_id)
    WHERE state IN ('processing', 'requires_action', 'succeeded');

-- Portal calls owed after a charge, written in the same transaction as the charge's record.
CREATE TABLE outbox (
    id             BIGSERIAL PRIMARY KEY,
    attempt_id     TEXT NOT NULL UNIQUE REFERENCES attempts (id),
    payload        TEXT NOT NULL,
    done           BOOLEAN NOT NULL DEFAULT FALSE,
    tries          BIGINT NOT NULL DEFAULT 0,
    clean_failures BIGINT NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL,
    lease_until    BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     BIGINT NOT NULL,
    done_at        BIGINT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE NOT done;

-- The built-in test acquirer's own ledger: what a real acquirer remembers per idempotency key.
CREATE TABLE test_acquirer_charges (
    idempotency_key TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    last4           TEXT NOT NULL,
    reference       TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX test_acquirer_charges_reference ON test_acquirer_charges (reference);

-- Recording a success enqueues its portal call in the same statement (so in the same
-- transaction); marking the call delivered flags the attempt.
CREATE FUNCTION b24pay_enqueue_success() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (attempt_id, payload, next_at, created_at)
    VALUES (NEW.id, NEW.outbox_payload, NEW.updated_at, NEW.updated_at);
    RETURN NEW;
END
$$;

CREATE TRIGGER attempts_succeeded_enqueue AFTER UPDATE OF state ON attempts
FOR EACH ROW WHEN (NEW.state = 'succeeded' AND OLD.state <> 'succeeded')
EXECUTE FUNCTION b24pay_enqueue_success();

CREATE FUNCTION b24pay_mark_notified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attempts SET portal_notified = TRUE, updated_at = NEW.done_at WHERE id = NEW.attempt_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_done_notifies AFTER UPDATE OF done ON outbox
FOR EACH ROW WHEN (NEW.done AND NOT OLD.done)
EXECUTE FUNCTION b24pay_mark_notified();
