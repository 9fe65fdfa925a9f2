-- Readers' holds on the event log (Store::hold_events): the position after
-- which `holder` still needs every event, and until when (unix time in
-- milliseconds; NULL: until released). Retention never prunes past a live
-- hold.
CREATE TABLE event_holds (
    holder     TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    expires_at INTEGER
);
