//go:build goolm

package bot_test

// End-to-end encryption against the real Synapse. The moderators' clients
// here are built on mautrix's own crypto, as a chat client would be: they
// sync, decrypt what Gavel posts, and encrypt what they send.

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
)

const testPickleKey = "gavel-test-pickle-key-0123456789"

// cryptoUser is a moderator's encrypting client.
type cryptoUser struct {
	t      *testing.T
	e      *env
	cli    *mautrix.Client
	helper *cryptohelper.CryptoHelper

	mu     sync.Mutex
	events []*event.Event // Gavel's messages in the management room, decrypted
	// withheld is the room key of the session sayWithheld started.
	withheld *event.Content
}

// cryptoUser gives cli end-to-end encryption and keeps it syncing until
// the test ends.
func (e *env) cryptoUser(cli *mautrix.Client) *cryptoUser {
	t := e.T
	t.Helper()
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "client.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cli.StateStore = nil
	cli.Store = nil
	cli.Syncer = mautrix.NewDefaultSyncer()
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte("a moderator's pickle key"), st.DB())
	require.NoError(t, err)
	require.NoError(t, helper.Init(bg))
	cli.Crypto = helper
	c := &cryptoUser{t: t, e: e, cli: cli, helper: helper}

	syncer := cli.Syncer.(*mautrix.DefaultSyncer)
	// The helper dispatches decrypted messages here too.
	syncer.OnEventType(event.EventMessage, func(_ context.Context, evt *event.Event) {
		if evt.RoomID == e.Room && evt.Sender == e.BotCli.UserID {
			c.mu.Lock()
			c.events = append(c.events, evt)
			c.mu.Unlock()
		}
	})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cli.SyncWithContext(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Synced once the room's members are known, and its encryption when
	// it is encrypted: a client that sends before it knows sends in the
	// clear.
	var encryption event.EncryptionEventContent
	encrypted := cli.StateEvent(bg, e.Room, event.StateEncryption, "", &encryption) == nil
	require.Eventually(t, func() bool {
		members, err := cli.StateStore.GetRoomJoinedOrInvitedMembers(bg, e.Room)
		if err != nil || len(members) < 2 {
			return false
		}
		known, err := cli.StateStore.IsEncrypted(bg, e.Room)
		return !encrypted || (err == nil && known)
	}, 30*time.Second, 50*time.Millisecond, "the moderator's client never synced")
	return c
}

// say sends an encrypted message into the management room.
func (c *cryptoUser) say(body string) id.EventID {
	c.t.Helper()
	resp, err := c.cli.SendText(bg, c.e.Room, body)
	require.NoError(c.t, err)
	return resp.EventID
}

// sayPlain sends a message in the clear, as a client without encryption
// would.
func (c *cryptoUser) sayPlain(body string) id.EventID {
	c.t.Helper()
	resp, err := c.cli.SendMessageEvent(bg, c.e.Room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: body}, mautrix.ReqSendEvent{DontEncrypt: true})
	require.NoError(c.t, err)
	return resp.EventID
}

// sayWithheld sends an encrypted message whose keys go to nobody but the
// moderator: Gavel cannot decrypt it until shareKeys. newSession starts a
// new Megolm session first; otherwise the current one goes on.
func (c *cryptoUser) sayWithheld(body string, newSession bool) id.EventID {
	c.t.Helper()
	mach := c.helper.Machine()
	if newSession {
		require.NoError(c.t, mach.CryptoStore.RemoveOutboundGroupSession(bg, c.e.Room))
		require.NoError(c.t, mach.ShareGroupSession(bg, c.e.Room, []id.UserID{c.cli.UserID}))
		// The room key as it is before the first message, to share later.
		session, err := mach.CryptoStore.GetOutboundGroupSession(bg, c.e.Room)
		require.NoError(c.t, err)
		key := session.ShareContent()
		c.withheld = &key
	}
	encrypted, err := mach.EncryptMegolmEvent(bg, c.e.Room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	require.NoError(c.t, err)
	resp, err := c.cli.SendMessageEvent(bg, c.e.Room, event.EventEncrypted, encrypted)
	require.NoError(c.t, err)
	return resp.EventID
}

// shareKeys gives Gavel's device the keys of the session sayWithheld
// started, late.
func (c *cryptoUser) shareKeys(gavel id.DeviceID) {
	c.t.Helper()
	require.NotNil(c.t, c.withheld, "no withheld session")
	mach := c.helper.Machine()
	device, err := mach.GetOrFetchDevice(bg, c.e.BotCli.UserID, gavel)
	require.NoError(c.t, err)
	require.NoError(c.t, mach.SendEncryptedToDevice(bg, device, event.ToDeviceRoomKey, *c.withheld))
}

// messages returns Gavel's messages that this client decrypted (or read in
// the clear), in order.
func (c *cryptoUser) messages() []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.events...)
}

