-- One companion for many portals (a Market application). Every portal that installed the app
-- is a row here; attempts say which portal they belong to ('' is the portal configured in the
-- file: webhook or single-portal OAuth deployments), so a payment id of one portal can never
-- block, verify or pay a payment of another.

CREATE TABLE portals (
    -- The platform's id of the portal (auth[member_id]); never changes, even when it moves.
    member_id        TEXT PRIMARY KEY,
    -- Ours, random, in the widget's URL (/p/{public_id}/): the member_id is not published.
    public_id        TEXT NOT NULL UNIQUE,
    -- host[:port] as the platform names it, and the origin the widget accepts messages from.
    domain           TEXT NOT NULL,
    origin           TEXT NOT NULL,
    -- Where REST calls go (https://portal/rest/), from the platform's token answers.
    client_endpoint  TEXT NOT NULL,
    -- A keyed hash (master key's app-token subkey) of auth[application_token]: events are
    -- checked against it; NULL when the install came through the install page only.
    app_token_hash   TEXT,
    -- The OAuth tokens, sealed like the single portal's; NULL once uninstalled.
    tokens           TEXT,
    state            TEXT NOT NULL,
    installed_at     INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    uninstalled_at   INTEGER
);

ALTER TABLE attempts ADD COLUMN portal TEXT NOT NULL DEFAULT '';

DROP INDEX attempts_one_live_per_payment;
CREATE UNIQUE INDEX attempts_one_live_per_payment
    ON attempts (portal, paysystem_id, payment_id)
    WHERE state IN ('processing', 'requires_action', 'unknown', 'succeeded');
DROP INDEX attempts_declines;
CREATE INDEX attempts_declines ON attempts (portal, paysystem_id, payment_id, updated_at)
    WHERE state = 'declined';
