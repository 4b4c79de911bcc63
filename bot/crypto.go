package bot

// End-to-end encryption in the management room. internal/e2ee sets up the
// Olm machine, with its keys in Gavel's own database; Gavel's sync loop
// feeds the machine itself and decides what to do with each encrypted
// message, so that a message whose keys have not arrived yet is kept in the
// database, not in a goroutine a crash would lose.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/intake"
	"github.com/gavel-bot/gavel/internal/e2ee"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

const (
	// keyRequestAfter is how long Gavel waits for a message's keys before
	// asking the sender's devices for them.
	keyRequestAfter = 5 * time.Second
	// keyWait is how long Gavel waits for a message's keys before giving
	// up on it: as long as a command stays fresh enough to run.
	keyWait = intake.StaleAfter
)

// startCrypto loads (or, the first time, creates and uploads) the bot's
// encryption keys for the access token's device (see e2ee.Start).
func (b *Bot) startCrypto(ctx context.Context) error {
	deviceID := b.client.DeviceID
	var machine *e2ee.Machine
	err := b.untilReachable(ctx, "setting up encryption", func() (err error) {
		machine, err = e2ee.Start(ctx, b.client, b.store.DB(), b.cfg.Encryption.PickleKey)
		return err
	})
	if err != nil {
		return cryptoStartupErr(err, b.cfg.Matrix.UserID, deviceID)
	}
	b.crypto = machine
	// The settings are mautrix's own names for its trust levels.
	b.minTrust = id.ParseTrustState(b.cfg.Encryption.MinCommandTrust)

	previous, err := b.store.KV.Get(ctx, store.KVDeviceID)
	if err != nil {
		return err
	}
	if previous != "" && previous != string(deviceID) {
		b.log.Warn().Str("device_id", string(deviceID)).Str("previous_device_id", previous).
			Msg("matrix.access_token now belongs to another device than last time: moderators' clients show Gavel with a new device, and messages encrypted only for the old one cannot be read")
	}
	if err := b.store.KV.Set(ctx, store.KVDeviceID, string(deviceID)); err != nil {
		return err
	}
	if b.minTrust == id.TrustStateCrossSignedVerified {
		b.log.Warn().Msg("encryption.min_command_trust is cross-signed-verified, but Gavel cannot verify users yet: every encrypted command will be refused; use cross-signed-tofu")
	}
	b.log.Info().Str("device_id", string(deviceID)).Str("fingerprint", machine.Fingerprint()).
		Str("min_command_trust", b.cfg.Encryption.MinCommandTrust).Msg("Encryption ready")
	return nil
}

// cryptoStartupErr says what to do about the ways setting up encryption
// fails in practice.
func cryptoStartupErr(err error, userID id.UserID, deviceID id.DeviceID) error {
	switch {
	case errors.Is(err, e2ee.ErrNotBuilt):
		return startupErr("encryption.pickle_key is set, but %v", err)
	case e2ee.BadPickleKey(err):
		return startupErr("cannot read Gavel's encryption keys in the database with encryption.pickle_key (%v): was the key changed? Put back the key Gavel first ran with", err)
	case e2ee.ForeignKeys(err):
		return startupErr("device %s of %s has encryption keys on the homeserver that are not the ones in Gavel's database (%v). The access token came from a client that set up encryption itself, the database was replaced, or Gavel's very first start was cut off while uploading its keys: log the bot in afresh (a plain /login, not a chat client) and put the new token in matrix.access_token", deviceID, userID, err)
	}
	return startupErr("setting up encryption: %v", err)
}

// markEncrypted records that a desk's room is encrypted: for the sender,
// the commands, and mautrix's state store, which decides whether a
// message is encrypted.
func (b *Bot) markEncrypted(ctx context.Context, r *deskRoom, content *event.EncryptionEventContent) {
	r.encrypted.Store(true)
	if b.crypto == nil {
		return
	}
	if err := b.client.StateStore.SetEncryptionEvent(ctx, r.desk.Room, content); err != nil {
		b.log.Error().Err(err).Stringer("room_id", r.desk.Room).Msg("Could not record that a desk's room is encrypted")
	}
	b.loadMembers(ctx, r.desk.Room)
}

// loadMembers reads the management room's members into the state store:
// the sync filter loads members lazily, but room keys must go to every
// member's devices. The next message then starts a new Megolm session,
// shared with all of them: mautrix shares a session only once.
func (b *Bot) loadMembers(ctx context.Context, room id.RoomID) {
	if _, err := b.client.Members(ctx, room); err != nil {
		b.log.Warn().Err(err).Msg("Could not read the management room's members; room keys go to the members Gavel knows of")
		return
	}
	if err := b.crypto.NewSession(ctx, room); err != nil {
		b.log.Warn().Err(err).Msg("Could not start a new room key session for the management room's members")
	}
}