func (c *cryptoUser) replies(cmd id.EventID) []*event.Event {
	var out []*event.Event
	for _, evt := range c.messages() {
		if msg := evt.Content.AsMessage(); msg.RelatesTo != nil && msg.RelatesTo.GetReplyTo() == cmd {
			out = append(out, evt)
		}
	}
	return out
}

// waitReply waits for Gavel's reply to cmd and checks that it came
// encrypted.
func (c *cryptoUser) waitReply(cmd id.EventID) *event.MessageEventContent {
	c.t.Helper()
	var reply *event.Event
	require.Eventuallyf(c.t, func() bool {
		if r := c.replies(cmd); len(r) > 0 {
			reply = r[0]
		}
		return reply != nil
	}, 60*time.Second, 100*time.Millisecond, "waiting for the reply to %s", cmd)
	assertEncrypted(c.t, reply)
	return reply.Content.AsMessage()
}

// waitMessage waits for a message from Gavel that match accepts.
func (c *cryptoUser) waitMessage(what string, match func(*event.Event) bool) *event.Event {
	c.t.Helper()
	var found *event.Event
	require.Eventuallyf(c.t, func() bool {
		for _, evt := range c.messages() {
			if match(evt) {
				found = evt
				return true
			}
		}
		return false
	}, 60*time.Second, 100*time.Millisecond, "waiting for %s", what)
	return found
}

// waitNotice waits for the notice of a report.
func (c *cryptoUser) waitNotice(reportID int64) *event.Event {
	c.t.Helper()
	notice := c.waitMessage("the notice of report "+bottest.Itoa(reportID), func(evt *event.Event) bool {
		_, ok := evt.Content.Raw["gavel.report"]
		return ok && bottest.Field(c.t, evt).ReportID == reportID
	})
	assertEncrypted(c.t, notice)
	return notice
}

func assertEncrypted(t *testing.T, evt *event.Event) {
	t.Helper()
	assert.True(t, evt.Mautrix.WasEncrypted && evt.Mautrix.EventSource&event.SourceDecrypted != 0,
		"%s reached the moderator in the clear", evt.ID)
}

// encryptRoom turns on encryption in the management room.
func (e *env) encryptRoom() {
	e.T.Helper()
	_, err := e.Mod.SendStateEvent(bg, e.Room, event.StateEncryption, "", &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1})
	require.NoError(e.T, err)
}

// newMember registers a user whom the moderator invites into the
// management room and who joins it.
func (e *env) newMember(prefix string) *mautrix.Client {
	e.T.Helper()
	cli := e.Srv.User(e.T, prefix, false)
	_, err := e.Mod.InviteUser(bg, e.Room, &mautrix.ReqInviteUser{UserID: cli.UserID})
	require.NoError(e.T, err)
	_, err = cli.JoinRoomByID(bg, e.Room)
	require.NoError(e.T, err)
	return cli
}

// loginAs logs a user in again: a new device of the same account.
func (e *env) loginAs(userID id.UserID, password string) *mautrix.Client {
	e.T.Helper()
	cli, err := e.Srv.Login(bg, userID, password)
	require.NoError(e.T, err)
	return cli
}

// TestEncryptedManagementRoom: in an encrypted room, notices and replies go
// out encrypted with the same content as in a plain room, encrypted
// commands run, unencrypted ones are refused, and a restart keeps the
// device and its keys, in SQLite and in PostgreSQL.
func TestEncryptedManagementRoom(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testEncryptedManagementRoom(t, newEnv(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		e := newEnv(t, nil)
		e.UsePostgres()
		testEncryptedManagementRoom(t, e)
	})
}

