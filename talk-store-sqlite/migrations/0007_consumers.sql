-- Durable consumers (Store::claim_consumer): a named cursor on the event
-- log, the `seq` through which `name` acknowledged events, and the owner
-- whose lease on it lives until `expires_at` (unix time in milliseconds).
-- Retention never prunes past a consumer's cursor.
CREATE TABLE consumers (
    name       TEXT    PRIMARY KEY,
    cursor     INTEGER NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
