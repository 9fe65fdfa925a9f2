//! Every SQL statement of the store, in one place. Each is prepared once per
//! connection (the writer prepares its own; readers go through the pool's
//! statement cache). Table names are unqualified: every connection's
//! `search_path` is the store's schema.

// ------------------------------------------------------------ the writer

pub(crate) const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";
pub(crate) const COMMIT: &str = "COMMIT";
pub(crate) const ROLLBACK: &str = "ROLLBACK";
pub(crate) const SAVEPOINT: &str = "SAVEPOINT change_set";
pub(crate) const RELEASE: &str = "RELEASE SAVEPOINT change_set";
pub(crate) const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT change_set";

/// The first statement of every writing transaction: locks the log's tail
/// until commit. Every writer takes this lock before any other, so writing
/// transactions run one at a time (no deadlock is possible between them)
/// and commit in `seq` order.
pub(crate) const LOCK_TAIL: &str = "SELECT seq, low_water_mark FROM log_tail FOR NO KEY UPDATE";
/// The last statement before `COMMIT`: the new tail, which is the new head.
pub(crate) const SET_TAIL: &str = "UPDATE log_tail SET seq = $1 WHERE seq <= $1";
/// Announces the new head to every node's listener; delivered at commit only.
pub(crate) const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The channel every store of every schema notifies on; the payload says
/// which schema (`<schema>:<head>`).
pub(crate) const CHANNEL: &str = "talk_events";
/// The channel of typing and presence between nodes (see `PostgresNotifier`).
pub(crate) const SIGNAL_CHANNEL: &str = "talk_signals";

// Guards: each locks the row it checks (FOR SHARE) and answers one row when
// the guard holds.
pub(crate) const GUARD_TALK_VERSION: &str = "SELECT 1 FROM talks WHERE id = $1 AND version = $2 FOR SHARE";
pub(crate) const GUARD_PARTICIPANT_ACTIVE: &str =
    "SELECT 1 FROM participants WHERE id = $1 AND status = 'active' FOR SHARE";
pub(crate) const GUARD_MESSAGE_VERSION: &str = "SELECT 1 FROM messages WHERE id = $1 AND version = $2 FOR SHARE";
pub(crate) const GUARD_MARKER_AT: &str = "SELECT 1 FROM participants WHERE id = $1 AND read_seq = $2 FOR SHARE";

/// Inserts a talk, and lists it for the records of the same change set
/// inserted before it (which could not know its `created_seq`).
/// `$15` is the name's words, `text::index_text(name)`, made by the store.
pub(crate) const INSERT_TALK: &str = "WITH t AS (INSERT INTO talks (id, kind, pair_low, pair_high, name, detail, \
     status, creator_id, member_count, version, created_seq, tm_create, tm_update, tm_close, name_words) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id, created_seq) \
     UPDATE participants p SET talk_seq = t.created_seq FROM t WHERE p.talk_id = t.id";
/// `$9` is the new name's words, `text::index_text(name)`, made by the store.
pub(crate) const UPDATE_TALK: &str = "UPDATE talks SET name = $2, detail = $3, status = $4, member_count = $5, \
     version = $6, tm_update = $7, tm_close = $8, name_words = $9 WHERE id = $1";

/// The number of normal messages of a talk at or below a `seq`.
macro_rules! ord_at {
    ($seq:literal, $talk:literal) => {
        concat!(
            "coalesce((SELECT m.ord FROM messages m WHERE m.talk_id = ",
            $talk,
            " AND m.kind = 'normal' AND m.seq <= ",
            $seq,
            " ORDER BY m.seq DESC LIMIT 1), 0)"
        )
    };
}

