-- 0004: read state (markers, unread and mention counts) without scanning.
--
-- Each normal message gets its number in its talk (`ord`, from 1) as it is
-- inserted, from the talk's `normal_total`, which the store keeps (UpdateTalk
-- never writes it). Each participant record keeps its read marker
-- (`read_seq`) and `read_ord`, the number of normal messages at or below it.
-- Then the unread count of a record is
--   normal_total - read_ord - own_after - deleted_after
-- where the last two are range counts over small partial indexes, and the
-- mention count is a range count of `mentions`.

ALTER TABLE talks ADD COLUMN normal_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ord INTEGER;
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';  -- JSON array of agent ids
ALTER TABLE participants ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN read_ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN tm_read INTEGER NOT NULL DEFAULT 0;

-- The agents a message mentions, other than its author, while it is not
-- deleted: (talk, mentioned agent, the message's seq).
CREATE TABLE mentions (
    talk_id  BLOB    NOT NULL,
    agent_id TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (talk_id, agent_id, seq)
) WITHOUT ROWID;

-- read_ord when a marker moves: the newest normal message at or below it.
CREATE INDEX messages_normal ON messages (talk_id, seq, ord) WHERE kind = 'normal';
-- own_after: an agent's own normal messages above its marker.
CREATE INDEX messages_normal_by_author ON messages (talk_id, agent_id, seq) WHERE kind = 'normal';
-- deleted_after: deleted normal messages above a marker (normally none or few).
CREATE INDEX messages_normal_deleted ON messages (talk_id, seq) WHERE kind = 'normal' AND tm_delete IS NOT NULL;

-- An existing database: number its normal messages, count them per talk,
-- and put each record's marker at its own join.
UPDATE messages SET ord = numbered.ord
FROM (SELECT id, row_number() OVER (PARTITION BY talk_id ORDER BY seq) AS ord FROM messages WHERE kind = 'normal')
    AS numbered
WHERE messages.id = numbered.id;
UPDATE talks SET normal_total = coalesce(
    (SELECT m.ord FROM messages m WHERE m.talk_id = talks.id AND m.kind = 'normal' ORDER BY m.seq DESC LIMIT 1), 0);
UPDATE participants SET
    read_seq = seq,
    tm_read = tm_joined,
    read_ord = coalesce((SELECT m.ord FROM messages m WHERE m.talk_id = participants.talk_id AND m.kind = 'normal'
        AND m.seq <= participants.seq ORDER BY m.seq DESC LIMIT 1), 0);
