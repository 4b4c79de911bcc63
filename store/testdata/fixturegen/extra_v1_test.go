package store

import "testing"

func writeExtra(t *testing.T, s *Store) {}
