-- Optional two-step sign-in for agency users: the TOTP secret (base32; the server needs it
-- to check codes, so it cannot be hashed) and the last 30-second step accepted, so each
-- code signs in once.
ALTER TABLE agency_users ADD COLUMN totp_secret TEXT;
ALTER TABLE agency_users ADD COLUMN totp_last_step BIGINT;
