-- Deleted accounts, for the servers that remember recent users in memory
-- (server/src/auth/cache.rs): each polls this table and forgets the ids
-- it finds, so an access token of a deleted account stops working on every
-- server, not only the one that deleted it. Only the id is kept, and only
-- for an hour (the servers prune it). A trigger, so that no way of deleting
-- a user can forget it.
CREATE TABLE account_deletions (
    user_id    TEXT NOT NULL,
    -- SQLite's own clock, in the format diesel stores timestamps in, so
    -- the servers compare it with that clock, never with their own.
    deleted_at TEXT NOT NULL
);
CREATE INDEX account_deletions_at ON account_deletions (deleted_at);

CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN
    INSERT INTO account_deletions (user_id, deleted_at)
        VALUES (old.id, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
