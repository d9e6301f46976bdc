-- A creditor's own reminder cadence and texts, replacing the agency's for that creditor's
-- accounts (creditors often want their own wording and rhythm).
CREATE TABLE creditor_cadences (
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    creditor    TEXT NOT NULL,
    cadence     TEXT NOT NULL,  -- domain::messaging::Cadence as JSON
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (agency_id, creditor)
);
