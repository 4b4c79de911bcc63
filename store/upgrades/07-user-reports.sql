-- v6 -> v7 (compatible with v3+): User reports; who each report is about and who filed it, for the context on cards
-- target_user is the user a report is about: the sender of the reported
-- event, or the reported user of a user report; NULL when unknown. From
-- v7 on, reporter is kept for every report, not only duplicates. Both are
-- indexed for a card's history of the user and record of the reporter.
ALTER TABLE report ADD COLUMN target_user TEXT;
CREATE INDEX report_target_idx ON report (target_user) WHERE target_user IS NOT NULL;
CREATE INDEX report_reporter_idx ON report (reporter) WHERE reporter IS NOT NULL;
-- report_kind is the kind of the report in report_id; NULL for an event
-- report, as every action before v7 was for.
ALTER TABLE action ADD COLUMN report_kind TEXT;
