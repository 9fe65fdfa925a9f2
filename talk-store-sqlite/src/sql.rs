//! Every SQL statement of the store, in one place: each is prepared with
//! `prepare_cached`, and the statement caches are sized above their number
//! ([`STATEMENT_CACHE`]).

use crate::codec::{message_columns, participant_columns, reaction_columns, talk_columns};

/// Statement cache capacity of every connection: above the number of
/// distinct statements below (rusqlite's default holds 16).
pub(crate) const STATEMENT_CACHE: usize = 128;

// ------------------------------------------------------------ the writer

pub(crate) const BEGIN: &str = "BEGIN IMMEDIATE";
/// A read transaction (on a read-only connection): one snapshot for a read
/// of several queries.
pub(crate) const BEGIN_READ: &str = "BEGIN";
pub(crate) const COMMIT: &str = "COMMIT";
pub(crate) const ROLLBACK: &str = "ROLLBACK";
pub(crate) const SAVEPOINT: &str = "SAVEPOINT change_set";
pub(crate) const RELEASE: &str = "RELEASE change_set";
pub(crate) const ROLLBACK_TO: &str = "ROLLBACK TO change_set";
/// On closing: copies the whole WAL into the database file and truncates it.
pub(crate) const CHECKPOINT: &str = "PRAGMA wal_checkpoint(TRUNCATE)";

/// The next `seq`, read inside the change set's savepoint: rolled back with
/// it, so a refused change set leaves no hole. Above the low-water mark too,
/// so that a log pruned empty never reuses a `seq`.
pub(crate) const NEXT_SEQ: &str =
    "SELECT max((SELECT coalesce(max(seq), 0) FROM events), (SELECT low_water_mark FROM log_state)) + 1";
pub(crate) const PRUNE_EVENTS: &str = "DELETE FROM events WHERE seq <= ?1";
/// The lowest position of the holds live at `?1` (unix milliseconds) and
/// of the consumers' cursors, if any.
pub(crate) const LOWEST_HOLD: &str = "SELECT min(position) FROM (\
     SELECT position FROM event_holds WHERE expires_at IS NULL OR expires_at > ?1 \
     UNION ALL SELECT cursor FROM consumers)";
/// Creates consumer `?1` at cursor `?2` for owner `?3` until `?4`, or takes
/// or renews its lease when `?3` owns it or its lease ran out by `?5`: one
/// row changed when `?3` holds it now, none when another lease lives.
pub(crate) const CLAIM_CONSUMER: &str = "INSERT INTO consumers (name, cursor, owner, expires_at) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
     WHERE consumers.owner = excluded.owner OR consumers.expires_at <= ?5";
/// Moves consumer `?1`'s cursor forward to `?3` and its lease to `?4`, if
/// `?2` owns it.
pub(crate) const ACK_CONSUMER: &str =
    "UPDATE consumers SET cursor = max(cursor, ?3), expires_at = ?4 WHERE name = ?1 AND owner = ?2";
pub(crate) const CONSUMER_CURSOR: &str = "SELECT cursor FROM consumers WHERE name = ?1";
pub(crate) const CONSUMERS: &str = "SELECT name, cursor, owner, expires_at FROM consumers ORDER BY name";
pub(crate) const REMOVE_CONSUMER: &str = "DELETE FROM consumers WHERE name = ?1";
pub(crate) const HOLD_EVENTS: &str = "INSERT INTO event_holds (holder, position, expires_at) VALUES (?1, ?2, ?3) \
     ON CONFLICT (holder) DO UPDATE SET position = excluded.position, expires_at = excluded.expires_at";
pub(crate) const RELEASE_EVENTS: &str = "DELETE FROM event_holds WHERE holder = ?1";
pub(crate) const SET_LOW_WATER_MARK: &str = "UPDATE log_state SET low_water_mark = ?1";

