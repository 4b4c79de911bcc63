-- v7 -> v8 (compatible with v3+): The Gavels sharing a PostgreSQL database, for the standby
-- One row per running process (id is random per start). The active one
-- holds the advisory lock on the PostgreSQL connection whose backend pid is
-- backend. seen_at is the database's clock (ms) when the instance last
-- confirmed it is alive; a standby ends the session of an active instance
-- not heard from for a while. Rows not seen for a day are removed.
CREATE TABLE instance (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	version    TEXT NOT NULL,
	backend    BIGINT,
	active     BOOLEAN NOT NULL DEFAULT false,
	started_at BIGINT NOT NULL,
	seen_at    BIGINT NOT NULL
);
