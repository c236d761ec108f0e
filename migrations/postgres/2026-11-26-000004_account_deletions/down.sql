DROP TRIGGER users_deleted ON users;
DROP FUNCTION users_deleted();
DROP TABLE account_deletions;
