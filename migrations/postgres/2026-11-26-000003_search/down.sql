-- pg_trgm stays: other objects of the database may have come to use it.
DROP TRIGGER messages_search_delete ON messages;
DROP TRIGGER messages_search_content ON messages;
DROP TRIGGER messages_search_insert ON messages;
DROP TRIGGER conversations_search_title ON conversations;
DROP TRIGGER conversations_search_insert ON conversations;
DROP FUNCTION search_docs_drop_message();
DROP FUNCTION search_docs_from_message();
DROP FUNCTION search_docs_from_conversation();
DROP TABLE search_docs;
