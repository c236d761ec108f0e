-- Council runs. A running assistant message is the conversation's lock: at
-- most one per conversation, enforced by the database so that it holds
-- across replicas. Each run records the server instance executing it; an
-- instance that stops heart-beating leaves its runs to be marked failed.

ALTER TABLE messages ADD COLUMN runner_id TEXT;

CREATE UNIQUE INDEX messages_one_running_per_conversation
    ON messages (conversation_id) WHERE status = 'running';

CREATE TABLE server_instances (
    id           TEXT PRIMARY KEY NOT NULL,
    started_at   TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    heartbeat_at TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
