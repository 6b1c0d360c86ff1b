-- The attempt state machine made explicit (companion/src/payments/mod.rs draws it); see the
-- SQLite twin of this migration for the why of each change.

ALTER TABLE attempts ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN acquirer_ref TEXT;
ALTER TABLE attempts ADD COLUMN action TEXT;
ALTER TABLE attempts ADD COLUMN round BIGINT NOT NULL DEFAULT 1;
ALTER TABLE attempts ADD COLUMN action_rounds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN session TEXT;
ALTER TABLE attempts ADD COLUMN note TEXT;
ALTER TABLE attempts ADD COLUMN next_check_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN unknown_since BIGINT;
ALTER TABLE attempts ADD COLUMN review_at BIGINT;

UPDATE attempts SET acquirer_ref = id;
UPDATE attempts SET action = '{"type":"code","code_length":' || challenge_code_length || '}'
WHERE state = 'requires_action' AND challenge_code_length IS NOT NULL;
ALTER TABLE attempts DROP COLUMN challenge_ref;
ALTER TABLE attempts DROP COLUMN challenge_code_length;

DROP INDEX attempts_one_live_per_payment;
CREATE UNIQUE INDEX attempts_one_live_per_payment
    ON attempts (paysystem_id, payment_id)
    WHERE state IN ('processing', 'requires_action', 'unknown', 'succeeded');
CREATE INDEX attempts_unsettled ON attempts (state, lease_until)
    WHERE state IN ('processing', 'requires_action', 'unknown');
CREATE INDEX attempts_declines ON attempts (paysystem_id, payment_id, updated_at)
    WHERE state = 'declined';

CREATE TABLE attempt_log (
    id         BIGSERIAL PRIMARY KEY,
    attempt_id TEXT NOT NULL,
    at         BIGINT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX attempt_log_by_attempt ON attempt_log (attempt_id, id);

CREATE FUNCTION b24pay_log_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.id, NEW.created_at, NEW.state, NEW.note);
    ELSIF NEW.state IS DISTINCT FROM OLD.state OR NEW.note IS DISTINCT FROM OLD.note THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.note);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER attempts_log AFTER INSERT OR UPDATE OF state, note ON attempts
FOR EACH ROW EXECUTE FUNCTION b24pay_log_attempt();

DROP TRIGGER outbox_done_notifies ON outbox;
DROP FUNCTION b24pay_mark_notified();
DROP INDEX outbox_due;
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
UPDATE outbox SET state = 'done' WHERE done;
ALTER TABLE outbox DROP COLUMN done;
ALTER TABLE outbox ADD COLUMN claim_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN refused_since BIGINT;
ALTER TABLE outbox ADD COLUMN unsaved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';

CREATE FUNCTION b24pay_outbox_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'done' AND OLD.state <> 'done' THEN
        UPDATE attempts SET portal_notified = TRUE, updated_at = NEW.done_at
        WHERE id = NEW.attempt_id;
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.last_error IS DISTINCT FROM OLD.last_error THEN
        INSERT INTO attempt_log (attempt_id, at, event, note)
        VALUES (NEW.attempt_id, NEW.updated_at, 'portal:' || NEW.state, NEW.last_error);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER outbox_changed AFTER UPDATE OF state, last_error ON outbox
FOR EACH ROW EXECUTE FUNCTION b24pay_outbox_changed();

CREATE TABLE test_acquirer_ledger (
    reference          TEXT PRIMARY KEY,
    merchant_reference TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    last4              TEXT NOT NULL,
    status             TEXT NOT NULL,
    transaction_id     TEXT,
    decline_code       TEXT,
    refunded_minor     BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
INSERT INTO test_acquirer_ledger (reference, merchant_reference, amount_minor, currency, last4,
    status, transaction_id, created_at, updated_at)
SELECT idempotency_key, reference, amount_minor, currency, last4, 'approved', transaction_id,
    created_at, created_at
FROM test_acquirer_charges;
DROP TABLE test_acquirer_charges;
CREATE INDEX test_acquirer_ledger_merchant ON test_acquirer_ledger (merchant_reference)
    WHERE status = 'approved';

CREATE TABLE test_acquirer_refunds (
    idempotency_key TEXT PRIMARY KEY,
    reference       TEXT NOT NULL,
    refund_id       TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