pub(crate) const TALK_VERSION: &str = "SELECT version FROM talks WHERE id = ?1";
pub(crate) const PARTICIPANT_STATUS: &str = "SELECT status FROM participants WHERE id = ?1";
pub(crate) const MESSAGE_VERSION: &str = "SELECT version FROM messages WHERE id = ?1";

/// `?15` is the name's words, `text::index_text(name)`, made by the store.
pub(crate) const INSERT_TALK: &str = "INSERT INTO talks (id, kind, pair_low, pair_high, name, detail, status, \
     creator_id, member_count, version, created_seq, tm_create, tm_update, tm_close, name_words) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING";
pub(crate) const TALK_EXISTS: &str = "SELECT 1 FROM talks WHERE id = ?1";
/// `?9` is the new name's words, `text::index_text(name)`, made by the store.
pub(crate) const UPDATE_TALK: &str = "UPDATE talks SET name = ?2, detail = ?3, status = ?4, member_count = ?5, \
     version = ?6, tm_update = ?7, tm_close = ?8, name_words = ?9 WHERE id = ?1";

/// The number of normal messages of talk `?2` at or below `seq` `?1`.
macro_rules! ord_at {
    ($seq:literal, $talk:literal) => {
        concat!(
            "coalesce((SELECT m.ord FROM messages m INDEXED BY messages_normal WHERE m.talk_id = ",
            $talk,
            " AND m.kind = 'normal' AND m.seq <= ",
            $seq,
            " ORDER BY m.seq DESC LIMIT 1), 0)"
        )
    };
}

/// A record's marker starts at its own `participant_joined` (`?6`).
pub(crate) const INSERT_PARTICIPANT: &str = concat!(
    "INSERT INTO participants (id, talk_id, agent_id, status, \
     left_reason, seq, joined_seq, left_seq, talk_seq, tm_joined, tm_left, read_seq, read_ord, tm_read) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce((SELECT created_seq FROM talks WHERE id = ?2), 0), ?9, ?10, \
     ?6, ",
    ord_at!("?6", "?2"),
    ", ?9) ON CONFLICT DO NOTHING"
);
/// `?1` record, `?2` the new marker, `?3` tm_read.
pub(crate) const SET_READ_MARKER: &str = concat!(
    "UPDATE participants SET read_seq = ?2, tm_read = ?3, read_ord = ",
    ord_at!("?2", "participants.talk_id"),
    " WHERE id = ?1"
);
pub(crate) const MARKER_AT: &str = "SELECT read_seq FROM participants WHERE id = ?1";
pub(crate) const PARTICIPANT_EXISTS: &str = "SELECT 1 FROM participants WHERE id = ?1";
pub(crate) const UPDATE_PARTICIPANT: &str =
    "UPDATE participants SET status = ?2, left_reason = ?3, left_seq = ?4, tm_left = ?5 WHERE id = ?1";

pub(crate) const INSERT_MESSAGE: &str = "INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, \
     medias, system, reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete, \
     mentions, ord) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT DO NOTHING";
/// Numbers a normal message of talk `?1`: the talk's new count.
pub(crate) const NEXT_ORD: &str =
    "UPDATE talks SET normal_total = normal_total + 1 WHERE id = ?1 RETURNING normal_total";
/// What an update of a message's mentions needs: its talk, author, kind,
/// seq and mentions as stored.
pub(crate) const MESSAGE_MENTIONS: &str = "SELECT talk_id, agent_id, kind, seq, mentions FROM messages WHERE id = ?1";
pub(crate) const INSERT_MENTION: &str = "INSERT INTO mentions (talk_id, agent_id, seq) VALUES (?1, ?2, ?3) \
     ON CONFLICT DO NOTHING";
pub(crate) const DELETE_MENTION: &str = "DELETE FROM mentions WHERE talk_id = ?1 AND agent_id = ?2 AND seq = ?3";
pub(crate) const MESSAGE_EXISTS: &str = "SELECT 1 FROM messages WHERE id = ?1";
pub(crate) const UPDATE_MESSAGE: &str = "UPDATE messages SET text = ?2, medias = ?3, version = ?4, \
     tm_update = ?5, tm_edit = ?6, tm_delete = ?7, request_digest = ?8, mentions = ?9 WHERE id = ?1";
