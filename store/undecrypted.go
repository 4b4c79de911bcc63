package store

import (
	"context"
	"encoding/json"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// DB is the database itself, for mautrix's crypto and state stores, which
// keep their own tables (and schema versions) next to Gavel's.
func (s *Store) DB() *dbutil.Database { return s.db }

// Undecrypted is an encrypted message waiting for its keys.
type Undecrypted struct {
	Event     *event.Event
	FirstSeen time.Time
}

// AddUndecrypted keeps an encrypted message until its keys arrive. A message
// already kept keeps its first_seen.
func (s *Store) AddUndecrypted(ctx context.Context, evt *event.Event) error {
	data, err := json.Marshal(evt)
	if err != nil {
		return err
	}
	var session id.SessionID
	if content, ok := evt.Content.Parsed.(*event.EncryptedEventContent); ok {
		session = content.SessionID
	}
	_, err = s.db.Exec(ctx, "INSERT INTO undecrypted (event_id, session_id, event, first_seen) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		evt.ID, session, string(data), time.Now().UnixMilli())
	return err
}

// Undecrypted returns the messages waiting for their keys, oldest first,
// their content parsed.
func (s *Store) Undecrypted(ctx context.Context) ([]Undecrypted, error) {
	rows, err := s.db.Query(ctx, "SELECT event, first_seen FROM undecrypted ORDER BY first_seen, event_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Undecrypted
	for rows.Next() {
		var data string
		var firstSeen int64
		if err := rows.Scan(&data, &firstSeen); err != nil {
			return nil, err
		}
		var evt event.Event
		if err := json.Unmarshal([]byte(data), &evt); err != nil {
			return nil, err
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return nil, err
		}
		out = append(out, Undecrypted{Event: &evt, FirstSeen: time.UnixMilli(firstSeen)})
	}
	return out, rows.Err()
}

// RemoveUndecrypted forgets a message: it decrypted, or Gavel gave up.
func (s *Store) RemoveUndecrypted(ctx context.Context, eventID id.EventID) error {
	_, err := s.db.Exec(ctx, "DELETE FROM undecrypted WHERE event_id=$1", eventID)
	return err
}
