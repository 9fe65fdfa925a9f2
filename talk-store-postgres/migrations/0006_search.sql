-- 0006: message search (Store::search_messages).
--
-- `search_words`: the words of a normal, non-deleted message as a
-- `tsvector`, NULL otherwise. The store writes it with the message's text in
-- the same statement (send, edit, delete): the lexemes are the folded words
-- of talk_core::text::index_text, with their positions, given to PostgreSQL
-- as a `tsvector` literal, so the server neither splits nor folds anything
-- (no text search configuration, no extension: the `simple` behaviour,
-- exactly talk-core's words). A query is a `tsquery` literal of the same
-- words: `'word':*` for a prefix, `'a' <-> 'b'` for a phrase.
--
-- The messages already stored are indexed by the store right after this
-- script, in the same transaction (the folding is talk-core's Rust code).
ALTER TABLE messages ADD COLUMN search_words tsvector;
CREATE INDEX messages_search ON messages USING gin (search_words) WHERE search_words IS NOT NULL;