// onEncryption handles the management room turning encrypted while Gavel
// runs.
func (b *Bot) onEncryption(ctx context.Context, evt *event.Event) {
	r := b.room(evt.RoomID)
	if r == nil || evt.Mautrix.EventSource&event.SourceInvite != 0 || r.encrypted.Load() {
		return
	}
	content, ok := evt.Content.Parsed.(*event.EncryptionEventContent)
	if !ok {
		return
	}
	b.markEncrypted(ctx, r, content)
	if b.crypto == nil {
		b.log.Error().Stringer("by", evt.Sender).Msg("The management room is now end-to-end encrypted, and encryption.pickle_key is empty: Gavel posts nothing there and runs no command until the key is set and Gavel restarted")
		return
	}
	b.log.Info().Stringer("by", evt.Sender).Msg("The management room is now end-to-end encrypted; Gavel encrypts what it posts from now on")
}

// onEncrypted decrypts a message from the management room and handles it,
// or keeps it until its keys arrive.
func (b *Bot) onEncrypted(ctx context.Context, evt *event.Event) {
	if b.room(evt.RoomID) == nil || evt.Sender == b.client.UserID {
		return
	}
	if b.crypto == nil {
		b.log.Warn().Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).
			Msg("Cannot read an encrypted message: encryption.pickle_key is empty")
		return
	}
	if done, _ := b.decrypt(ctx, evt, time.Time{}); done {
		return
	}
	if err := b.store.Undecrypted.Add(ctx, evt); err != nil {
		b.log.Error().Err(err).Msg("Database error; the message will be tried again")
		b.syncFailed.Store(true)
		return
	}
	b.undecrypted = true
}

// decrypt decrypts evt and handles it. It returns true when the message is
// done with (handled, or impossible to decrypt ever), and false, with the
// reason, while its keys have not arrived. waitingSince is when Gavel first
// failed to decrypt it, zero on the first try.
func (b *Bot) decrypt(ctx context.Context, evt *event.Event, waitingSince time.Time) (bool, error) {
	content := evt.Content.AsEncrypted()
	log := b.log.With().Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).
		Stringer("session_id", content.SessionID).Logger()
	// Once begun, a message is decrypted and handled even if shutdown
	// starts: a cancelled decryption would look like a failed one.
	decrypted, err := b.crypto.Decrypt(context.WithoutCancel(ctx), evt)
	switch {
	case err == nil:
		if !waitingSince.IsZero() {
			log.Info().Dur("waited", time.Since(waitingSince).Round(time.Millisecond)).Msg("Decrypted a message once its keys arrived")
		}
		switch decrypted.Type {
		case event.EventMessage:
			b.onMessage(ctx, decrypted)
		case event.EventReaction:
			b.onReaction(ctx, decrypted)
		}
		return true, nil
	case e2ee.Permanent(err):
		// A replayed message index, a corrupt payload: no key fixes these.
		log.Warn().Err(err).Msg("Cannot decrypt a message; ignoring it")
		return true, nil
	default:
		// No keys yet, keys withheld (the sender may still share them, or
		// another of their devices), or the database failing: try again.
		if waitingSince.IsZero() {
			log.Warn().Err(err).Msg("Cannot decrypt a message yet: waiting for its keys")
		}
		return false, err
	}
}

// retryUndecrypted tries again the messages waiting for their keys, after
// each sync (which is when keys arrive). It asks the sender for keys that
// are slow to come, and gives up after keyWait, telling the moderators.
func (b *Bot) retryUndecrypted(ctx context.Context) {
	if b.crypto == nil || !b.undecrypted {
		return
	}
	waiting, err := b.store.Undecrypted.List(ctx)
	if err != nil {
		b.log.Error().Err(err).Msg("Could not read the messages waiting for their keys")
		return
	}
	b.undecrypted = len(waiting) > 0
	for _, w := range waiting {
		evt := w.Event
		done, why := b.decrypt(ctx, evt, w.FirstSeen)
		content := evt.Content.AsEncrypted()
		age := time.Since(w.FirstSeen)
		switch {
		case done:
		case age > b.keyWait:
			b.giveUpDecrypting(ctx, evt, age, why)
			done = true
		case age > keyRequestAfter && !b.keysRequested[content.SessionID]:
			b.keysRequested[content.SessionID] = true
			b.crypto.RequestKeys(ctx, evt)
		}
		if b.syncFailed.Load() {
			// Handling it hit a database error: keep it, so that the
			// next pass handles it (a command runs at most once anyway).
			return
		}
		if done {
			if err := b.store.Undecrypted.Remove(ctx, evt.ID); err != nil {
				b.log.Error().Err(err).Msg("Could not forget a message that was waiting for its keys")
			}
		}
	}
}

