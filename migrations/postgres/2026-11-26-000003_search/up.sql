-- Search (`GET /api/conversations?q=`): one document per conversation
-- title and per message text, kept in sync by triggers, so that no write
-- path of the server can forget it.
--
-- Matching is a case-insensitive substring test (the API's "contains the
-- text", a fragment inside a word included), served by a pg_trgm GIN index;
-- the tsvector only ranks what matched (ts_rank). Text shorter than three
-- characters cannot use the trigram index and is matched by a scan (see
-- db/conversations.rs). The SQLite migration of the same version has the
-- same meaning.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the
-- database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_docs (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- '' for the conversation's title.
    message_id      TEXT NOT NULL,
    -- The owner, so that a search keeps only the caller's documents in the
    -- index scan itself (a BitmapAnd), not after reading everyone's.
    user_id         TEXT NOT NULL,
    -- lower(text): the trigram index and the LIKE recheck then need no
    -- lower() per row.
    body            TEXT NOT NULL,
    -- For ranking only. A tsvector is limited to 1 MB: the first 100,000
    -- characters rank a text well enough and keep any answer storable.
    tsv             TSVECTOR NOT NULL
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, left(body, 100000))) STORED,
    PRIMARY KEY (conversation_id, message_id)
)
-- A typical document (a question or an answer of a few KB, twice: the text
-- and its tsvector) then stays in the row, uncompressed: every match is
-- read twice per search (LIKE, ts_rank), and decompressing or fetching it
-- from TOAST made that a third slower. Larger ones are still compressed.
WITH (toast_tuple_target = 8160);

-- Backfill what already exists (before the indexes: one bulk build is
-- faster than as many insertions).
INSERT INTO search_docs (conversation_id, message_id, user_id, body)
    SELECT id, '', user_id, lower(title) FROM conversations;
INSERT INTO search_docs (conversation_id, message_id, user_id, body)
    SELECT m.conversation_id, m.id, c.user_id, lower(m.content)
    FROM messages m JOIN conversations c ON c.id = m.conversation_id;

CREATE INDEX search_docs_user ON search_docs (user_id);
CREATE INDEX search_docs_body_trgm ON search_docs USING gin (body gin_trgm_ops);

CREATE FUNCTION search_docs_from_conversation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (conversation_id, message_id, user_id, body)
    VALUES (NEW.id, '', NEW.user_id, lower(NEW.title))
    ON CONFLICT (conversation_id, message_id) DO UPDATE SET body = EXCLUDED.body;
    RETURN NULL;
END
$$;

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION search_docs_from_conversation();
-- Renames and generated titles.
CREATE TRIGGER conversations_search_title AFTER UPDATE OF title ON conversations
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION search_docs_from_conversation();
-- A deleted conversation takes its documents along (the foreign key).

CREATE FUNCTION search_docs_from_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (conversation_id, message_id, user_id, body)
    SELECT NEW.conversation_id, NEW.id, c.user_id, lower(NEW.content)
    FROM conversations c WHERE c.id = NEW.conversation_id
    ON CONFLICT (conversation_id, message_id) DO UPDATE SET body = EXCLUDED.body;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION search_docs_from_message();
-- A council's final answer arrives as an update of its message. Progress
-- is saved many times with the same text: only a change is re-indexed.
CREATE TRIGGER messages_search_content AFTER UPDATE OF content ON messages
    FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content)
    EXECUTE FUNCTION search_docs_from_message();

CREATE FUNCTION search_docs_drop_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_docs
    WHERE conversation_id = OLD.conversation_id AND message_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION search_docs_drop_message();
