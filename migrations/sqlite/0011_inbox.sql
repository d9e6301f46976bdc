-- The console's inbox: free-text replies are assigned to an agent, answered through the
-- compliance engine (the answer's outbox row is linked) and closed, each step recorded.
ALTER TABLE inbound_messages ADD COLUMN assigned_to INTEGER REFERENCES agency_users(id);
ALTER TABLE inbound_messages ADD COLUMN assigned_at TEXT;
ALTER TABLE inbound_messages ADD COLUMN answered_by TEXT;
ALTER TABLE inbound_messages ADD COLUMN answered_at TEXT;
ALTER TABLE inbound_messages ADD COLUMN answer_outbox_id INTEGER REFERENCES outbox(id);
ALTER TABLE inbound_messages ADD COLUMN closed_by TEXT;
ALTER TABLE inbound_messages ADD COLUMN closed_at TEXT;
