-- Stripe in the payment flow, and refunds (issue 11):
--   * a webhook names a charge by the acquirer's reference: attempts are found by it;
--   * `refunds`: one row per refund of a charged attempt (asked for with `b24pay refund`, or
--     made at the acquirer and learned from its records), recorded before the acquirer is asked
--     to move money back; every change is a line of the attempt's history;
--   * the outbox also carries a portal call per refund (the paid payment's status text), so
--     `attempt_id` is no longer unique there: one paid call per attempt, one call per refund.
--     SQLite cannot drop a column's UNIQUE, so the table is rebuilt (same ids, same rows).

CREATE INDEX attempts_by_reference ON attempts (acquirer_ref) WHERE acquirer_ref IS NOT NULL;

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    attempt_id         TEXT NOT NULL REFERENCES attempts (id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    amount_minor       INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    -- requested | pending | succeeded | failed (see store/refund.rs)
    state              TEXT NOT NULL,
    -- operator (b24pay refund) | acquirer (made outside b24pay)
    origin             TEXT NOT NULL,
    acquirer_refund_id TEXT,
    note               TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX refunds_by_attempt ON refunds (attempt_id, created_at);
CREATE UNIQUE INDEX refunds_by_acquirer_id ON refunds (acquirer_refund_id)
    WHERE acquirer_refund_id IS NOT NULL;

CREATE TRIGGER refunds_log_insert AFTER INSERT ON refunds
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.attempt_id, NEW.created_at, 'refund:' || NEW.state, NEW.note);
END;

CREATE TRIGGER refunds_log_update AFTER UPDATE OF state, note ON refunds
WHEN NEW.state IS NOT OLD.state OR NEW.note IS NOT OLD.note
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.attempt_id, NEW.updated_at, 'refund:' || NEW.state, NEW.note);
END;

-- The trigger on attempts writes into the outbox: out of the way while the table is rebuilt.
DROP TRIGGER attempts_succeeded_enqueue;
DROP TRIGGER outbox_done_notifies;
DROP TRIGGER outbox_log;
DROP INDEX outbox_due;

CREATE TABLE outbox_v3 (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id     TEXT NOT NULL REFERENCES attempts (id),
    -- NULL: the charge's own pay.payment; else the refund whose status this call writes.
    refund_id      TEXT REFERENCES refunds (id),
    payload        TEXT NOT NULL,
    tries          INTEGER NOT NULL DEFAULT 0,
    clean_failures INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    lease_until    INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     INTEGER NOT NULL,
    done_at        INTEGER,
    state          TEXT NOT NULL DEFAULT 'pending',
    claim_epoch    INTEGER NOT NULL DEFAULT 0,
    refused_since  INTEGER,
    unsaved        INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_v3 (id, attempt_id, payload, tries, clean_failures, next_at, lease_until,
    last_error, created_at, done_at, state, claim_epoch, refused_since, unsaved, updated_at)
SELECT id, attempt_id, payload, tries, clean_failures, next_at, lease_until, last_error,
    created_at, done_at, state, claim_epoch, refused_since, unsaved, updated_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;

CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
CREATE UNIQUE INDEX outbox_one_paid_call ON outbox (attempt_id) WHERE refund_id IS NULL;
CREATE UNIQUE INDEX outbox_one_call_per_refund ON outbox (refund_id) WHERE refund_id IS NOT NULL;
-- One attempt's calls go out in order (a refund's status after the paid call).
CREATE INDEX outbox_by_attempt ON outbox (attempt_id, id);

CREATE TRIGGER attempts_succeeded_enqueue AFTER UPDATE OF state ON attempts
WHEN NEW.state = 'succeeded' AND OLD.state <> 'succeeded'
BEGIN
    INSERT INTO outbox (attempt_id, payload, next_at, created_at)
    VALUES (NEW.id, NEW.outbox_payload, NEW.updated_at, NEW.updated_at);
END;

CREATE TRIGGER outbox_done_notifies AFTER UPDATE OF state ON outbox
WHEN NEW.state = 'done' AND OLD.state <> 'done' AND NEW.refund_id IS NULL
BEGIN
    UPDATE attempts SET portal_notified = 1, updated_at = NEW.done_at WHERE id = NEW.attempt_id;
END;

CREATE TRIGGER outbox_log AFTER UPDATE OF state, last_error ON outbox
WHEN NEW.state IS NOT OLD.state OR NEW.last_error IS NOT OLD.last_error
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.attempt_id, NEW.updated_at,
        CASE WHEN NEW.refund_id IS NULL THEN 'portal:' ELSE 'portal(refund):' END || NEW.state,
        NEW.last_error);
END;