/// A record's marker starts at its own `participant_joined` (`$6`).
pub(crate) const INSERT_PARTICIPANT: &str = concat!(
    "INSERT INTO participants (id, talk_id, agent_id, status, \
     left_reason, seq, joined_seq, left_seq, talk_seq, tm_joined, tm_left, read_seq, read_ord, tm_read) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce((SELECT created_seq FROM talks WHERE id = $2), 0), $9, $10, \
     $6, ",
    ord_at!("$6", "$2"),
    ", $9)"
);
/// `$1` record, `$2` the new marker, `$3` tm_read.
pub(crate) const SET_READ_MARKER: &str = concat!(
    "UPDATE participants p SET read_seq = $2, tm_read = $3, read_ord = ",
    ord_at!("$2", "p.talk_id"),
    " WHERE p.id = $1"
);
pub(crate) const UPDATE_PARTICIPANT: &str =
    "UPDATE participants SET status = $2, left_reason = $3, left_seq = $4, tm_left = $5 WHERE id = $1";

/// A normal message takes the next number among its talk's (`normal_total`).
/// `$17`: the message's search words, a `tsvector` literal (NULL for none:
/// a system message, a deleted one, a text without words).
pub(crate) const INSERT_MESSAGE: &str = "WITH numbered AS (UPDATE talks SET normal_total = normal_total + 1 \
     WHERE id = $2 AND $4::text = 'normal' RETURNING normal_total) \
     INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, \
     medias, system, reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete, \
     mentions, ord, search_words) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $13, $14, $15, $16, \
     (SELECT normal_total FROM numbered), $17::text::tsvector)";
/// `$10`: the new text's search words as for [`INSERT_MESSAGE`]; kept only
/// for a normal message.
pub(crate) const UPDATE_MESSAGE: &str = "UPDATE messages SET text = $2, medias = $3, version = $4, \
     tm_update = $5, tm_edit = $6, tm_delete = $7, request_digest = $8, mentions = $9, \
     search_words = CASE WHEN kind = 'normal' THEN $10::text::tsvector END WHERE id = $1";
/// Removes the mention rows of message `$1`, as its `mentions` list them now.
pub(crate) const DROP_MENTIONS: &str = "DELETE FROM mentions x USING messages m, \
     jsonb_array_elements_text(m.mentions) AS a(agent) \
     WHERE m.id = $1 AND x.talk_id = m.talk_id AND x.agent_id = a.agent AND x.seq = m.seq";
/// Writes the mention rows of normal message `$1` from its `mentions`,
/// but the author's own.
pub(crate) const KEEP_MENTIONS: &str = "INSERT INTO mentions (talk_id, agent_id, seq) \
     SELECT m.talk_id, a.agent, m.seq FROM messages m, jsonb_array_elements_text(m.mentions) AS a(agent) \
     WHERE m.id = $1 AND m.kind = 'normal' AND a.agent IS DISTINCT FROM m.agent_id ON CONFLICT DO NOTHING";
/// The messages the search migration indexes.
pub(crate) const MESSAGES_TO_INDEX: &str =
    "SELECT id, text FROM messages WHERE kind = 'normal' AND tm_delete IS NULL ORDER BY seq";
/// `$1` message, `$2` its search words (a `tsvector` literal).
pub(crate) const SET_SEARCH_WORDS: &str = "UPDATE messages SET search_words = $2::text::tsvector WHERE id = $1";
pub(crate) const SECRET_KEY: &str = "SELECT key FROM secret_key";
pub(crate) const SET_MESSAGE_VERSION: &str = "UPDATE messages SET version = $2 WHERE id = $1";
pub(crate) const INCREMENT_REPLY_COUNT: &str = "UPDATE messages SET reply_count = reply_count + 1 WHERE id = $1";
pub(crate) const TOUCH_MESSAGE: &str = "UPDATE messages SET tm_update = $2 WHERE id = $1";
pub(crate) const LOCK_MESSAGE: &str = "SELECT 1 FROM messages WHERE id = $1 FOR SHARE";

pub(crate) const INSERT_REACTION: &str =
    "INSERT INTO reactions (message_id, emoji, agent_id, seq, tm_create) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const ADD_EMOJI: &str = "INSERT INTO message_emoji (message_id, emoji, first_seq, count) \
     VALUES ($1, $2, $3, 1) ON CONFLICT (message_id, emoji) DO UPDATE SET count = message_emoji.count + 1";
