-- The store's secret (Store::secret_key): 32 random bytes made once, here,
-- and kept with the data. The Hub keys the digests of client-chosen ids'
-- requests with it.
CREATE TABLE secret_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB    NOT NULL CHECK (length(key) = 32)
);
INSERT INTO secret_key (id, key) VALUES (1, randomblob(32));
