package store

import (
	"context"
	"encoding/json"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// The undecrypted table: encrypted messages from the management room whose
// keys had not arrived when Gavel saw them. They are kept until they
// decrypt or Gavel gives up, so a restart meanwhile loses no command.

// UndecryptedQuery reads and writes the undecrypted table
// (Store.Undecrypted).
type UndecryptedQuery struct{ db *dbutil.Database }

const (
	addUndecryptedQuery    = `INSERT INTO undecrypted (event_id, session_id, event, first_seen) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	getUndecryptedQuery    = `SELECT event, first_seen FROM undecrypted ORDER BY first_seen, event_id`
	removeUndecryptedQuery = `DELETE FROM undecrypted WHERE event_id=$1`
)

// Undecrypted is an encrypted message waiting for its keys.
type Undecrypted struct {
	Event     *event.Event
	FirstSeen time.Time
}

var scanUndecrypted dbutil.ConvertRowFn[Undecrypted] = func(row dbutil.Scannable) (Undecrypted, error) {
	var data string
	var firstSeen int64
	if err := row.Scan(&data, &firstSeen); err != nil {
		return Undecrypted{}, err
	}
	var evt event.Event
	if err := json.Unmarshal([]byte(data), &evt); err != nil {
		return Undecrypted{}, err
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		return Undecrypted{}, err
	}
	return Undecrypted{Event: &evt, FirstSeen: time.UnixMilli(firstSeen)}, nil
}

// Add keeps an encrypted message until its keys arrive. A message
// already kept keeps its first_seen.
func (s *UndecryptedQuery) Add(ctx context.Context, evt *event.Event) error {
	data, err := json.Marshal(evt)
	if err != nil {
		return err
	}
	var session id.SessionID
	if content, ok := evt.Content.Parsed.(*event.EncryptedEventContent); ok {
		session = content.SessionID
	}
	_, err = s.db.Exec(ctx, addUndecryptedQuery, evt.ID, session, string(data), time.Now().UnixMilli())
	return err
}

// List returns the messages waiting for their keys, oldest first,
// their content parsed.
func (s *UndecryptedQuery) List(ctx context.Context) ([]Undecrypted, error) {
	return scanUndecrypted.NewRowIter(s.db.Query(ctx, getUndecryptedQuery)).AsList()
}

// Remove forgets a message: it decrypted, or Gavel gave up.
func (s *UndecryptedQuery) Remove(ctx context.Context, eventID id.EventID) error {
	_, err := s.db.Exec(ctx, removeUndecryptedQuery, eventID)
	return err
}
