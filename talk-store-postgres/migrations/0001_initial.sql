-- 0001: the initial schema.
--
-- Applied inside the store's schema (search_path), in one transaction, under
-- an advisory lock. Conventions: ids of talks, participants and messages are
-- `uuid`; agent ids and emoji are `text`; enums are their snake_case names,
-- checked; timestamps are `timestamptz` (microseconds, as Talk keeps them);
-- every `seq` is the number of an event in `events`. Every list is keyset on
-- a `seq`, and each has an index below that answers it without sorting.
--
-- Unique keys are unique indexes whose names the store maps to the conflict
-- it reports (`StoreError::Conflict`): keep the names when changing them.

-- The tail of the event log: one row. `seq` is the last `seq` taken, which is
-- also the safe head: a writing transaction locks this row before anything
-- else and writes its new value just before it commits, so transactions that
-- take `seq` values commit one after the other, in `seq` order.
-- `low_water_mark` is the greatest `seq` pruned from `events`.
CREATE TABLE log_tail (
    id             boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (id),
    seq            bigint  NOT NULL CHECK (seq >= 0),
    low_water_mark bigint  NOT NULL CHECK (low_water_mark >= 0 AND low_water_mark <= seq)
);
INSERT INTO log_tail (id, seq, low_water_mark) VALUES (true, 0, 0);

-- Talks. `member_count` and `version` are written by the Hub in the row.
CREATE TABLE talks (
    id           uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('direct', 'group')),
    pair_low     text,                    -- direct talks: the pair of agents, sorted
    pair_high    text,
    name         text        NOT NULL,
    detail       text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('active', 'closed')),
    creator_id   text        NOT NULL,
    member_count bigint      NOT NULL,
    version      bigint      NOT NULL,
    created_seq  bigint      NOT NULL,
    tm_create    timestamptz NOT NULL,
    tm_update    timestamptz NOT NULL,
    tm_close     timestamptz,
    CONSTRAINT talks_pkey PRIMARY KEY (id),
    CHECK ((pair_low IS NULL) = (pair_high IS NULL))
);
-- One direct talk per unordered pair of agents, ever (talks are never deleted).
CREATE UNIQUE INDEX talks_direct_pair ON talks (pair_low, pair_high) WHERE pair_low IS NOT NULL;

-- Participant records: one agent's membership span in one talk.
CREATE TABLE participants (
    id          uuid        NOT NULL,
    talk_id     uuid        NOT NULL,
    agent_id    text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('active', 'left')),
    left_reason text        CHECK (left_reason IN ('left', 'removed')),
    seq         bigint      NOT NULL,
    joined_seq  bigint      NOT NULL,
    left_seq    bigint,
    talk_seq    bigint      NOT NULL,     -- the talk's created_seq: talks_of_agent pages on it
    tm_joined   timestamptz NOT NULL,
    tm_left     timestamptz,
    CONSTRAINT participants_pkey PRIMARY KEY (id)
);
-- One active record per (talk, agent).
CREATE UNIQUE INDEX participants_one_active ON participants (talk_id, agent_id) WHERE status = 'active';
-- participants(talk, None, after): all records of a talk in join order.
CREATE INDEX participants_by_talk ON participants (talk_id, seq);
-- participants(talk, Some(status), after).
CREATE INDEX participants_by_talk_status ON participants (talk_id, status, seq);
-- agent_records(talk, agent), agent_memberships(agent, …) and agent_events(agent, …).
CREATE INDEX participants_by_agent ON participants (agent_id, talk_id, seq);
-- talks_of_agent(agent, …): the talks of an agent's active records, newest first.
CREATE INDEX participants_active_talks ON participants (agent_id, talk_seq) WHERE status = 'active';

-- Messages. `reply_count` is kept by the store (IncrementReplyCount).
CREATE TABLE messages (
    id             uuid        NOT NULL,
    talk_id        uuid        NOT NULL,
    parent_id      uuid,
    kind           text        NOT NULL CHECK (kind IN ('normal', 'system')),
    agent_id       text,
    text           text        NOT NULL,
    medias         jsonb       NOT NULL,  -- array of medias
    system         jsonb,                 -- the system info, system messages only
    reply_count    bigint      NOT NULL DEFAULT 0,
    version        bigint      NOT NULL,
    seq            bigint      NOT NULL,
    request_digest text,
    tm_create      timestamptz NOT NULL,
    tm_update      timestamptz NOT NULL,
    tm_edit        timestamptz,
    tm_delete      timestamptz,
    CONSTRAINT messages_pkey PRIMARY KEY (id)
);
-- The main view: top-level messages of a talk, newest first.
CREATE INDEX messages_top_level ON messages (talk_id, seq) WHERE parent_id IS NULL;
-- All messages of a talk, replies included.
CREATE INDEX messages_by_talk ON messages (talk_id, seq);
-- A thread: the replies to one message, oldest first.
CREATE INDEX messages_replies ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;

-- Reactions: one per (message, emoji, agent).
CREATE TABLE reactions (
    message_id uuid        NOT NULL,
    emoji      text        NOT NULL,
    agent_id   text        NOT NULL,
    seq        bigint      NOT NULL,
    tm_create  timestamptz NOT NULL,
    CONSTRAINT reactions_pkey PRIMARY KEY (message_id, emoji, agent_id)
);
-- The reactors of one emoji on one message, in the order they reacted.
CREATE INDEX reactions_in_order ON reactions (message_id, emoji, seq);

-- Reaction summaries, kept by the store in the change set that adds or
-- removes a reaction: one row per emoji in use on a message. Emoji are listed
-- by `first_seq` (the reaction that brought the emoji to the message).
CREATE TABLE message_emoji (
    message_id uuid   NOT NULL,
    emoji      text   NOT NULL,
    first_seq  bigint NOT NULL,
    count      bigint NOT NULL,
    CONSTRAINT message_emoji_pkey PRIMARY KEY (message_id, emoji)
);

-- The event log: one store-wide `seq`, without holes up to `log_tail.seq`.
CREATE TABLE events (
    seq        bigint      NOT NULL,
    talk_id    uuid        NOT NULL,
    message_id uuid,                      -- set when the payload is a message: what redaction rewrites
    tm_create  timestamptz NOT NULL,
    type       text        NOT NULL,
    data       jsonb       NOT NULL,      -- the EventData, as talk-core serialises it
    CONSTRAINT events_pkey PRIMARY KEY (seq)
);
-- agent_events: the events of a talk in a span of seq.
CREATE INDEX events_by_talk ON events (talk_id, seq);
-- RedactMessage: the earlier payloads of one message.
CREATE INDEX events_by_message ON events (message_id) WHERE message_id IS NOT NULL;
