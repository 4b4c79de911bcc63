package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The desk_room table: the rooms in each community desk's scope, as last
// read, so that a restart routes reports with them until the spaces are
// read again. When and from what each desk's scope was read is in the kv
// table (KVDeskRefreshed, KVDeskSource), written in the same transaction.

// DeskRoomQuery reads and writes the desk_room table (Store.DeskRooms).
type DeskRoomQuery struct {
	db *dbutil.Database
	kv *KVQuery
}

// DeskRoom is one room in a desk's scope.
type DeskRoom struct {
	RoomID id.RoomID
	// Via is the space the room was found in, or "" for a room the desk
	// lists.
	Via id.RoomID
}

// GetMassInsertValues is the row's own columns, for the mass insert.
func (r DeskRoom) GetMassInsertValues() [2]any { return [2]any{r.RoomID, r.Via} }

// DeskScope is a desk's scope as read at RefreshedAt.
type DeskScope struct {
	Rooms []DeskRoom
	// Source says what the scope was read from (the desk's spaces and
	// rooms as configured then), so that a scope read from another
	// configuration is not used.
	Source      string
	RefreshedAt time.Time
}

const (
	deleteDeskRoomsQuery = `DELETE FROM desk_room WHERE desk=$1`
	insertDeskRoomQuery  = `INSERT INTO desk_room (desk, room_id, via) VALUES ($1, $2, $3)`
	allDeskRoomsQuery    = `SELECT desk, room_id, via FROM desk_room ORDER BY desk, room_id`
	deskKVQuery          = `SELECT key, value FROM kv WHERE key LIKE 'desk.%'`
)

var massInsertDeskRoom = dbutil.NewMassInsertBuilder[DeskRoom, [1]any](insertDeskRoomQuery, "($1, $%d, $%d)")

// deskRoomChunk keeps a mass insert's parameters far below SQLite's and
// PostgreSQL's limits.
const deskRoomChunk = 1000

// Replace makes scope desk's stored scope, in one transaction: its rooms,
// its source and when it was read. A room listed twice is kept once.
func (s *DeskRoomQuery) Replace(ctx context.Context, desk string, scope DeskScope) error {
	rooms := slices.Clone(scope.Rooms)
	slices.SortStableFunc(rooms, func(a, b DeskRoom) int { return strings.Compare(string(a.RoomID), string(b.RoomID)) })
	rooms = slices.CompactFunc(rooms, func(a, b DeskRoom) bool { return a.RoomID == b.RoomID })
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, deleteDeskRoomsQuery, desk); err != nil {
			return err
		}
		for chunk := range slices.Chunk(rooms, deskRoomChunk) {
			query, params := massInsertDeskRoom.Build([1]any{desk}, chunk)
			if _, err := s.db.Exec(ctx, query, params...); err != nil {
				return err
			}
		}
		if err := s.kv.Set(ctx, KVDeskSource(desk), scope.Source); err != nil {
			return err
		}
		return s.kv.Set(ctx, KVDeskRefreshed(desk), strconv.FormatInt(scope.RefreshedAt.UnixMilli(), 10))
	})
}

// All returns every stored scope, by desk name. A desk that was never
// read has none.
func (s *DeskRoomQuery) All(ctx context.Context) (map[string]*DeskScope, error) {
	scopes := map[string]*DeskScope{}
	get := func(desk string) *DeskScope {
		if scopes[desk] == nil {
			scopes[desk] = &DeskScope{}
		}
		return scopes[desk]
	}
	rows, err := s.db.Query(ctx, allDeskRoomsQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var desk string
		var r DeskRoom
		if err := rows.Scan(&desk, &r.RoomID, &r.Via); err != nil {
			return nil, err
		}
		sc := get(desk)
		sc.Rooms = append(sc.Rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	kvRows, err := s.db.Query(ctx, deskKVQuery)
	if err != nil {
		return nil, err
	}
	defer kvRows.Close()
	for kvRows.Next() {
		var key, value string
		if err := kvRows.Scan(&key, &value); err != nil {
			return nil, err
		}
		if desk, ok := strings.CutPrefix(key, string(kvDeskRefreshed)); ok {
			ms, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("kv %s: %q is not a time in milliseconds: %w", key, value, err)
			}
			get(desk).RefreshedAt = time.UnixMilli(ms)
		} else if desk, ok := strings.CutPrefix(key, string(kvDeskSource)); ok {
			get(desk).Source = value
		}
	}
	return scopes, kvRows.Err()
}