pub(crate) const DELETE_REACTION: &str = "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND agent_id = $3";
pub(crate) const REMOVE_EMOJI: &str = "UPDATE message_emoji SET count = count - 1 WHERE message_id = $1 AND emoji = $2";
pub(crate) const DROP_UNUSED_EMOJI: &str =
    "DELETE FROM message_emoji WHERE message_id = $1 AND emoji = $2 AND count <= 0";
pub(crate) const DELETE_ALL_REACTIONS: &str = "DELETE FROM reactions WHERE message_id = $1";
pub(crate) const DELETE_ALL_EMOJI: &str = "DELETE FROM message_emoji WHERE message_id = $1";

pub(crate) const MESSAGE_EVENTS: &str = "SELECT seq, data FROM events WHERE message_id = $1";
pub(crate) const REWRITE_EVENT: &str = "UPDATE events SET data = $2 WHERE seq = $1";
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (seq, talk_id, message_id, tm_create, type, data) VALUES ($1, $2, $3, $4, $5, $6)";

/// Every statement the writer prepares when it connects.
pub(crate) const WRITER_STATEMENTS: &[&str] = &[
    BEGIN,
    COMMIT,
    ROLLBACK,
    SAVEPOINT,
    RELEASE,
    ROLLBACK_TO,
    LOCK_TAIL,
    SET_TAIL,
    NOTIFY,
    GUARD_TALK_VERSION,
    GUARD_PARTICIPANT_ACTIVE,
    GUARD_MESSAGE_VERSION,
    GUARD_MARKER_AT,
    INSERT_TALK,
    UPDATE_TALK,
    INSERT_PARTICIPANT,
    UPDATE_PARTICIPANT,
    INSERT_MESSAGE,
    UPDATE_MESSAGE,
    DROP_MENTIONS,
    KEEP_MENTIONS,
    SET_READ_MARKER,
    SET_MESSAGE_VERSION,
    INCREMENT_REPLY_COUNT,
    TOUCH_MESSAGE,
    LOCK_MESSAGE,
    INSERT_REACTION,
    ADD_EMOJI,
    DELETE_REACTION,
    REMOVE_EMOJI,
    DROP_UNUSED_EMOJI,
    DELETE_ALL_REACTIONS,
    DELETE_ALL_EMOJI,
    MESSAGE_EVENTS,
    REWRITE_EVENT,
    INSERT_EVENT,
];

// ------------------------------------------------------------- the reads

/// The safe head: the committed tail.
pub(crate) const HEAD: &str = "SELECT seq FROM log_tail";
pub(crate) const LOW_WATER_MARK: &str = "SELECT low_water_mark FROM log_tail";
/// Pruning takes the tail's lock too, so it never runs beside a writer.
pub(crate) const PRUNE: &str = "DELETE FROM events WHERE seq > $1 AND seq <= $2";
pub(crate) const SET_LOW_WATER_MARK: &str = "UPDATE log_tail SET low_water_mark = $1";
/// The lowest position of the live holds and of the consumers' cursors, if any.
pub(crate) const LOWEST_HOLD: &str = "SELECT min(position) FROM (\
     SELECT position FROM event_holds WHERE expires_at IS NULL OR expires_at > clock_timestamp() \
     UNION ALL SELECT cursor FROM consumers) AS held";
/// Creates consumer `$1` at cursor `$2` for owner `$3` with a lease of `$4`
/// milliseconds, or takes or renews its lease when `$3` owns it or its
/// lease ran out: the cursor when `$3` holds it now, no row when another
/// lease lives.
pub(crate) const CLAIM_CONSUMER: &str = "INSERT INTO consumers (name, cursor, owner, expires_at) \
     VALUES ($1, $2, $3, clock_timestamp() + $4::bigint * interval '1 millisecond') \
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
     WHERE consumers.owner = excluded.owner OR consumers.expires_at <= clock_timestamp() RETURNING cursor";
/// Moves consumer `$1`'s cursor forward to `$3` and renews its lease for
/// `$4` milliseconds, if `$2` owns it: a row when it does.
pub(crate) const ACK_CONSUMER: &str = "UPDATE consumers SET cursor = greatest(cursor, $3), \
     expires_at = clock_timestamp() + $4::bigint * interval '1 millisecond' WHERE name = $1 AND owner = $2 RETURNING cursor";
