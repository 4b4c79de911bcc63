package store

import (
	"context"
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
)

// The kv table: Gavel's own settings and progress markers, named by the
// KVKey constants in keys.go.

// KVQuery reads and writes the kv table (Store.KV).
type KVQuery struct{ db *dbutil.Database }

const (
	getKVQuery = `SELECT value FROM kv WHERE key=$1`
	setKVQuery = `INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value=excluded.value`
)

// Get returns the value stored under key, or "" when there is none.
func (s *KVQuery) Get(ctx context.Context, key KVKey) (string, error) {
	var value string
	err := s.db.QueryRow(ctx, getKVQuery, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return value, err
}

// Set stores value under key.
func (s *KVQuery) Set(ctx context.Context, key KVKey, value string) error {
	_, err := s.db.Exec(ctx, setKVQuery, key, value)
	return err
}