func testEncryptedManagementRoom(t *testing.T, e *env) {
	e.encryptRoom()
	e.Cfg.Encryption.PickleKey = testPickleKey
	gavel := e.Start()
	device := gavel.Bot.DeviceID()
	mod := e.cryptoUser(e.Mod)

	spam := e.Spam("Buy <b>followers</b> @room")
	e.Report(spam, "spam <script>")
	reportID := e.ReportID(spam)
	notice := mod.waitNotice(reportID)
	// The content is what Gavel queued, exactly as in a plain room, plus
	// the outbox key it always adds.
	key, _ := notice.Content.Raw[outbox.KeyField].(string)
	require.NotEmpty(t, key)
	queued, err := e.OpenStore().Outbox.Get(bg, store.OutboxKey(key))
	require.NoError(t, err)
	require.NotNil(t, queued)
	var want map[string]any
	require.NoError(t, json.Unmarshal(queued.Content, &want))
	want[outbox.KeyField] = key
	assert.Equal(t, want, notice.Content.Raw)
	assert.Contains(t, notice.Content.AsMessage().Body, "Buy <b>followers</b> @\u2060room")
	assert.Empty(t, e.BotMessages(), "the homeserver holds no message of Gavel's in the clear")

	// An encrypted command runs; its reply is encrypted.
	reply := mod.waitReply(mod.say("!report delete " + bottest.Itoa(reportID)))
	assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)
	_, err = e.Admin.EventReport(bg, reportID)
	assert.True(t, adminapi.IsNotFound(err), "the report is gone: %v", err)

	// An unencrypted command is refused and does nothing.
	spam = e.Spam("more spam")
	e.Report(spam, "spam")
	second := e.ReportID(spam)
	mod.waitNotice(second)
	plain := mod.sayPlain("!report delete " + bottest.Itoa(second))
	reply = mod.waitReply(plain)
	assert.Equal(t, "Not run: this room is end-to-end encrypted, and this command was sent unencrypted. Send it again from a client with encryption on.", reply.Body)
	_, err = e.Admin.EventReport(bg, second)
	assert.NoError(t, err, "the report is still there")

	// A restart keeps the device, and new commands still decrypt.
	require.NoError(t, gavel.Stop())
	gavel = e.Start()
	assert.Equal(t, device, gavel.Bot.DeviceID())
	devices, err := e.BotCli.GetDevicesInfo(bg)
	require.NoError(t, err)
	require.Len(t, devices.Devices, 1, "Gavel never logs in anew")
	assert.Equal(t, device, devices.Devices[0].DeviceID)
	cmd := mod.say("!report delete " + bottest.Itoa(second))
	reply = mod.waitReply(cmd)
	assert.Equal(t, "Deleted report "+bottest.Itoa(second)+". Its case is closed.", reply.Body)
	reply = mod.waitReply(mod.say("!status"))
	assert.Contains(t, reply.Body, "Gavel test")
	assert.Contains(t, reply.Body, "Encryption: on, device `"+string(device)+"`, commands from unverified devices.")
	assert.Len(t, mod.replies(cmd), 1)
	assert.Len(t, mod.replies(plain), 1)

	// After a crash between a send and its record, Gavel looks for the
	// message in the room: it reads its own encrypted messages.
	found, err := gavel.Bot.Sender().FindSent(bg, e.Room, map[store.OutboxKey]time.Time{store.OutboxKey(key): time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, map[store.OutboxKey]id.EventID{store.OutboxKey(key): notice.ID}, found)
}

// TestRoomTurnsEncrypted: encryption turned on while Gavel runs takes
// effect without a restart; without a pickle key Gavel posts nothing in
// the clear from then on.
func TestRoomTurnsEncrypted(t *testing.T) {
	t.Run("with a pickle key", func(t *testing.T) {
		e := newEnv(t, nil)
		e.Cfg.Encryption.PickleKey = testPickleKey
		gavel := e.Start()
		assert.Equal(t, "Gavel test", strings.SplitN(e.Command(e.Mod, "!status").Body, " ·", 2)[0], "a plain room works as before")

		e.encryptRoom()
		require.Eventually(t, gavel.Bot.Encrypted, 30*time.Second, 50*time.Millisecond)
		mod := e.cryptoUser(e.Mod)
		spam := e.Spam("spam after the switch")
		e.Report(spam, "spam")
		reportID := e.ReportID(spam)
		mod.waitNotice(reportID)
		reply := mod.waitReply(mod.say("!report delete " + bottest.Itoa(reportID)))
		assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)

		// A moderator who joins later can read what Gavel posts next.
		lateMod := e.cryptoUser(e.newMember("late"))
		spam = e.Spam("spam for the newcomer")
		e.Report(spam, "spam")
		lateMod.waitNotice(e.ReportID(spam))
	})

	t.Run("without a pickle key", func(t *testing.T) {
		e := newEnv(t, nil)
		logs := &bottest.LockedBuffer{}
		log := zerolog.New(logs).Level(zerolog.DebugLevel)
		e.Logger = &log
		gavel := e.Start()
		e.Command(e.Mod, "!status")
		// Gavel posts the reports other tests left open on the shared
		// server (on_first_start: post); count once all of that is out.
		require.Eventually(t, func() bool {
			unsent, err := gavel.Bot.Store().Outbox.Unsent(bg, 1)
			return err == nil && len(unsent) == 0
		}, 30*time.Second, 50*time.Millisecond)
		before := len(e.BotMessages())

		e.encryptRoom()
		require.Eventually(t, gavel.Bot.Encrypted, 30*time.Second, 50*time.Millisecond)
		e.Report(e.Spam("spam after the switch"), "spam")
		require.Eventually(t, func() bool {
			return strings.Contains(logs.String(), bot.ErrNoPickleKey.Error())
		}, 30*time.Second, 50*time.Millisecond, "the sender says why it waits")
		assert.Contains(t, logs.String(), "The management room is now end-to-end encrypted, and encryption.pickle_key is empty")
		assert.Len(t, e.BotMessages(), before, "nothing posted in the clear into the encrypted room")
		require.NoError(t, gavel.Stop(), "still running")
	})
}

