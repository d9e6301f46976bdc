-- The console's inbox: free-text replies are assigned to an agent, answered through the
-- compliance engine (the answer's outbox row is linked) and closed, each step recorded.
ALTER TABLE inbound_messages ADD COLUMN assigned_to BIGINT REFERENCES agency_users(id);
ALTER TABLE inbound_messages ADD COLUMN assigned_at TIMESTAMPTZ;
ALTER TABLE inbound_messages ADD COLUMN answered_by TEXT;
ALTER TABLE inbound_messages ADD COLUMN answered_at TIMESTAMPTZ;
ALTER TABLE inbound_messages ADD COLUMN answer_outbox_id BIGINT REFERENCES outbox(id);
ALTER TABLE inbound_messages ADD COLUMN closed_by TEXT;
ALTER TABLE inbound_messages ADD COLUMN closed_at TIMESTAMPTZ;