// giveUpDecrypting tells the moderators, once per sender's session, that a
// message could not be read, and what the sender's client said if it
// refused the keys.
func (b *Bot) giveUpDecrypting(ctx context.Context, evt *event.Event, waited time.Duration, why error) {
	content := evt.Content.AsEncrypted()
	b.log.Error().Err(why).Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).Stringer("session_id", content.SessionID).
		Dur("waited", waited.Round(time.Second)).Msg("Giving up on a message whose keys never arrived")
	// One note per session: the outbox keeps the first message of a key.
	var withheld *event.RoomKeyWithheldEventContent
	code := ""
	if errors.As(why, &withheld) {
		code = string(withheld.Code)
	}
	err := b.store.Outbox.Enqueue(ctx, store.Message{Key: store.UndecryptableKey(content.SessionID), Priority: store.PriorityReply, RoomID: evt.RoomID,
		Content: notice.Undecryptable(evt.Sender, time.UnixMilli(evt.Timestamp), b.keyWait, code, b.client.DeviceID)})
	if err != nil {
		b.log.Error().Err(err).Msg("Could not queue the note about an undecryptable message")
		return
	}
	b.sender.Notify()
}

// decryptOwn decrypts one of Gavel's own messages, for the sender looking
// for messages sent before a crash.
func (b *Bot) decryptOwn(ctx context.Context, evt *event.Event) (*event.Event, error) {
	if b.crypto == nil {
		return nil, errNoPickleKey
	}
	return b.crypto.Decrypt(ctx, evt)
}

// errNoPickleKey stops the sender from posting in the clear into a room that
// turned encrypted while Gavel had no encryption.pickle_key.
var errNoPickleKey = errors.New("the management room is end-to-end encrypted and encryption.pickle_key is empty: set it and restart Gavel")

// mustEncrypt is the sender's guard: nothing goes out in the clear into an
// encrypted room. mautrix encrypts what its state store says is encrypted,
// so a room Gavel knows to be encrypted must be there too.
func (b *Bot) mustEncrypt(ctx context.Context, room id.RoomID) error {
	if r := b.room(room); r == nil || !r.encrypted.Load() {
		return nil
	}
	if b.crypto == nil {
		return errNoPickleKey
	}
	if encrypted, err := b.client.StateStore.IsEncrypted(ctx, room); err != nil || encrypted {
		return err
	}
	return b.client.StateStore.SetEncryptionEvent(ctx, room, &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1})
}

// securityRefusal says why a command may not run because of how it was
// sent, or returns "": in an encrypted room only encrypted commands run,
// and only from devices trusted enough.
func (b *Bot) securityRefusal(evt *event.Event) string {
	if evt.Mautrix.EventSource&event.SourceDecrypted == 0 {
		if r := b.room(evt.RoomID); r != nil && r.encrypted.Load() {
			return "Not run: this room is end-to-end encrypted, and this command was sent unencrypted. Send it again from a client with encryption on."
		}
		return ""
	}
	trust := evt.Mautrix.TrustState
	if trust >= b.minTrust {
		return ""
	}
	device := "an unknown device"
	if evt.Mautrix.TrustSource != nil {
		device = "device " + string(evt.Mautrix.TrustSource.DeviceID)
	}
	var why string
	switch trust {
	case id.TrustStateBlacklisted:
		why = "is blocked"
	case id.TrustStateDeviceKeyMismatch:
		why = "has keys that do not match the message's"
	case id.TrustStateUnknownDevice:
		device, why = "a device", "Gavel could not find among your devices"
	case id.TrustStateForwarded, id.TrustStateBackup:
		why = "did not share this message's keys itself (they were forwarded)"
	case id.TrustStateCrossSignedUntrusted:
		why = "is signed by a cross-signing key that changed since Gavel first saw it"
	case id.TrustStateCrossSignedTOFU:
		why = "is cross-signed, but Gavel has not verified your cross-signing key"
	default:
		why = "is not cross-signed"
	}
	advice := "Verify this device from another of your sessions, or send the command from a verified one."
	if b.minTrust == id.TrustStateCrossSignedVerified {
		advice = "Gavel cannot verify users yet: an admin must lower encryption.min_command_trust to cross-signed-tofu."
	}
	return fmt.Sprintf("Not run: this command came from %s, which %s, and Gavel runs commands only from %s devices (encryption.min_command_trust). %s",
		device, why, b.cfg.Encryption.MinCommandTrust, advice)
}
