-- v3 -> v4 (compatible with v3+): Actions waiting for a moderator's confirmation
-- The preview of an action that needs confirmation is the outbox message
-- preview_key; the action runs when a moderator confirms it in time, once:
-- deciding moves state from 'pending' in one statement, which only one
-- moderator's reaction can win.
CREATE TABLE pending (
	preview_key TEXT PRIMARY KEY,
	command     TEXT NOT NULL,
	sender      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	-- 'pending', 'confirmed' or 'cancelled'
	state       TEXT NOT NULL,
	decided_by  TEXT,
	decided_at  BIGINT
);
CREATE INDEX outbox_event_idx ON outbox (event_id);