/// The search index of a message: `?1` its `seq`, `?2` its words
/// (`talk_core::text::index_text`, not empty).
pub(crate) const INDEX_MESSAGE_WORDS: &str = "INSERT INTO message_search (rowid, words) VALUES (?1, ?2)";
/// Removes a message (`?1`, its `seq`) from the search index; none is fine.
pub(crate) const UNINDEX_MESSAGE: &str = "DELETE FROM message_search WHERE rowid = ?1";
/// Every message the search index holds, for the migration that creates it.
pub(crate) const MESSAGES_TO_INDEX: &str =
    "SELECT seq, text FROM messages WHERE kind = 'normal' AND tm_delete IS NULL ORDER BY seq";
pub(crate) const SECRET_KEY: &str = "SELECT key FROM secret_key";
pub(crate) const SET_MESSAGE_VERSION: &str = "UPDATE messages SET version = ?2 WHERE id = ?1";
pub(crate) const INCREMENT_REPLY_COUNT: &str = "UPDATE messages SET reply_count = reply_count + 1 WHERE id = ?1";
pub(crate) const TOUCH_MESSAGE: &str = "UPDATE messages SET tm_update = ?2 WHERE id = ?1";

pub(crate) const INSERT_REACTION: &str = "INSERT INTO reactions (message_id, emoji, agent_id, seq, tm_create) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
pub(crate) const ADD_EMOJI: &str = "INSERT INTO message_emoji (message_id, emoji, first_seq, count) \
     VALUES (?1, ?2, ?3, 1) ON CONFLICT (message_id, emoji) DO UPDATE SET count = count + 1";
pub(crate) const DELETE_REACTION: &str = "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND agent_id = ?3";
pub(crate) const REMOVE_EMOJI: &str = "UPDATE message_emoji SET count = count - 1 WHERE message_id = ?1 AND emoji = ?2";
pub(crate) const DROP_UNUSED_EMOJI: &str =
    "DELETE FROM message_emoji WHERE message_id = ?1 AND emoji = ?2 AND count <= 0";
pub(crate) const DELETE_ALL_REACTIONS: &str = "DELETE FROM reactions WHERE message_id = ?1";
pub(crate) const DELETE_ALL_EMOJI: &str = "DELETE FROM message_emoji WHERE message_id = ?1";

