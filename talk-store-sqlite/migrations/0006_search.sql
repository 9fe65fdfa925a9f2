-- 0006: message search (Store::search_messages).
--
-- An FTS5 index of the words of every normal, non-deleted message: what
-- talk_core::text::index_text makes of its text (folded words joined by
-- single spaces; a text without words has no row). The FTS rowid is the
-- message's `seq`, so a search walks the index newest first and joins each
-- hit to its message through `messages_by_seq`.
--
-- - Contentless (`content=''`): the words are not stored twice; with
--   `contentless_delete=1` the store deletes a message's row by its `seq`
--   in the same change set that edits or deletes the message (its own
--   writes, no triggers).
-- - `secure-delete`: a deleted message's words leave the index file too,
--   not only the index's answers.
-- - The `ascii` tokenizer: the text is already folded and split by
--   talk-core; for `ascii` every non-ASCII character is part of a token and
--   only spaces separate these words, so its tokens are exactly talk-core's
--   words (no second idea of what a word is).
-- - Prefix indexes for prefixes of 1 to 4 characters: a short prefix query
--   does not walk every term that starts with it.
--
-- The existing messages are indexed by the store right after this script,
-- in the same transaction (the folding is talk-core's Rust code).
CREATE VIRTUAL TABLE message_search USING fts5(
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii',
    prefix = '1 2 3 4'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
-- A search hit's message, by the hit's rowid.
CREATE UNIQUE INDEX messages_by_seq ON messages (seq);
