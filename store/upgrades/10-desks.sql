-- v9 -> v10 (compatible with v9+): Desks: the rooms each desk covers, and the desk a case changed in
-- The rooms in each community desk's scope, as last read: the rooms it
-- lists and the rooms in its spaces. A restart routes with them until the
-- next refresh. via is the space the room was found in, or '' for a room
-- the desk lists.
CREATE TABLE desk_room (
	desk    TEXT NOT NULL,
	room_id TEXT NOT NULL,
	via     TEXT NOT NULL,
	PRIMARY KEY (desk, room_id)
);
-- The desk (its name; '' for the server desk) the case last changed in.
-- A v9 Gavel leaves it '': the server desk.
ALTER TABLE report_case ADD COLUMN desk TEXT NOT NULL DEFAULT '';
-- A report's cards, one per desk (store.OutboxQuery.Cards).
CREATE INDEX outbox_report_idx ON outbox (report_id) WHERE report_id IS NOT NULL;
-- A message in the thread of the message under relates_to (not an edit
-- of it): the escalation note in a card's thread, queued with the card.
ALTER TABLE outbox ADD COLUMN in_thread BOOLEAN NOT NULL DEFAULT false;
