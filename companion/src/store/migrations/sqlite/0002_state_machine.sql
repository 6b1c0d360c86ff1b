-- The attempt state machine made explicit (companion/src/payments/mod.rs draws it):
--   * `unknown`: the money may or may not have moved; blocks the payment until the reconciler
--     (or an operator) gets a final answer from the acquirer;
--   * every lease is fenced: `lease_epoch` grows with each lease granted, and a holder's write
--     carries the epoch it was given, so a stalled holder's late write changes nothing;
--   * `acquirer_ref` is recorded before the acquirer is asked to move money;
--   * `attempt_log` keeps every state change and portal call, so each charge can be explained
--     from the store afterwards.

ALTER TABLE attempts ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN acquirer_ref TEXT;
ALTER TABLE attempts ADD COLUMN action TEXT;
ALTER TABLE attempts ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attempts ADD COLUMN action_rounds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN session TEXT;
ALTER TABLE attempts ADD COLUMN note TEXT;
ALTER TABLE attempts ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN unknown_since INTEGER;
ALTER TABLE attempts ADD COLUMN review_at INTEGER;

-- The first version's test acquirer keyed its ledger by attempt id.
UPDATE attempts SET acquirer_ref = id;
UPDATE attempts SET action = '{"type":"code","code_length":' || challenge_code_length || '}'
WHERE state = 'requires_action' AND challenge_code_length IS NOT NULL;
ALTER TABLE attempts DROP COLUMN challenge_ref;
ALTER TABLE attempts DROP COLUMN challenge_code_length;

DROP INDEX attempts_one_live_per_payment;
CREATE UNIQUE INDEX attempts_one_live_per_payment
    ON attempts (paysystem_id, payment_id)
    WHERE state IN ('processing', 'requires_action', 'unknown', 'succeeded');
-- What the reconciler looks at.
CREATE INDEX attempts_unsettled ON attempts (state, lease_until)
    WHERE state IN ('processing', 'requires_action', 'unknown');
-- Declines per payment, for the cool-off.
CREATE INDEX attempts_declines ON attempts (paysystem_id, payment_id, updated_at)
    WHERE state = 'declined';

CREATE TABLE attempt_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    -- An attempt state, or `portal:<outbox state>` for the portal call.
    event      TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX attempt_log_by_attempt ON attempt_log (attempt_id, id);

CREATE TRIGGER attempts_log_insert AFTER INSERT ON attempts
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.id, NEW.created_at, NEW.state, NEW.note);
END;

CREATE TRIGGER attempts_log_update AFTER UPDATE OF state, note ON attempts
WHEN NEW.state IS NOT OLD.state OR NEW.note IS NOT OLD.note
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.note);
END;

-- The outbox: an explicit state (`pending`, `done`, or `dead` for a permanent refusal), claims
-- fenced like leases, and the time refusals began.
DROP TRIGGER outbox_done_notifies;
DROP INDEX outbox_due;
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
UPDATE outbox SET state = 'done' WHERE done = 1;
ALTER TABLE outbox DROP COLUMN done;
ALTER TABLE outbox ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN refused_since INTEGER;
ALTER TABLE outbox ADD COLUMN unsaved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';

CREATE TRIGGER outbox_done_notifies AFTER UPDATE OF state ON outbox
WHEN NEW.state = 'done' AND OLD.state <> 'done'
BEGIN
    UPDATE attempts SET portal_notified = 1, updated_at = NEW.done_at WHERE id = NEW.attempt_id;
END;

CREATE TRIGGER outbox_log AFTER UPDATE OF state, last_error ON outbox
WHEN NEW.state IS NOT OLD.state OR NEW.last_error IS NOT OLD.last_error
BEGIN
    INSERT INTO attempt_log (attempt_id, at, event, note)
    VALUES (NEW.attempt_id, NEW.updated_at, 'portal:' || NEW.state, NEW.last_error);
END;

-- The test acquirer's ledger, now with each charge's status (a real acquirer's records):
-- `approved`, `declined`, `failed`, `requires_action`, `canceled`.
CREATE TABLE test_acquirer_ledger (
    reference          TEXT PRIMARY KEY,
    merchant_reference TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    last4              TEXT NOT NULL,
    status             TEXT NOT NULL,
    transaction_id     TEXT,
    decline_code       TEXT,
    refunded_minor     INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
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
    amount_minor    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