// TestMinCommandTrust: with cross-signed-tofu, a moderator's cross-signed
// device runs commands and their device that is not cross-signed is
// refused with the reason.
func TestMinCommandTrust(t *testing.T) {
	e := newEnv(t, nil)
	e.encryptRoom()
	e.Cfg.Encryption.PickleKey = testPickleKey
	e.Cfg.Encryption.MinCommandTrust = config.TrustCrossSignedTOFU
	e.Start()

	signed := e.cryptoUser(e.Mod)
	mach := signed.helper.Machine()
	keys, err := mach.GenerateCrossSigningKeys()
	require.NoError(t, err)
	require.NoError(t, mach.PublishCrossSigningKeys(bg, keys, func(ui *mautrix.RespUserInteractive) any {
		return &mautrix.ReqUIAuthLogin{BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: ui.Session},
			User: string(e.Mod.UserID), Password: e.ModPassword}
	}))
	mach.CrossSigningKeys = keys
	require.NoError(t, mach.SignOwnDevice(bg, mach.OwnIdentity()))
	unsigned := e.cryptoUser(e.loginAs(e.Mod.UserID, e.ModPassword))

	spam := e.Spam("spam")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	signed.waitNotice(reportID)

	cmd := unsigned.say("!report delete " + bottest.Itoa(reportID))
	reply := signed.waitReply(cmd)
	assert.Equal(t, "Not run: this command came from device "+string(unsigned.cli.DeviceID)+
		", which is not cross-signed, and Gavel runs commands only from cross-signed-tofu devices (encryption.min_command_trust). "+
		"Verify this device from another of your sessions, or send the command from a verified one.", reply.Body)
	_, err = e.Admin.EventReport(bg, reportID)
	assert.NoError(t, err, "the report is still there")

	reply = signed.waitReply(signed.say("!report delete " + bottest.Itoa(reportID)))
	assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)
}