pub(crate) const MESSAGE_EVENTS: &str = "SELECT seq, data FROM events WHERE message_id = ?1";
pub(crate) const REWRITE_EVENT: &str = "UPDATE events SET data = ?2 WHERE seq = ?1";
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (seq, talk_id, message_id, tm_create, type, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// ------------------------------------------------------------- the reads

/// The last `seq` taken (0 for a new database).
pub(crate) const HEAD: &str =
    "SELECT max((SELECT coalesce(max(seq), 0) FROM events), (SELECT low_water_mark FROM log_state))";
pub(crate) const LOW_WATER_MARK: &str = "SELECT low_water_mark FROM log_state";

pub(crate) const TALK: &str = concat!("SELECT ", talk_columns!(""), " FROM talks WHERE id = ?1");
pub(crate) const DIRECT_TALK: &str =
    concat!("SELECT ", talk_columns!(""), " FROM talks WHERE pair_low = ?1 AND pair_high = ?2");
/// `?1` agent, `?2` before (exclusive), `?3` talk status or NULL, `?4` limit.
pub(crate) const TALKS_OF_AGENT: &str = concat!(
    "SELECT ",
    talk_columns!("t."),
    " FROM participants p CROSS JOIN talks t ON t.id = p.talk_id \
     WHERE p.agent_id = ?1 AND p.status = 'active' AND p.talk_seq < ?2 AND (?3 IS NULL OR t.status = ?3) \
     ORDER BY p.talk_seq DESC LIMIT ?4"
);

/// The directory with at most [`PUBLIC_TALKS_INLINE_WORDS`] words. `?1`
/// before (exclusive), `?2` … `?5` the words (`NULL` for none), `?6` limit.
/// It walks `talks_directory` (active public talks only, newest first) and
/// tests each row's `name_words`, stopping at the limit: bounded by the
/// active public talks, never every talk. Words are letters and digits
/// only, so `instr` needs no escaping. The words are parameters of their
/// own, not a table: a table-valued function per row (`json_each`) costs
/// more than the test itself.
pub(crate) const PUBLIC_TALKS: &str = concat!(
    "SELECT ",
    talk_columns!("t."),
    " FROM talks t \
     WHERE t.kind = 'public' AND t.status = 'active' AND t.created_seq < ?1 \
     AND (?2 IS NULL OR instr(' ' || t.name_words, ' ' || ?2) > 0) \
     AND (?3 IS NULL OR instr(' ' || t.name_words, ' ' || ?3) > 0) \
     AND (?4 IS NULL OR instr(' ' || t.name_words, ' ' || ?4) > 0) \
     AND (?5 IS NULL OR instr(' ' || t.name_words, ' ' || ?5) > 0) \
     ORDER BY t.created_seq DESC LIMIT ?6"
);
/// How many words [`PUBLIC_TALKS`] takes.
pub(crate) const PUBLIC_TALKS_INLINE_WORDS: usize = 4;
/// The directory with more words: as [`PUBLIC_TALKS`], the words (`?2`) a
/// JSON array, `?3` limit.
pub(crate) const PUBLIC_TALKS_MANY_WORDS: &str = concat!(
    "SELECT ",
    talk_columns!("t."),
    " FROM talks t \
     WHERE t.kind = 'public' AND t.status = 'active' AND t.created_seq < ?1 \
     AND NOT EXISTS (SELECT 1 FROM json_each(?2) w WHERE instr(' ' || t.name_words, ' ' || w.value) = 0) \
     ORDER BY t.created_seq DESC LIMIT ?3"
);

pub(crate) const PARTICIPANT: &str = concat!("SELECT ", participant_columns!(), " FROM participants WHERE id = ?1");
pub(crate) const AGENT_RECORDS: &str =
    concat!("SELECT ", participant_columns!(), " FROM participants WHERE agent_id = ?1 AND talk_id = ?2 ORDER BY seq");
/// `?1` agent, `?2` after: the records active or ended after it.
pub(crate) const AGENT_MEMBERSHIPS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE agent_id = ?1 AND (left_seq IS NULL OR left_seq > ?2) ORDER BY seq"
);
/// `?1` talk, `?2` after (exclusive), `?3` limit.
pub(crate) const PARTICIPANTS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE talk_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
);
/// `?1` talk, `?2` status, `?3` after (exclusive), `?4` limit.
pub(crate) const PARTICIPANTS_WITH_STATUS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE talk_id = ?1 AND status = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
);

pub(crate) const MESSAGE: &str = concat!("SELECT ", message_columns!(), " FROM messages WHERE id = ?1");
/// The main view. `?1` talk, `?2` before (exclusive), `?3` limit. Through
/// the partial index of top-level messages, named because without
/// statistics the planner sees no difference with `messages_by_talk`, which
/// would walk over the replies too.
pub(crate) const TOP_LEVEL_MESSAGES: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages INDEXED BY messages_top_level WHERE talk_id = ?1 AND parent_id IS NULL AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
);
/// `?1` talk, `?2` before (exclusive), `?3` limit.
pub(crate) const ALL_MESSAGES: &str =
    concat!("SELECT ", message_columns!(), " FROM messages WHERE talk_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3");
/// `?1` parent, `?2` after (exclusive), `?3` limit.
pub(crate) const REPLIES: &str =
    concat!("SELECT ", message_columns!(), " FROM messages WHERE parent_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");

