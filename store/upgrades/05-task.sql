-- v4 -> v5 (compatible with v3+): Long-running actions, edits, and actions recorded with their target and reason
-- A task is an action that Synapse runs in the background (a user's
-- redaction, a room's deletion): Gavel follows it and edits its reply to
-- the command (the outbox message of the command's reply key) as it goes.
-- A task without ended_at is followed again after a restart.
CREATE TABLE task (
	task_id    TEXT PRIMARY KEY,
	-- 'redact_user' or 'delete_room'
	kind       TEXT NOT NULL,
	-- The command (or the confirming reaction) whose reply is edited.
	command_id TEXT NOT NULL,
	room_id    TEXT NOT NULL,
	-- What the reply says about the task, as JSON.
	params     TEXT NOT NULL,
	started_at BIGINT NOT NULL,
	-- The last text queued for the reply, how many edits were queued, and
	-- when the last was.
	shown      TEXT NOT NULL,
	edits      INTEGER NOT NULL,
	shown_at   BIGINT NOT NULL,
	ended_at   BIGINT
);
CREATE INDEX task_running_idx ON task (started_at) WHERE ended_at IS NULL;
-- The outbox message a message relates to (an edit replaces it, a
-- reaction annotates it), sent with the event id that message was posted
-- as; and the event type, NULL for m.room.message.
ALTER TABLE outbox ADD COLUMN relates_to TEXT;
ALTER TABLE outbox ADD COLUMN type TEXT;
ALTER TABLE action ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE action ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE action ADD COLUMN report_id BIGINT;