// TestMessagesWaitForTheirKeys: a command whose keys have not reached Gavel
// waits for them in the database, across a restart, and runs once when
// they come; keys that never come end in one note per session.
func TestMessagesWaitForTheirKeys(t *testing.T) {
	e := newEnv(t, nil)
	e.encryptRoom()
	e.Cfg.Encryption.PickleKey = testPickleKey
	gavel := e.Start()
	mod := e.cryptoUser(e.Mod)
	spam := e.Spam("spam")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	mod.waitNotice(reportID)

	st := e.OpenStore()
	waiting := func() int {
		w, err := st.Undecrypted.List(bg)
		require.NoError(t, err)
		return len(w)
	}
	cmd := mod.sayWithheld("!report delete "+bottest.Itoa(reportID), true)
	require.Eventually(t, func() bool { return waiting() == 1 }, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, gavel.Stop())
	gavel = e.Start()
	mod.shareKeys(gavel.Bot.DeviceID())
	reply := mod.waitReply(cmd)
	assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)
	require.Eventually(t, func() bool { return waiting() == 0 }, 30*time.Second, 50*time.Millisecond)

	// Run once, however often Gavel starts.
	require.NoError(t, gavel.Stop())
	gavel = e.Start(func(o *bot.Options) { o.KeyWait = 2 * time.Second })
	mod.waitReply(mod.say("!status"))
	assert.Len(t, mod.replies(cmd), 1)

	// Keys that never come.
	first := mod.sayWithheld("!status", true)
	mod.sayWithheld("!reports", false)
	note := mod.waitMessage("the note about undecryptable messages", func(evt *event.Event) bool {
		return strings.HasPrefix(evt.Content.AsMessage().Body, "Gavel could not decrypt a message from "+string(e.Mod.UserID))
	})
	assertEncrypted(t, note)
	assert.Contains(t, note.Content.AsMessage().Body, "If it was a command, it was not run; send it again.")
	require.Eventually(t, func() bool { return waiting() == 0 }, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, mod.helper.Machine().CryptoStore.RemoveOutboundGroupSession(bg, e.Room))
	mod.waitReply(mod.say("!status")) // a fresh session, shared with Gavel
	notes := 0
	for _, evt := range mod.messages() {
		if strings.HasPrefix(evt.Content.AsMessage().Body, "Gavel could not decrypt") {
			notes++
		}
	}
	assert.Equal(t, 1, notes, "one note for the session's two messages")
	assert.Empty(t, mod.replies(first))

	// Keys that are slow to come are asked for; a client that answers
	// such requests (mautrix refuses other users' by default) forwards them.
	require.NoError(t, gavel.Stop())
	e.Start()
	mod.helper.Machine().AllowKeyShare = func(context.Context, *id.Device, event.RequestedKeyInfo) *crypto.KeyShareRejection { return nil }
	asked := mod.sayWithheld("!status", true)
	reply = mod.waitReply(asked)
	assert.Contains(t, reply.Body, "Gavel test", "the command ran with the forwarded keys")
}

// TestEncryptedRoomWithTheStaticBinary: the binary `make build` makes
// (CGO_ENABLED=0, pure-Go Olm) works in an encrypted room, and after a
// SIGKILL comes back as the same device.
func TestEncryptedRoomWithTheStaticBinary(t *testing.T) {
	e := newEnv(t, nil)
	e.encryptRoom()
	e.Cfg.Encryption.PickleKey = testPickleKey
	logFile := e.ProcessLog()
	gavel := e.StartProcess(logFile)
	// The process sets up its new device while the test goes on: a client
	// that sent before the device had keys would withhold the room key.
	e.waitDeviceKeys(e.BotCli.DeviceID)
	mod := e.cryptoUser(e.Mod)
	reply := mod.waitReply(mod.say("!status"))
	assert.Contains(t, reply.Body, "Encryption: on, device `"+string(e.BotCli.DeviceID)+"`")

	gavel.Kill()
	e.StartProcess(logFile)
	spam := e.Spam("spam")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	mod.waitNotice(reportID)
	reply = mod.waitReply(mod.say("!report delete " + bottest.Itoa(reportID)))
	assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)
	devices, err := e.BotCli.GetDevicesInfo(bg)
	require.NoError(t, err)
	assert.Len(t, devices.Devices, 1)
}

// waitDeviceKeys waits until the homeserver has the device keys of Gavel's
// device, as other users' clients see them with /keys/query. A client
// that encrypts before then does not share its room key with that device,
// and answers Gavel's later key request with m.room_key.withheld.
func (e *env) waitDeviceKeys(device id.DeviceID) {
	e.T.Helper()
	user := e.BotCli.UserID
	require.Eventuallyf(e.T, func() bool {
		resp, err := e.Mod.QueryKeys(bg, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: {device}}})
		if err != nil {
			return false
		}
		keys, ok := resp.DeviceKeys[user][device]
		return ok && keys.Keys.GetEd25519(device) != "" && keys.Keys.GetCurve25519(device) != ""
	}, 2*time.Minute, 100*time.Millisecond, "Gavel never published the keys of its device %s", device)
}

// TestMemberWhoJoinedWhileGavelWasDown: a moderator who joined while Gavel
// was stopped, with more messages since than one sync shows, still gets
// the keys of what Gavel posts after its restart.
func TestMemberWhoJoinedWhileGavelWasDown(t *testing.T) {
	e := newEnv(t, nil)
	e.encryptRoom()
	e.Cfg.Encryption.PickleKey = testPickleKey
	gavel := e.Start()
	mod := e.cryptoUser(e.Mod)
	spam := e.Spam("spam")
	e.Report(spam, "spam")
	mod.waitNotice(e.ReportID(spam)) // Gavel's room key session is shared
	require.NoError(t, gavel.Stop())

	lateMod := e.cryptoUser(e.newMember("late"))
	for i := range bot.TimelineLimit + 20 {
		mod.say("chatter " + bottest.Itoa(int64(i)))
	}

	e.Start()
	spam = e.Spam("spam for the newcomer")
	e.Report(spam, "spam")
	lateMod.waitNotice(e.ReportID(spam))
}

