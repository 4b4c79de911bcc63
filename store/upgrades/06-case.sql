-- v5 -> v6 (compatible with v3+): Every report is a case: open, claimed, resolved or dismissed; duplicate reports join the first's card
-- A report without a row here is open. Each change raises version; the
-- edit of the report's card for that change is keyed by it, so a change
-- reaches its card exactly once.
CREATE TABLE report_case (
	kind        TEXT NOT NULL,
	report_id   BIGINT NOT NULL,
	received_ts BIGINT NOT NULL,
	-- 'open', 'claimed', 'resolved' or 'dismissed'
	state       TEXT NOT NULL,
	-- Who claimed, resolved, dismissed or reopened it, when, and why.
	changed_by  TEXT NOT NULL,
	changed_at  BIGINT NOT NULL,
	note        TEXT NOT NULL,
	version     INTEGER NOT NULL,
	PRIMARY KEY (kind, report_id, received_ts)
);
CREATE INDEX action_report_idx ON action (report_id) WHERE report_id IS NOT NULL;
-- A report of an event that already has an open card is recorded with
-- state 'duplicate' and that card's key; its reporter and reason are kept
-- for the card.
ALTER TABLE report ADD COLUMN reporter TEXT;
ALTER TABLE report ADD COLUMN reason TEXT;
CREATE INDEX report_event_idx ON report (event_id);
-- Reports whose case was closed and that Gavel then deleted in Synapse
-- (reports.delete_on_resolve): the report and its event as Synapse had
-- them, as JSON.
CREATE TABLE report_archive (
	kind        TEXT NOT NULL,
	report_id   BIGINT NOT NULL,
	received_ts BIGINT NOT NULL,
	report      TEXT NOT NULL,
	archived_at BIGINT NOT NULL,
	PRIMARY KEY (kind, report_id, received_ts)
);
-- Reporters told, by server notice, that their report's case was closed
-- (reports.notify_reporter): each report at most once.
CREATE TABLE reporter_notice (
	kind        TEXT NOT NULL,
	report_id   BIGINT NOT NULL,
	received_ts BIGINT NOT NULL,
	sent_at     BIGINT NOT NULL,
	event_id    TEXT NOT NULL,
	PRIMARY KEY (kind, report_id, received_ts)
);
