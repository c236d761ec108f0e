-- Deleted accounts, for the servers that remember recent users in memory
-- (server/src/auth/cache.rs): each replica polls this table and forgets
-- the ids it finds, so an access token of a deleted account stops working
-- on every replica, not only the one that deleted it. Only the id is kept,
-- and only for an hour (the servers prune it). A trigger, so that no way
-- of deleting a user can forget it. The SQLite migration of the same
-- version has the same meaning.
CREATE TABLE account_deletions (
    user_id    TEXT NOT NULL,
    -- The database's clock (the deleting transaction's start): replicas
    -- compare it with that clock, never with their own.
    deleted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX account_deletions_at ON account_deletions (deleted_at);

CREATE FUNCTION users_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_deletions (user_id) VALUES (OLD.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_deleted();
