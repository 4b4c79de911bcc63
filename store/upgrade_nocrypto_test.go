//go:build !goolm

package store

import "testing"

// checkMautrixStores needs mautrix's crypto, which needs goolm (or cgo
// and libolm): without the goolm tag the crypto part of the fixtures is
// not checked.
func checkMautrixStores(t *testing.T, s *Store, v int) {}
