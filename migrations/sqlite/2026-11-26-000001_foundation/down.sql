DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE refresh_token_families;
DROP TABLE user_api_keys;
DROP TABLE users;
