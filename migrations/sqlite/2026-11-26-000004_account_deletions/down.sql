DROP TRIGGER users_deleted;
DROP TABLE account_deletions;
