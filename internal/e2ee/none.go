//go:build !goolm

package e2ee

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const available = false

// Machine stands in for the Olm machine in a build without encryption;
// Start never returns one.
type Machine struct{}

// Start returns ErrNotBuilt.
func Start(context.Context, *mautrix.Client, *dbutil.Database, string) (*Machine, error) {
	return nil, ErrNotBuilt
}

// The rest is never called: there is no Machine to call it on.

func (*Machine) Hook(*mautrix.DefaultSyncer) {}

func (*Machine) Decrypt(context.Context, *event.Event) (*event.Event, error) { return nil, ErrNotBuilt }

func (*Machine) RequestKeys(context.Context, *event.Event) {}

func (*Machine) NewSession(context.Context, id.RoomID) error { return ErrNotBuilt }

func (*Machine) Fingerprint() string { return "" }

func Permanent(error) bool { return false }

func BadPickleKey(error) bool { return false }

func ForeignKeys(error) bool { return false }
