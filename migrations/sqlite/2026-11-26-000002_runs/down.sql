DROP TABLE server_instances;
DROP INDEX messages_one_running_per_conversation;
ALTER TABLE messages DROP COLUMN runner_id;