/// Every consumer by name (bytewise, as Rust orders strings), with its owner while the lease lives.
pub(crate) const CONSUMERS: &str = "SELECT name, cursor, CASE WHEN expires_at > clock_timestamp() THEN owner END \
     FROM consumers ORDER BY name COLLATE \"C\"";
pub(crate) const REMOVE_CONSUMER: &str = "DELETE FROM consumers WHERE name = $1";
/// Sets a holder's position, with a lease of `$3` milliseconds (`NULL`: none).
pub(crate) const HOLD_EVENTS: &str = "INSERT INTO event_holds (holder, position, expires_at) \
     VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 millisecond') \
     ON CONFLICT (holder) DO UPDATE SET position = excluded.position, expires_at = excluded.expires_at";
pub(crate) const RELEASE_EVENTS: &str = "DELETE FROM event_holds WHERE holder = $1";

macro_rules! talk_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "kind, ",
            $p,
            "pair_low, ",
            $p,
            "pair_high, ",
            $p,
            "name, ",
            $p,
            "detail, ",
            $p,
            "status, ",
            $p,
            "creator_id, ",
            $p,
            "member_count, ",
            $p,
            "version, ",
            $p,
            "created_seq, ",
            $p,
            "tm_create, ",
            $p,
            "tm_update, ",
            $p,
            "tm_close"
        )
    };
}

macro_rules! participant_columns {
    () => {
        "id, talk_id, agent_id, status, left_reason, seq, joined_seq, left_seq, tm_joined, tm_left"
    };
}

/// The columns of a message, then its reaction summary: a JSON array of
/// `[emoji, count, [first reactors…]]` in the order the emoji were first
/// used, with at most `$N` reactors each (`$N` is the parameter named in
/// the macro call), all read in the same statement (one snapshot).
macro_rules! message_select {
    ($listed:literal) => {
        concat!(
            "SELECT m.id, m.talk_id, m.parent_id, m.kind, m.agent_id, m.text, m.medias, m.system, m.reply_count, \
             m.version, m.seq, m.request_digest, m.tm_create, m.tm_update, m.tm_edit, m.tm_delete, rx.summary, \
             m.mentions \
             FROM messages m LEFT JOIN LATERAL (\
             SELECT json_agg(json_build_array(e.emoji, e.count, coalesce(a.agents, '[]'::json)) ORDER BY e.first_seq) \
             AS summary FROM message_emoji e LEFT JOIN LATERAL (\
             SELECT json_agg(r.agent_id ORDER BY r.seq) AS agents FROM (\
             SELECT r.agent_id, r.seq FROM reactions r WHERE r.message_id = e.message_id AND r.emoji = e.emoji \
             ORDER BY r.seq LIMIT ",
            $listed,
            ") r) a ON true WHERE e.message_id = m.id) rx ON true "
        )
    };
}

macro_rules! reaction_columns {
    () => {
        "message_id, emoji, agent_id, seq, tm_create"
    };
}

pub(crate) const TALK: &str = concat!("SELECT ", talk_columns!(""), " FROM talks WHERE id = $1");
pub(crate) const DIRECT_TALK: &str =
    concat!("SELECT ", talk_columns!(""), " FROM talks WHERE pair_low = $1 AND pair_high = $2");
/// `$1` agent, `$2` before (exclusive), `$3` talk status or NULL, `$4` limit.
pub(crate) const TALKS_OF_AGENT: &str = concat!(
    "SELECT ",
    talk_columns!("t."),
    " FROM participants p JOIN talks t ON t.id = p.talk_id \
     WHERE p.agent_id = $1 AND p.status = 'active' AND p.talk_seq < $2 AND ($3::text IS NULL OR t.status = $3) \
     ORDER BY p.talk_seq DESC LIMIT $4"
);

