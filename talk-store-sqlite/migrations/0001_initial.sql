-- 0001: the initial schema.
--
-- Conventions: ids of talks, participants and messages are 16-byte UUID
-- BLOBs; agent ids and emoji are TEXT; enums are their snake_case names;
-- timestamps are INTEGER nanoseconds since the Unix epoch (UTC); every `seq`
-- is the number of an event in `events`. Every list is keyset on a `seq`,
-- and each has an index below that answers it without sorting.

-- Talks. `member_count` and `version` are written by the Hub in the row.
CREATE TABLE talks (
    id           BLOB    NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL,
    pair_low     TEXT,               -- direct talks: the pair of agents, sorted
    pair_high    TEXT,
    name         TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    creator_id   TEXT    NOT NULL,
    member_count INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    created_seq  INTEGER NOT NULL,
    tm_create    INTEGER NOT NULL,
    tm_update    INTEGER NOT NULL,
    tm_close     INTEGER
);
-- One direct talk per unordered pair of agents, ever (talks are never deleted).
CREATE UNIQUE INDEX talks_direct_pair ON talks (pair_low, pair_high) WHERE pair_low IS NOT NULL;

-- Participant records: one agent's membership span in one talk.
CREATE TABLE participants (
    id          BLOB    NOT NULL PRIMARY KEY,
    talk_id     BLOB    NOT NULL,
    agent_id    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    left_reason TEXT,
    seq         INTEGER NOT NULL,
    joined_seq  INTEGER NOT NULL,
    left_seq    INTEGER,
    talk_seq    INTEGER NOT NULL,    -- the talk's created_seq: talks_of_agent pages on it
    tm_joined   INTEGER NOT NULL,
    tm_left     INTEGER
);
-- One active record per (talk, agent).
CREATE UNIQUE INDEX participants_one_active ON participants (talk_id, agent_id) WHERE status = 'active';
-- participants(talk, None, after): all records of a talk in join order.
CREATE INDEX participants_by_talk ON participants (talk_id, seq);
-- participants(talk, Some(status), after).
CREATE INDEX participants_by_talk_status ON participants (talk_id, status, seq);
-- agent_records(talk, agent) and agent_events(agent, …): an agent's own records.
CREATE INDEX participants_by_agent ON participants (agent_id, talk_id, seq);
-- talks_of_agent(agent, …): the talks of an agent's active records, newest first.
CREATE INDEX participants_active_talks ON participants (agent_id, talk_seq) WHERE status = 'active';

-- Messages. `reply_count` is kept by the store (IncrementReplyCount).
CREATE TABLE messages (
    id             BLOB    NOT NULL PRIMARY KEY,
    talk_id        BLOB    NOT NULL,
    parent_id      BLOB,
    kind           TEXT    NOT NULL,
    agent_id       TEXT,
    text           TEXT    NOT NULL,
    medias         TEXT    NOT NULL,  -- JSON array of medias
    system         TEXT,              -- JSON of the system info, system messages only
    reply_count    INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    request_digest TEXT,
    tm_create      INTEGER NOT NULL,
    tm_update      INTEGER NOT NULL,
    tm_edit        INTEGER,
    tm_delete      INTEGER
);
-- The main view: top-level messages of a talk, newest first.
CREATE INDEX messages_top_level ON messages (talk_id, seq) WHERE parent_id IS NULL;
-- All messages of a talk, replies included.
CREATE INDEX messages_by_talk ON messages (talk_id, seq);
-- A thread: the replies to one message, oldest first.
CREATE INDEX messages_replies ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;

-- Reactions: one per (message, emoji, agent).
CREATE TABLE reactions (
    message_id BLOB    NOT NULL,
    emoji      TEXT    NOT NULL,
    agent_id   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    tm_create  INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, agent_id)
) WITHOUT ROWID;
-- The reactors of one emoji on one message, in the order they reacted.
CREATE INDEX reactions_in_order ON reactions (message_id, emoji, seq);

-- Reaction summaries, kept by the store in the change set that adds or
-- removes a reaction: one row per emoji in use on a message. Emoji are
-- listed by `first_seq` (the reaction that brought the emoji to the message).
CREATE TABLE message_emoji (
    message_id BLOB    NOT NULL,
    emoji      TEXT    NOT NULL,
    first_seq  INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji)
) WITHOUT ROWID;

-- The event log: one store-wide `seq` (the rowid), without holes. Retention
-- removes its oldest events; `seq` values are never reused.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    talk_id    BLOB    NOT NULL,
    message_id BLOB,                 -- set when the payload is a message: what redaction rewrites
    tm_create  INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    data       TEXT    NOT NULL      -- JSON of the EventData
);
-- agent_events: the events of a talk in a span of seq (the index ends with
-- the rowid, which is seq).
CREATE INDEX events_by_talk ON events (talk_id);
-- RedactMessage: the earlier payloads of one message.
CREATE INDEX events_by_message ON events (message_id) WHERE message_id IS NOT NULL;

-- The state of the log, one row. `low_water_mark`: the greatest `seq`
-- removed by retention (0 while none was). The next `seq` is one above both
-- the log's greatest and the mark, so that a log pruned empty never numbers
-- from 1 again.
CREATE TABLE log_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    low_water_mark INTEGER NOT NULL
);
INSERT INTO log_state (id, low_water_mark) VALUES (1, 0);
