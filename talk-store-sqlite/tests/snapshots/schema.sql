CREATE TABLE consumers (
    name       TEXT    PRIMARY KEY,
    cursor     INTEGER NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE event_holds (
    holder     TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    talk_id    BLOB    NOT NULL,
    message_id BLOB,                 -- set when the payload is a message: what redaction rewrites
    tm_create  INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    data       TEXT    NOT NULL      -- JSON of the EventData
);
CREATE INDEX events_by_message ON events (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX events_by_talk ON events (talk_id);
CREATE TABLE log_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    low_water_mark INTEGER NOT NULL
);
CREATE TABLE mentions (
    talk_id  BLOB    NOT NULL,
    agent_id TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (talk_id, agent_id, seq)
) WITHOUT ROWID;
CREATE TABLE message_emoji (
    message_id BLOB    NOT NULL,
    emoji      TEXT    NOT NULL,
    first_seq  INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE message_search USING fts5(
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii',
    prefix = '1 2 3 4'
);
CREATE TABLE 'message_search_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE 'message_search_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE 'message_search_docsize'(id INTEGER PRIMARY KEY, sz BLOB, origin INTEGER);
CREATE TABLE 'message_search_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
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
, ord INTEGER, mentions TEXT NOT NULL DEFAULT '[]');
CREATE UNIQUE INDEX messages_by_seq ON messages (seq);
CREATE INDEX messages_by_talk ON messages (talk_id, seq);
CREATE INDEX messages_normal ON messages (talk_id, seq, ord) WHERE kind = 'normal';
CREATE INDEX messages_normal_by_author ON messages (talk_id, agent_id, seq) WHERE kind = 'normal';
CREATE INDEX messages_normal_deleted ON messages (talk_id, seq) WHERE kind = 'normal' AND tm_delete IS NOT NULL;
CREATE INDEX messages_replies ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE INDEX messages_top_level ON messages (talk_id, seq) WHERE parent_id IS NULL;
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
, read_seq INTEGER NOT NULL DEFAULT 0, read_ord INTEGER NOT NULL DEFAULT 0, tm_read INTEGER NOT NULL DEFAULT 0);
CREATE INDEX participants_active_talks ON participants (agent_id, talk_seq) WHERE status = 'active';
CREATE INDEX participants_by_agent ON participants (agent_id, talk_id, seq);
CREATE INDEX participants_by_talk ON participants (talk_id, seq);
CREATE INDEX participants_by_talk_status ON participants (talk_id, status, seq);
CREATE UNIQUE INDEX participants_one_active ON participants (talk_id, agent_id) WHERE status = 'active';
CREATE TABLE reactions (
    message_id BLOB    NOT NULL,
    emoji      TEXT    NOT NULL,
    agent_id   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    tm_create  INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, agent_id)
) WITHOUT ROWID;
CREATE INDEX reactions_in_order ON reactions (message_id, emoji, seq);
CREATE TABLE secret_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB    NOT NULL CHECK (length(key) = 32)
);
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
, normal_total INTEGER NOT NULL DEFAULT 0, name_words TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX talks_direct_pair ON talks (pair_low, pair_high) WHERE pair_low IS NOT NULL;
CREATE INDEX talks_directory ON talks (kind, status, created_seq DESC);