/// The directory. `$1` before (exclusive), `$2` the words, `$3` limit. It
/// walks `talks_directory` (active public talks only, newest first) and
/// tests each row's `name_words`, stopping at the limit: bounded by the
/// active public talks, never every talk. Words are letters and digits
/// only; `strpos` is a plain substring test.
pub(crate) const PUBLIC_TALKS: &str = concat!(
    "SELECT ",
    talk_columns!("t."),
    " FROM talks t \
     WHERE t.kind = 'public' AND t.status = 'active' AND t.created_seq < $1 \
     AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) w WHERE strpos(' ' || t.name_words, ' ' || w) = 0) \
     ORDER BY t.created_seq DESC LIMIT $3"
);

pub(crate) const PARTICIPANT: &str = concat!("SELECT ", participant_columns!(), " FROM participants WHERE id = $1");
pub(crate) const AGENT_RECORDS: &str =
    concat!("SELECT ", participant_columns!(), " FROM participants WHERE agent_id = $1 AND talk_id = $2 ORDER BY seq");
/// `$1` agent, `$2` after.
pub(crate) const AGENT_MEMBERSHIPS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE agent_id = $1 AND (status = 'active' OR left_seq > $2) ORDER BY seq"
);
/// `$1` talk, `$2` after (exclusive), `$3` limit.
pub(crate) const PARTICIPANTS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE talk_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
);
/// `$1` talk, `$2` status, `$3` after (exclusive), `$4` limit.
pub(crate) const PARTICIPANTS_WITH_STATUS: &str = concat!(
    "SELECT ",
    participant_columns!(),
    " FROM participants WHERE talk_id = $1 AND status = $2 AND seq > $3 ORDER BY seq LIMIT $4"
);

/// `$1` id, `$2` reactors listed.
pub(crate) const MESSAGE: &str = concat!(message_select!("$2"), "WHERE m.id = $1");
/// The main view. `$1` talk, `$2` before (exclusive), `$3` limit, `$4` reactors listed.
pub(crate) const TOP_LEVEL_MESSAGES: &str = concat!(
    message_select!("$4"),
    "WHERE m.talk_id = $1 AND m.parent_id IS NULL AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
);
/// `$1` talk, `$2` before (exclusive), `$3` limit, `$4` reactors listed.
pub(crate) const ALL_MESSAGES: &str =
    concat!(message_select!("$4"), "WHERE m.talk_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3");
/// `$1` parent, `$2` after (exclusive), `$3` limit, `$4` reactors listed.
pub(crate) const REPLIES: &str =
    concat!(message_select!("$4"), "WHERE m.parent_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3");

/// A read marker: the record, its talk, agent and `seq`, the marker, the
/// newest message at or below it, `tm_read`.
macro_rules! read_marker {
    ($where:literal) => {
        concat!(
            "SELECT p.id, p.talk_id, p.agent_id, p.seq, p.read_seq, \
             (SELECT m.id FROM messages m WHERE m.talk_id = p.talk_id \
             AND m.seq <= p.read_seq ORDER BY m.seq DESC LIMIT 1), p.tm_read FROM participants p ",
            $where
        )
    };
}
pub(crate) const READ_MARKER: &str = read_marker!("WHERE p.id = $1");
/// `$1` talk, `$2` after (exclusive), `$3` limit: the active records' markers in join order.
pub(crate) const READ_MARKERS: &str =
    read_marker!("WHERE p.talk_id = $1 AND p.status = 'active' AND p.seq > $2 ORDER BY p.seq LIMIT $3");

/// The numbers of an agent's active records (`$1` agent): the talk, normal
/// messages above the marker, the agent's own above it, deleted ones of
/// others above it, and mentions of the agent above it: each a lookup or a
/// range count over an index, never a scan of the talk's messages.
macro_rules! read_numbers {
    ($where:literal) => {
        concat!(
            "SELECT p.talk_id, t.normal_total - p.read_ord, \
             (SELECT count(*) FROM messages m WHERE m.talk_id = p.talk_id \
             AND m.agent_id = p.agent_id AND m.kind = 'normal' AND m.seq > p.read_seq), \
             (SELECT count(*) FROM messages m WHERE m.talk_id = p.talk_id \
             AND m.kind = 'normal' AND m.tm_delete IS NOT NULL AND m.seq > p.read_seq AND m.agent_id <> p.agent_id), \
             (SELECT count(*) FROM mentions x WHERE x.talk_id = p.talk_id AND x.agent_id = p.agent_id \
             AND x.seq > p.read_seq) \
             FROM participants p JOIN talks t ON t.id = p.talk_id WHERE p.agent_id = $1 AND p.status = 'active'",
            $where
        )
    };
}
/// In every talk where the agent has an active record.
pub(crate) const READ_NUMBERS: &str = read_numbers!("");
/// In the talks `$2`.
pub(crate) const READ_NUMBERS_IN: &str = read_numbers!(" AND p.talk_id = ANY($2)");

