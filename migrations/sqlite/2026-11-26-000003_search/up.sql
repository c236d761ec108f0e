-- Search (`GET /api/conversations?q=`): an FTS5 index over every
-- conversation's title and every message's text, kept in sync by triggers,
-- so that no write path of the server can forget it.
--
-- The trigram tokenizer indexes every three characters, case-folded: a
-- phrase query then finds any substring of three characters or more, which
-- keeps the API's "contains the text" promise (a fragment inside a word
-- is found too). Shorter text is matched by a scan (see db/conversations.rs).
-- The PostgreSQL migration of the same version has the same meaning.

-- One row per indexed text: a conversation's title (message_id '') or a
-- message's text. `doc` is the rowid in search_index; a table of our own
-- rather than the rowids of conversations or messages, which VACUUM may
-- renumber (their keys are TEXT). user_id lets a search keep only the
-- caller's documents before it joins anything else.
CREATE TABLE search_docs (
    doc             INTEGER PRIMARY KEY,
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    UNIQUE (conversation_id, message_id)
);

-- Contentless: the text already lives in conversations and messages;
-- contentless_delete lets a row be removed by its rowid alone.
CREATE VIRTUAL TABLE search_index USING fts5(
    text,
    tokenize = 'trigram',
    content = '',
    contentless_delete = 1
);

-- Backfill what already exists.
INSERT INTO search_docs (user_id, conversation_id, message_id)
    SELECT user_id, id, '' FROM conversations;
INSERT INTO search_docs (user_id, conversation_id, message_id)
    SELECT c.user_id, m.conversation_id, m.id
    FROM messages m JOIN conversations c ON c.id = m.conversation_id;
INSERT INTO search_index (rowid, text)
    SELECT d.doc, c.title
    FROM search_docs d JOIN conversations c ON c.id = d.conversation_id
    WHERE d.message_id = '';
INSERT INTO search_index (rowid, text)
    SELECT d.doc, m.content
    FROM search_docs d JOIN messages m ON m.id = d.message_id
    WHERE m.content <> '';
-- One segment instead of the many a large backfill leaves: faster queries.
INSERT INTO search_index (search_index) VALUES ('optimize');

-- Removing a document removes its index entries.
CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_index WHERE rowid = old.doc;
END;

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO search_docs (user_id, conversation_id, message_id)
        VALUES (new.user_id, new.id, '');
    INSERT INTO search_index (rowid, text)
        SELECT doc, new.title FROM search_docs
        WHERE conversation_id = new.id AND message_id = '';
END;

-- Renames and generated titles.
CREATE TRIGGER conversations_search_title AFTER UPDATE OF title ON conversations
WHEN old.title IS NOT new.title BEGIN
    DELETE FROM search_index WHERE rowid =
        (SELECT doc FROM search_docs WHERE conversation_id = new.id AND message_id = '');
    INSERT INTO search_index (rowid, text)
        SELECT doc, new.title FROM search_docs
        WHERE conversation_id = new.id AND message_id = '';
END;

-- Also when foreign keys are off on the connection that deletes (the
-- cascade to messages would not run then either, but the index must not
-- keep documents of a conversation that is gone).
CREATE TRIGGER conversations_search_delete AFTER DELETE ON conversations BEGIN
    DELETE FROM search_docs WHERE conversation_id = old.id;
END;

-- A running answer is stored empty: nothing to index until it has text.
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_docs (user_id, conversation_id, message_id)
        SELECT user_id, new.conversation_id, new.id FROM conversations
        WHERE id = new.conversation_id;
    INSERT INTO search_index (rowid, text)
        SELECT doc, new.content FROM search_docs
        WHERE conversation_id = new.conversation_id AND message_id = new.id
          AND new.content <> '';
END;

-- A council's final answer arrives as an update of its message. Progress
-- is saved many times with the same text: only a change is re-indexed.
CREATE TRIGGER messages_search_content AFTER UPDATE OF content ON messages
WHEN old.content IS NOT new.content BEGIN
    DELETE FROM search_index WHERE rowid =
        (SELECT doc FROM search_docs
         WHERE conversation_id = new.conversation_id AND message_id = new.id);
    INSERT INTO search_index (rowid, text)
        SELECT doc, new.content FROM search_docs
        WHERE conversation_id = new.conversation_id AND message_id = new.id
          AND new.content <> '';
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_docs
    WHERE conversation_id = old.conversation_id AND message_id = old.id;
END;
