-- The store's secret (Store::secret_key): 32 random bytes made once, here,
-- and kept with the data. The Hub keys the digests of client-chosen ids'
-- requests with it. `gen_random_uuid()` draws from the server's strong
-- random source; two of them give 244 random bits.
CREATE TABLE secret_key (
    id  boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (id),
    key bytea   NOT NULL CHECK (length(key) = 32)
);
INSERT INTO secret_key (key)
    VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