/// A search: `$1` the `tsquery` literal, `$2` before (exclusive), `$3` the
/// agent, whose active records' talks are joined in the query; filters
/// (NULL for none) `$4` talk, `$5` author, `$6` parent, `$7` has medias,
/// `$8` sent before, `$9` sent after; `$10` limit, `$11` reactors listed.
pub(crate) const SEARCH_MESSAGES: &str = concat!(
    message_select!("$11"),
    "WHERE m.search_words @@ $1::text::tsquery AND m.search_words IS NOT NULL AND m.seq < $2 \
     AND m.kind = 'normal' AND m.tm_delete IS NULL \
     AND m.talk_id IN (SELECT p.talk_id FROM participants p WHERE p.agent_id = $3 AND p.status = 'active') \
     AND ($4::uuid IS NULL OR m.talk_id = $4) AND ($5::text IS NULL OR m.agent_id = $5) \
     AND ($6::uuid IS NULL OR m.parent_id = $6) AND (NOT $7::boolean OR jsonb_array_length(m.medias) > 0) \
     AND ($8::timestamptz IS NULL OR m.tm_create < $8) AND ($9::timestamptz IS NULL OR m.tm_create > $9) \
     ORDER BY m.seq DESC LIMIT $10"
);

pub(crate) const REACTION: &str =
    concat!("SELECT ", reaction_columns!(), " FROM reactions WHERE message_id = $1 AND emoji = $2 AND agent_id = $3");
/// `$1` message, `$2` emoji, `$3` after (exclusive), `$4` limit.
pub(crate) const REACTIONS: &str = concat!(
    "SELECT ",
    reaction_columns!(),
    " FROM reactions WHERE message_id = $1 AND emoji = $2 AND seq > $3 ORDER BY seq LIMIT $4"
);

/// `$1` after (exclusive), `$2` limit. Bounded by the committed tail in the
/// same snapshot (which every committed event is under anyway: writers
/// commit one at a time, in `seq` order).
pub(crate) const EVENTS: &str = "SELECT seq, talk_id, tm_create, data FROM events \
     WHERE seq > $1 AND seq <= (SELECT seq FROM log_tail) ORDER BY seq LIMIT $2";

/// The events of an agent: for each of its records that may span events
/// after `$2` (by the index on `agent_id`), the first `$3` events of the
/// record's talk inside its span after `$2` (by the index on the talk), then
/// merged by `seq` (once each, should two records span one event).
/// `$1` agent, `$2` after, `$3` limit.
macro_rules! agent_events {
    ($talk:literal) => {
        concat!(
            "SELECT DISTINCT ON (e.seq) e.seq, e.talk_id, e.tm_create, e.data FROM participants p \
             CROSS JOIN LATERAL (SELECT ev.seq, ev.talk_id, ev.tm_create, ev.data FROM events ev \
             WHERE ev.talk_id = p.talk_id AND ev.seq > greatest($2, p.joined_seq - 1) \
             AND ev.seq <= coalesce(p.left_seq, 9223372036854775807) ORDER BY ev.seq LIMIT $3) e \
             WHERE p.agent_id = $1 AND (p.left_seq IS NULL OR p.left_seq > $2) ",
            $talk,
            " AND e.seq <= (SELECT seq FROM log_tail) ORDER BY e.seq LIMIT $3"
        )
    };
}
/// See [`agent_events!`].
pub(crate) const AGENT_EVENTS: &str = agent_events!("");
/// As [`AGENT_EVENTS`], in one talk (`$4`).
pub(crate) const AGENT_EVENTS_IN_TALK: &str = agent_events!("AND p.talk_id = $4");
