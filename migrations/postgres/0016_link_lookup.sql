-- Links are found by the first 8 bytes of their token's SHA-256, read as a big-endian
-- signed integer, and then matched on the whole digest: the unique index on the
-- 64-character digest took keys in random order and was five times the size.
ALTER TABLE portal_links ADD COLUMN token_lookup BIGINT;
UPDATE portal_links SET token_lookup = ('x' || substr(token_hash, 1, 16))::bit(64)::bigint;
ALTER TABLE portal_links ALTER COLUMN token_lookup SET NOT NULL;
ALTER TABLE portal_links DROP CONSTRAINT portal_links_token_hash_key;
CREATE INDEX portal_links_lookup ON portal_links(token_lookup);