/// A search: the index walked newest first from `?2` (exclusive) for the
/// FTS5 query `?1`, each hit joined to its message by `seq`, kept when `?3`
/// has an active record in its talk (the partial index of active records)
/// and the filters hold: `?4` talk, `?5` author, `?6` parent, `?7` has
/// medias (0 or 1), `?8` sent before, `?9` sent after (each NULL for none);
/// `?10` limit. The join comes first in `CROSS JOIN` order, so the walk
/// stops as soon as the page is full.
pub(crate) const SEARCH_MESSAGES: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM message_search CROSS JOIN messages ON messages.seq = message_search.rowid \
     WHERE message_search MATCH ?1 AND message_search.rowid < ?2 \
     AND kind = 'normal' AND tm_delete IS NULL \
     AND EXISTS (SELECT 1 FROM participants p WHERE p.talk_id = messages.talk_id AND p.agent_id = ?3 \
     AND p.status = 'active') \
     AND (?4 IS NULL OR talk_id = ?4) AND (?5 IS NULL OR agent_id = ?5) AND (?6 IS NULL OR parent_id = ?6) \
     AND (?7 = 0 OR medias <> '[]') AND (?8 IS NULL OR tm_create < ?8) AND (?9 IS NULL OR tm_create > ?9) \
     ORDER BY message_search.rowid DESC LIMIT ?10"
);

/// The reaction summaries of a set of messages (`?1`, an `rarray` of ids).
pub(crate) const EMOJI_OF_MESSAGES: &str =
    "SELECT message_id, emoji, first_seq, count FROM message_emoji WHERE message_id IN rarray(?1)";
/// The first `?2 + 1` reactors of each emoji of a set of messages (`?1`, an
/// `rarray` of ids): for each emoji (the outer loop: `CROSS JOIN` keeps it
/// there), one index walk to its `?2 + 1`-th reaction, then the range up to
/// it; never more rows than listed, however many reactions a message has.
pub(crate) const REACTORS_OF_MESSAGES: &str = "SELECT r.message_id, r.emoji, r.agent_id, r.seq \
     FROM message_emoji e CROSS JOIN reactions r ON r.message_id = e.message_id AND r.emoji = e.emoji \
     WHERE e.message_id IN rarray(?1) \
     AND r.seq <= coalesce((SELECT r2.seq FROM reactions r2 WHERE r2.message_id = e.message_id \
     AND r2.emoji = e.emoji ORDER BY r2.seq LIMIT 1 OFFSET ?2), 9223372036854775807)";

pub(crate) const REACTION: &str =
    concat!("SELECT ", reaction_columns!(), " FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND agent_id = ?3");
/// `?1` message, `?2` emoji, `?3` after (exclusive), `?4` limit.
pub(crate) const REACTIONS: &str = concat!(
    "SELECT ",
    reaction_columns!(),
    " FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
);

/// A read marker: the record, its talk, agent and `seq`, the marker, the
/// newest message at or below it, `tm_read`.
macro_rules! read_marker {
    ($where:literal) => {
        concat!(
            "SELECT p.id, p.talk_id, p.agent_id, p.seq, p.read_seq, \
             (SELECT m.id FROM messages m INDEXED BY messages_by_talk WHERE m.talk_id = p.talk_id \
             AND m.seq <= p.read_seq ORDER BY m.seq DESC LIMIT 1), p.tm_read FROM participants p ",
            $where
        )
    };
}
pub(crate) const READ_MARKER: &str = read_marker!("WHERE p.id = ?1");
/// `?1` talk, `?2` after (exclusive), `?3` limit: the active records' markers in join order.
pub(crate) const READ_MARKERS: &str =
    read_marker!("WHERE p.talk_id = ?1 AND p.status = 'active' AND p.seq > ?2 ORDER BY p.seq LIMIT ?3");

