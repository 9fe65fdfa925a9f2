-- Readers' holds on the event log (Store::hold_events): the position after
-- which `holder` (a node's dispatcher, a durable consumer) still needs every
-- event, and until when by the server's clock (NULL: until released).
-- Retention never prunes past a live hold; a node that stops renewing its
-- hold (it died, it froze) stops holding the log back when it expires.
CREATE TABLE event_holds (
    holder     text        NOT NULL PRIMARY KEY,
    position   bigint      NOT NULL CHECK (position >= 0),
    expires_at timestamptz
);
