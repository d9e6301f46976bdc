-- The agency API: keys for agency systems, the events they can be told about, and the
-- signed webhook deliveries of those events.

-- A key is shown once; only its SHA-256 is kept. Scopes are space-separated.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_keys_agency ON api_keys(agency_id);

-- Where an agency wants events sent. The secret signs each delivery, so it is kept as is.
CREATE TABLE webhook_endpoints (
    id           INTEGER PRIMARY KEY,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    events       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    disabled_at  TEXT
);
CREATE INDEX webhook_endpoints_agency ON webhook_endpoints(agency_id);

-- Events are written by triggers in the transaction that made the change, so none is
-- lost or invented whichever code path (portal, bot, worker, console) made it.
CREATE TABLE api_events (
    id          INTEGER PRIMARY KEY,
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    kind        TEXT NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    object_id   INTEGER,
    detail      TEXT NOT NULL DEFAULT '',
    amount      BIGINT,
    at          TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    event_id         INTEGER NOT NULL REFERENCES api_events(id),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT,
    failed_at        TEXT,
    last_status      INTEGER,
    last_error       TEXT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TRIGGER api_events_payment AFTER INSERT ON postings
WHEN NEW.kind IN ('payment', 'refund', 'chargeback')
BEGIN
    INSERT INTO api_events (agency_id, kind, account_id, object_id, detail, amount, at)
    SELECT a.agency_id,
           CASE NEW.kind WHEN 'payment' THEN 'payment.received'
                         WHEN 'refund' THEN 'payment.refunded'
                         ELSE 'payment.charged_back' END,
           NEW.account_id, NEW.id, NEW.actor, abs(NEW.amount), NEW.posted_at
    FROM accounts a WHERE a.id = NEW.account_id;
END;

CREATE TRIGGER api_events_dispute_opened AFTER INSERT ON disputes
BEGIN
    INSERT INTO api_events (agency_id, kind, account_id, object_id, detail, at)
    SELECT a.agency_id, 'dispute.opened', NEW.account_id, NEW.id, NEW.reason, NEW.opened_at
    FROM accounts a WHERE a.id = NEW.account_id;
END;

CREATE TRIGGER api_events_dispute_answered AFTER UPDATE OF answered_at ON disputes
WHEN OLD.answered_at IS NULL AND NEW.answered_at IS NOT NULL
BEGIN
    INSERT INTO api_events (agency_id, kind, account_id, object_id, detail, at)
    SELECT a.agency_id, 'dispute.answered', NEW.account_id, NEW.id,
           coalesce(NEW.answer_kind, ''), NEW.answered_at
    FROM accounts a WHERE a.id = NEW.account_id;
END;

CREATE TRIGGER api_events_opt_out_new AFTER INSERT ON channel_consents
WHEN NEW.opted_out
BEGIN
    INSERT INTO api_events (agency_id, kind, account_id, detail, at)
    SELECT a.agency_id, 'consent.opted_out', NEW.account_id, NEW.channel, NEW.updated_at
    FROM accounts a WHERE a.id = NEW.account_id;
END;

CREATE TRIGGER api_events_opt_out_change AFTER UPDATE OF opted_out ON channel_consents
WHEN NEW.opted_out <> OLD.opted_out
BEGIN
    INSERT INTO api_events (agency_id, kind, account_id, detail, at)
    SELECT a.agency_id,
           CASE WHEN NEW.opted_out THEN 'consent.opted_out' ELSE 'consent.opted_in' END,
           NEW.account_id, NEW.channel, NEW.updated_at
    FROM accounts a WHERE a.id = NEW.account_id;
END;

-- One delivery per endpoint that wants the event, in the same transaction.
CREATE TRIGGER api_events_fan_out AFTER INSERT ON api_events
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, event_id, next_attempt_at)
    SELECT e.id, NEW.id, NEW.at FROM webhook_endpoints e
    WHERE e.agency_id = NEW.agency_id AND e.disabled_at IS NULL
      AND (' ' || e.events || ' ') LIKE ('% ' || NEW.kind || ' %');
END;
