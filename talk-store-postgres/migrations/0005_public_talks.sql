-- 0005: public talks and the directory (Store::public_talks).

-- A third kind of talk.
ALTER TABLE talks DROP CONSTRAINT talks_kind_check;
ALTER TABLE talks ADD CONSTRAINT talks_kind_check CHECK (kind IN ('direct', 'group', 'public'));

-- name_words: the talk name's folded words as talk_core::text::index_text
-- makes them (joined by single spaces), written by the store itself on every
-- insert and update of a talk from the name it writes, so the words never
-- disagree with the name. A directory word matches where
-- ' ' || name_words contains ' ' || word: a whole word or a word prefix.
-- Talks made before this migration cannot be public (a kind never changes),
-- so their empty name_words is never read.
ALTER TABLE talks ADD COLUMN name_words text NOT NULL DEFAULT '';

-- The directory walks this index: the active public talks only, newest
-- first, and stops at its page. The name test is made on those rows, so a
-- read is bounded by the active public talks, never every talk; a page
-- whose words are common stops after page_size + 1 matches.
CREATE INDEX talks_directory ON talks (kind, status, created_seq DESC);
