package bot

import (
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
)

// What crypto_test.go (package bot_test, which the kit in internal/testkit/bottest
// lets run Gavel) looks at inside a running Bot.

var ErrNoPickleKey = errNoPickleKey

// DeviceID is the device Gavel's client logged in as.
func (b *Bot) DeviceID() id.DeviceID { return b.client.DeviceID }

// Encrypted reports whether Gavel knows the management room is encrypted.
func (b *Bot) Encrypted() bool { return b.serverRoom().encrypted.Load() }

// Sender is Gavel's outbox sender.
func (b *Bot) Sender() *outbox.Sender { return b.sender }

// Store is Gavel's database.
func (b *Bot) Store() *store.Store { return b.store }