/// The numbers of an agent's active records (`?1` agent): the talk, normal
/// messages above the marker, the agent's own above it, deleted ones of
/// others above it, and mentions of the agent above it: each a lookup or a
/// range count over an index, never a scan of the talk's messages.
macro_rules! read_numbers {
    ($from:literal) => {
        concat!(
            "SELECT p.talk_id, t.normal_total - p.read_ord, \
             (SELECT count(*) FROM messages m INDEXED BY messages_normal_by_author WHERE m.talk_id = p.talk_id \
             AND m.agent_id = p.agent_id AND m.kind = 'normal' AND m.seq > p.read_seq), \
             (SELECT count(*) FROM messages m INDEXED BY messages_normal_deleted WHERE m.talk_id = p.talk_id \
             AND m.kind = 'normal' AND m.tm_delete IS NOT NULL AND m.seq > p.read_seq AND m.agent_id <> p.agent_id), \
             (SELECT count(*) FROM mentions x WHERE x.talk_id = p.talk_id AND x.agent_id = p.agent_id \
             AND x.seq > p.read_seq) ",
            $from
        )
    };
}
/// In every talk where the agent has an active record.
pub(crate) const READ_NUMBERS: &str = read_numbers!(
    "FROM participants p INDEXED BY participants_active_talks CROSS JOIN talks t ON t.id = p.talk_id \
     WHERE p.agent_id = ?1 AND p.status = 'active'"
);
/// In the talks `?2` (an `rarray` of ids).
pub(crate) const READ_NUMBERS_IN: &str = read_numbers!(
    "FROM participants p INDEXED BY participants_one_active CROSS JOIN talks t ON t.id = p.talk_id \
     WHERE p.talk_id IN rarray(?2) AND p.agent_id = ?1 AND p.status = 'active'"
);

/// `?1` after (exclusive), `?2` limit.
pub(crate) const EVENTS: &str = "SELECT seq, talk_id, tm_create, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2";

/// The events of an agent: for each of its records (by the index on
/// `agent_id`), the events of the record's talk inside its span after `?2`
/// (by the index on the talk), at most `?3 + 1` per record (an index walk
/// finds the bound), merged by `seq`. `?1` agent, `?2` after, `?3` limit - 1,
/// `?4` limit.
macro_rules! agent_events {
    ($talk:literal) => {
        concat!(
            "SELECT e.seq, e.talk_id, e.tm_create, e.data FROM participants p CROSS JOIN events e \
             ON e.talk_id = p.talk_id \
             AND e.seq > max(?2, p.joined_seq - 1) \
             AND e.seq <= min(coalesce(p.left_seq, 9223372036854775807), \
             coalesce((SELECT e2.seq FROM events e2 WHERE e2.talk_id = p.talk_id \
             AND e2.seq > max(?2, p.joined_seq - 1) ORDER BY e2.seq LIMIT 1 OFFSET ?3), 9223372036854775807)) \
             WHERE p.agent_id = ?1 ",
            $talk,
            " AND (p.left_seq IS NULL OR p.left_seq > ?2) \
             GROUP BY e.seq ORDER BY e.seq LIMIT ?4"
        )
    };
}
/// See [`agent_events!`].
pub(crate) const AGENT_EVENTS: &str = agent_events!("");
/// As [`AGENT_EVENTS`], in one talk (`?5`).
pub(crate) const AGENT_EVENTS_IN_TALK: &str = agent_events!("AND p.talk_id = ?5");

