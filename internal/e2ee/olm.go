//go:build goolm

package e2ee

import (
	"context"
	"errors"
	"strings"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/crypto/olm"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const available = true

// Machine is a client's Olm machine.
type Machine struct {
	client *mautrix.Client
	helper *cryptohelper.CryptoHelper
}

// Start loads (or, the first time, creates and uploads) the encryption
// keys of cli's device from db, where they are stored encrypted with
// pickleKey under the device id: a restart with the same token keeps the
// same device, and a new token's device gets keys of its own. Room state
// (members, encryption) is kept in db too. From then on cli encrypts what
// it sends into encrypted rooms.
func Start(ctx context.Context, cli *mautrix.Client, db *dbutil.Database, pickleKey string) (*Machine, error) {
	// cryptohelper creates its state store only when the client has none,
	// and hooks itself into client.Syncer, which Gavel never runs: Hook
	// feeds the machine from Gavel's own sync loop instead.
	cli.StateStore = nil
	cli.Syncer = mautrix.NewDefaultSyncer()
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte(pickleKey), db)
	if err != nil {
		return nil, err
	}
	helper.DBAccountID = string(cli.DeviceID)
	if err := helper.Init(ctx); err != nil {
		return nil, err
	}
	cli.Crypto = helper
	return &Machine{client: cli, helper: helper}, nil
}

// Hook makes syncer feed the machine: keys, device lists and one-time key
// counts first (OnSync runs before the rooms, so a message and its keys in
// the same sync decrypt), then membership and room state.
func (m *Machine) Hook(syncer *mautrix.DefaultSyncer) {
	mach := m.helper.Machine()
	syncer.OnSync(mach.ProcessSyncResponse)
	syncer.OnEventType(event.StateMember, mach.HandleMemberEvent)
	syncer.OnEvent(m.client.StateStoreSyncHandler)
}

// Decrypt decrypts a Megolm-encrypted room event.
func (m *Machine) Decrypt(ctx context.Context, evt *event.Event) (*event.Event, error) {
	return m.helper.Decrypt(ctx, evt)
}

// RequestKeys asks the sender's devices (and the client's own) for the
// keys of evt.
func (m *Machine) RequestKeys(ctx context.Context, evt *event.Event) {
	content := evt.Content.AsEncrypted()
	m.helper.RequestSession(ctx, evt.RoomID, content.SenderKey, content.SessionID, evt.Sender, "")
}

// NewSession makes the next message into room start a new Megolm session,
// shared with the members the state store knows then: mautrix shares a
// session once.
func (m *Machine) NewSession(ctx context.Context, room id.RoomID) error {
	return m.helper.Machine().CryptoStore.RemoveOutboundGroupSession(ctx, room)
}

// Fingerprint is the device's key fingerprint, as clients show it.
func (m *Machine) Fingerprint() string { return m.helper.Machine().Fingerprint() }

// Permanent reports whether a decryption error is one no key can fix: a
// replayed message index, a corrupt payload, the wrong room.
func Permanent(err error) bool {
	return errors.Is(err, crypto.ErrDuplicateMessageIndex) || errors.Is(err, crypto.ErrCorruptedMegolmPayload) ||
		errors.Is(err, crypto.ErrWrongRoom) || errors.Is(err, crypto.ErrUnsupportedAlgorithm) ||
		errors.Is(err, crypto.ErrIncorrectEncryptedContentType)
}

// BadPickleKey reports whether Start failed because the keys in the
// database are encrypted with another pickle key.
func BadPickleKey(err error) bool {
	return errors.Is(err, olm.ErrBadMAC) || errors.Is(err, olm.ErrLibolmBadAccountKey)
}

// ForeignKeys reports whether Start failed because the device has keys on
// the homeserver that are not the ones in the database (cryptohelper's
// words for it).
func ForeignKeys(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "not marked as shared, but there are keys on the server") ||
		strings.Contains(msg, "keys seem to have disappeared") ||
		strings.Contains(msg, "mismatching identity key on server")
}
