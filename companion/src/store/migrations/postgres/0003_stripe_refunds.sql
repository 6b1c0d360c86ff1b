-- Stripe in the payment flow, and refunds (issue 11); see the SQLite twin of this migration
-- for the why of each change.

CREATE INDEX attempts_by_reference ON attempts (acquirer_ref) WHERE acquirer_ref IS NOT NULL;

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    attempt_id         TEXT NOT NULL REFERENCES attempts (id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    state              TEXT NOT NULL,
    origin             TEXT NOT NULL,
    acquirer_refund_id TEXT,
    note               TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX refunds_by_attempt ON refunds (attempt_id, created_at);
CREATE UNIQUE INDEX refunds_by_acquirer_id ON refunds (acquirer_refund_id)
    WHERE acquirer_refund_id IS NOT NULL;

CREATE FUNCTION b24pay_log_refund() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.attempt_id, NEW.created_at, 'refund:' || NEW.state, NEW.note);
    ELSIF NEW.state IS DISTINCT FROM OLD.state OR NEW.note IS DISTINCT FROM OLD.note THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.attempt_id, NEW.updated_at, 'refund:' || NEW.state, NEW.note);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER refunds_log AFTER INSERT OR UPDATE OF state, note ON refunds
FOR EACH ROW EXECUTE FUNCTION b24pay_log_refund();

ALTER TABLE outbox DROP CONSTRAINT outbox_attempt_id_key;
ALTER TABLE outbox ADD COLUMN refund_id TEXT REFERENCES refunds (id);
CREATE UNIQUE INDEX outbox_one_paid_call ON outbox (attempt_id) WHERE refund_id IS NULL;
CREATE UNIQUE INDEX outbox_one_call_per_refund ON outbox (refund_id) WHERE refund_id IS NOT NULL;
CREATE INDEX outbox_by_attempt ON outbox (attempt_id, id);

CREATE OR REPLACE FUNCTION b24pay_outbox_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'done' AND OLD.state <> 'done' AND NEW.refund_id IS NULL THEN
        UPDATE attempts SET portal_notified = TRUE, updated_at = NEW.done_at
        WHERE id = NEW.attempt_id;
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.last_error IS DISTINCT FROM OLD.last_error THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.attempt_id, NEW.updated_at,
            CASE WHEN NEW.refund_id IS NULL THEN 'portal:' ELSE 'portal(refund):' END || NEW.state,
            NEW.last_error);
    END IF;
    RETURN NEW;
END
$$;
