-- v8 -> v9 (compatible with v9+): Cards, confirmations and actions keep their report and command in columns, not in text
-- Compatible with v9 only: an older Gavel would queue cards without their
-- report, whose buttons and threads this one could not follow.
-- report_kind, report_id and report_ts are the report whose card this
-- outbox message is (NULL for every other message): what a reaction to it
-- is about. Cards queued before v9 get theirs from the report table.
ALTER TABLE outbox ADD COLUMN report_kind TEXT;
ALTER TABLE outbox ADD COLUMN report_id BIGINT;
ALTER TABLE outbox ADD COLUMN report_ts BIGINT;
UPDATE outbox SET
	report_kind=(SELECT r.kind FROM report r WHERE r.outbox_key=outbox.key AND r.state='notice'),
	report_id=(SELECT r.report_id FROM report r WHERE r.outbox_key=outbox.key AND r.state='notice'),
	report_ts=(SELECT r.received_ts FROM report r WHERE r.outbox_key=outbox.key AND r.state='notice')
	WHERE EXISTS (SELECT 1 FROM report r WHERE r.outbox_key=outbox.key AND r.state='notice');
-- A pending action is its command's name (commands.Spec.Name) and its
-- parsed arguments as JSON, run as they are when confirmed; command stays
-- the text the moderator sent, for the action log. The report it is about
-- and the thread its preview is in are their own columns. Rows from before
-- v9 have no name: confirming one answers "send the command again".
ALTER TABLE pending ADD COLUMN command_name TEXT;
ALTER TABLE pending ADD COLUMN args TEXT;
ALTER TABLE pending ADD COLUMN report_kind TEXT;
ALTER TABLE pending ADD COLUMN report_id BIGINT;
ALTER TABLE pending ADD COLUMN thread TEXT;
-- name is the command an action ran (commands.Spec.Name), so that a
-- card lists its actions without reading the text the moderator sent;
-- NULL before v9.
ALTER TABLE action ADD COLUMN name TEXT;