/// The list queries, by name, with the index each must search (as
/// `EXPLAIN QUERY PLAN` names it), for the query-plan test.
#[cfg(test)]
pub(crate) const LIST_QUERIES: &[(&str, &str, &[&str])] = &[
    ("talks_of_agent", TALKS_OF_AGENT, &["participants_active_talks (agent_id=? AND talk_seq<?)"]),
    ("public_talks", PUBLIC_TALKS, &["talks_directory (kind=? AND status=? AND created_seq<?)"]),
    ("public_talks_many_words", PUBLIC_TALKS_MANY_WORDS, &["talks_directory (kind=? AND status=? AND created_seq<?)"]),
    ("agent_records", AGENT_RECORDS, &["participants_by_agent (agent_id=? AND talk_id=?)"]),
    ("agent_memberships", AGENT_MEMBERSHIPS, &["participants_by_agent (agent_id=?)"]),
    ("participants", PARTICIPANTS, &["participants_by_talk (talk_id=? AND seq>?)"]),
    (
        "participants_with_status",
        PARTICIPANTS_WITH_STATUS,
        &["participants_by_talk_status (talk_id=? AND status=? AND seq>?)"],
    ),
    ("top_level_messages", TOP_LEVEL_MESSAGES, &["messages_top_level (talk_id=? AND seq<?)"]),
    ("all_messages", ALL_MESSAGES, &["messages_by_talk (talk_id=? AND seq<?)"]),
    ("replies", REPLIES, &["messages_replies (parent_id=? AND seq>?)"]),
    ("emoji_of_messages", EMOJI_OF_MESSAGES, &["SEARCH message_emoji USING PRIMARY KEY (message_id=?)"]),
    (
        "reactors_of_messages",
        REACTORS_OF_MESSAGES,
        &["SEARCH e USING PRIMARY KEY (message_id=?)", "reactions_in_order (message_id=? AND emoji=? AND seq<?)"],
    ),
    ("reactions", REACTIONS, &["reactions_in_order (message_id=? AND emoji=? AND seq>?)"]),
    ("events", EVENTS, &["SEARCH events USING INTEGER PRIMARY KEY (rowid>?)"]),
    (
        "agent_events",
        AGENT_EVENTS,
        &[
            "SEARCH p USING INDEX participants_by_agent (agent_id=?)",
            "events_by_talk (talk_id=? AND rowid>? AND rowid<?)",
        ],
    ),
    (
        "agent_events_in_talk",
        AGENT_EVENTS_IN_TALK,
        &["participants_by_agent (agent_id=? AND talk_id=?)", "events_by_talk (talk_id=? AND rowid>? AND rowid<?)"],
    ),
    ("message_events", MESSAGE_EVENTS, &["events_by_message (message_id=?)"]),
    ("direct_talk", DIRECT_TALK, &["talks_direct_pair (pair_low=? AND pair_high=?)"]),
    (
        "read_markers",
        READ_MARKERS,
        &["participants_by_talk_status (talk_id=? AND status=? AND seq>?)", "messages_by_talk (talk_id=? AND seq<?)"],
    ),
    (
        "read_numbers",
        READ_NUMBERS,
        &[
            "participants_active_talks (agent_id=?)",
            "messages_normal_by_author (talk_id=? AND agent_id=? AND seq>?)",
            "messages_normal_deleted (talk_id=? AND seq>?)",
            "x USING PRIMARY KEY (talk_id=? AND agent_id=? AND seq>?)",
        ],
    ),
    (
        "read_numbers_in",
        READ_NUMBERS_IN,
        &[
            "participants_one_active (talk_id=? AND agent_id=?)",
            "messages_normal_by_author (talk_id=? AND agent_id=? AND seq>?)",
        ],
    ),
    ("set_read_marker", SET_READ_MARKER, &["messages_normal (talk_id=? AND seq<?)"]),
    (
        "search_messages",
        SEARCH_MESSAGES,
        &["messages_by_seq (seq=?)", "participants_one_active (talk_id=? AND agent_id=?)"],
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_statement_caches_hold_every_statement() {
        let source = include_str!("sql.rs");
        let statements = source.lines().filter(|l| l.starts_with("pub(crate) const ") && l.contains(": &str")).count();
        assert!(statements > 40, "counted {statements}: the count works");
        assert!(
            statements < super::STATEMENT_CACHE,
            "{statements} statements need a statement cache above {}",
            super::STATEMENT_CACHE
        );
    }
}
