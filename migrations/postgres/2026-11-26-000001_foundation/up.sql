-- Accounts, provider keys, refresh-token families, conversations, messages.
-- Ids are lowercase hyphenated UUID strings; times are UTC without a zone.
-- The PostgreSQL migration of the same version has the same meaning.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL
);

CREATE TABLE user_api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    encrypted_key TEXT NOT NULL,
    key_hint      TEXT NOT NULL,
    created_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (user_id, provider)
);

-- One row per login: the refresh token currently valid for it is current_jti.
-- Presenting any older token of the family revokes the whole family.
CREATE TABLE refresh_token_families (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    current_jti    TEXT NOT NULL,
    created_at     TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    rotated_at     TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    expires_at     TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    revoked_at     TIMESTAMP WITHOUT TIME ZONE,
    revoked_reason TEXT
);
CREATE INDEX refresh_token_families_user_id ON refresh_token_families (user_id);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    models        TEXT NOT NULL, -- JSON array of model ids
    lead_model    TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at DESC);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    -- The question, or the council's final answer once it exists (searched by ?q=).
    content         TEXT NOT NULL DEFAULT '',
    status          TEXT CHECK (status IN ('running', 'complete', 'partial', 'failed')),
    stage1          TEXT, -- JSON
    stage2          TEXT, -- JSON
    stage3          TEXT, -- JSON
    metadata        TEXT, -- JSON
    error           TEXT,
    created_at      TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at      TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (conversation_id, seq)
);
