-- Durable consumers (Store::claim_consumer): a named cursor on the event
-- log, the `seq` through which `name` acknowledged events, and the owner
-- (one node's handle) whose lease on it lives until `expires_at` by the
-- server's clock: one node at a time delivers a consumer's events, and
-- another takes over once the owner stops renewing. Retention never prunes
-- past a consumer's cursor.
CREATE TABLE consumers (
    name       text        NOT NULL PRIMARY KEY,
    cursor     bigint      NOT NULL CHECK (cursor >= 0),
    owner      text        NOT NULL,
    expires_at timestamptz NOT NULL
);
