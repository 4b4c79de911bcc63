-- v2 -> v3: Reports of users and rooms: report.kind, in the primary key
-- Every report so far is an event report. SQLite cannot change a primary
-- key in place, so there the table is rebuilt.
-- only: postgres until "end only"
ALTER TABLE report ADD COLUMN kind TEXT NOT NULL DEFAULT 'event';
ALTER TABLE report ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE report DROP CONSTRAINT report_pkey;
ALTER TABLE report ADD PRIMARY KEY (kind, report_id, received_ts);
-- end only postgres
-- only: sqlite until "end only"
CREATE TABLE report_v3 (
	kind        TEXT NOT NULL,
	report_id   BIGINT NOT NULL,
	received_ts BIGINT NOT NULL,
	room_id     TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	state       TEXT NOT NULL,
	outbox_key  TEXT,
	seen_at     BIGINT NOT NULL,
	PRIMARY KEY (kind, report_id, received_ts)
);
INSERT INTO report_v3 (kind, report_id, received_ts, room_id, event_id, state, outbox_key, seen_at)
	SELECT 'event', report_id, received_ts, room_id, event_id, state, outbox_key, seen_at FROM report;
DROP TABLE report;
ALTER TABLE report_v3 RENAME TO report;
-- end only sqlite
