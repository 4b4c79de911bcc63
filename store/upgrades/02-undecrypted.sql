-- v1 -> v2: Messages waiting for their decryption keys
-- Encrypted messages from the management room whose keys had not arrived
-- when Gavel saw them. They are kept until they decrypt or Gavel gives up,
-- so a restart meanwhile loses no command.
CREATE TABLE undecrypted (
	event_id   TEXT PRIMARY KEY,
	session_id TEXT NOT NULL,
	event      TEXT NOT NULL,
	first_seen BIGINT NOT NULL
);