// TestEncryptionStartupErrors: a changed pickle key, and a token whose
// device a chat client set up encryption for, stop Gavel with what to do.
func TestEncryptionStartupErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.encryptRoom()
	startErr := func() error {
		t.Helper()
		b, err := bot.New(e.Cfg, e.OpenStore(), bottest.Log(t), bot.Options{})
		require.NoError(t, err)
		return b.Start(bg)
	}
	var startup *bot.StartupError

	t.Run("changed pickle key", func(t *testing.T) {
		defer func() { e.Cfg.Encryption.PickleKey = "" }()
		e.Cfg.Encryption.PickleKey = testPickleKey
		require.NoError(t, startErr(), "starts with a pickle key")
		e.Cfg.Encryption.PickleKey = "another-pickle-key-0123456789"
		err := startErr()
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "cannot read Gavel's encryption keys in the database with encryption.pickle_key")
		assert.Contains(t, err.Error(), "was the key changed? Put back the key Gavel first ran with")
		assert.NotContains(t, err.Error(), "another-pickle-key")
	})

	t.Run("device with someone else's keys", func(t *testing.T) {
		// A token whose device a chat client set up encryption for.
		other := e.loginAs(e.BotCli.UserID, e.BotPassword)
		otherDB, err := store.Open(bg, filepath.Join(t.TempDir(), "client.db"), zerolog.Nop())
		require.NoError(t, err)
		defer otherDB.Close()
		helper, err := cryptohelper.NewCryptoHelper(other, []byte("the chat client's key"), otherDB.DB())
		require.NoError(t, err)
		require.NoError(t, helper.Init(bg))

		uri, token := e.Cfg.Database.URI, e.Cfg.Matrix.AccessToken
		defer func() { e.Cfg.Database.URI, e.Cfg.Matrix.AccessToken, e.Cfg.Encryption.PickleKey = uri, token, "" }()
		e.Cfg.Database.URI = filepath.Join(t.TempDir(), "gavel.db")
		e.Cfg.Matrix.AccessToken = other.AccessToken
		e.Cfg.Encryption.PickleKey = testPickleKey
		err = startErr()
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "device "+string(other.DeviceID)+" of "+string(e.BotCli.UserID)+
			" has encryption keys on the homeserver that are not the ones in Gavel's database")
		assert.Contains(t, err.Error(), "log the bot in afresh (a plain /login, not a chat client) and put the new token in matrix.access_token")
	})
}

// TestEncryptedDesk: a community desk whose room is end-to-end encrypted
// works as an encrypted management room does: its cards and replies go
// out encrypted, encrypted commands run there, one sent in the clear is
// refused. The management room stays in the clear.
func TestEncryptedDesk(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	e.Cfg.Encryption.PickleKey = testPickleKey
	resp, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Name: "Encrypted desk", Invite: []id.UserID{e.BotCli.UserID},
		InitialState: []*event.Event{{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}}})
	require.NoError(t, err)
	desk := resp.RoomID
	e.Cfg.Desks = []config.Desk{{Name: "secret", Room: desk, Rooms: []string{string(e.Public)}}}
	require.NoError(t, e.Cfg.Validate())
	e.Start()
	de := &env{e.In(desk)}
	mod := de.cryptoUser(e.Mod)

	spam := e.Spam("buy followers")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	mod.waitNotice(reportID) // encrypted, in the desk
	reply := mod.waitReply(mod.say("!report claim " + bottest.Itoa(reportID)))
	assert.Contains(t, reply.Body, "Claimed in #secret by "+string(e.Mod.UserID))
	assert.Equal(t, "Not run: this room is end-to-end encrypted, and this command was sent unencrypted. Send it again from a client with encryption on.",
		mod.waitReply(mod.sayPlain("!status")).Body)
	assert.Empty(t, de.BotMessages(), "the homeserver holds no message of Gavel's in the desk in the clear")
	assert.NotEmpty(t, e.Notices(), "the management room, in the clear, has its card")
}
