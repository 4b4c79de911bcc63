package commandstest

// Secrets stay secret: a full run with everything logged, checked for the
// access tokens in the log, in every message Gavel posts and in the errors
// it returns.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/e2ee"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/store"
)

func TestTokensNeverLeak(t *testing.T) {
	e := newEnv(t, nil)
	// A second session of the bot's account is the admin token, so that
	// both tokens are in use and neither is the other.
	adminToken := e.login()
	e.Cfg.Synapse.AdminAccessToken = adminToken
	e.Cfg.Logging.Level = "trace"
	pickleKey := "pk-" + rand.Text() + rand.Text()
	if e2ee.Available {
		e.Cfg.Encryption.PickleKey = pickleKey
	}
	require.NoError(t, e.Cfg.Validate())
	botToken := e.Cfg.Matrix.AccessToken
	require.NotEqual(t, botToken, adminToken)

	// A token that was valid once and one that never was, for each key.
	revokedBot, revokedAdmin := e.login(), e.login()
	for _, token := range []string{revokedBot, revokedAdmin} {
		_, err := e.Srv.Client(token).Logout(bg)
		require.NoError(t, err)
	}
	fakeBot := "syt_" + strings.ToLower(rand.Text()) + "_fAkEbOtToKeN0123456789_abc123"
	fakeAdmin := "syt_" + strings.ToLower(rand.Text()) + "_fAkEaDmInToKeN012345678_def456"
	wrongPickleKey := "wrong-pk-" + rand.Text()

	secrets := newSecrets(map[string]string{
		"the bot token": botToken, "the admin token": adminToken,
		"the revoked bot token": revokedBot, "the revoked admin token": revokedAdmin,
		"the fake bot token": fakeBot, "the fake admin token": fakeAdmin,
		"the pickle key": pickleKey, "a wrong pickle key": wrongPickleKey,
	})

	// Everything Gavel logs, at the most verbose level there is.
	logs := &bottest.LockedBuffer{}
	log := zerolog.New(logs).Level(zerolog.TraceLevel).With().Timestamp().Logger()
	require.Equal(t, zerolog.TraceLevel, zerolog.GlobalLevel(), "nothing filters trace lines out globally")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gavel's log, tokens redacted:\n%s", secrets.redact(logs.String()))
		}
	})

	// A full cycle: reports, commands that work and commands that fail.
	e.Logger = &log
	gavel := e.Start()
	spam := e.Spam("buy cheap tokens")
	e.Report(spam, "spam")
	e.WaitNotices(1)
	reportID := bottest.Itoa(e.ReportID(spam))

	replies := map[string]string{}
	for _, cmd := range []string{
		"!status",
		"!reports",
		"!report show " + reportID,
		"!report delete " + reportID,
		"!report delete 999999",
		"!report show " + reportID, // deleted by now
		"!quarantine media mxc://" + e.Srv.ServerName + "/nonexistent",
		"!quarantine room !nope:" + e.Srv.ServerName,
		"!quarantine room #nope:" + e.Srv.ServerName,
		"!quarantine user @nobody:" + e.Srv.ServerName,
		"!report frobnicate",
		"!reports --limit lots",
		"!quarantine media",
		"!frobnicate",
	} {
		replies[cmd] = e.Command(e.Mod, cmd).Body
	}
	assert.Contains(t, replies["!report delete 999999"], "does not exist")
	assert.Contains(t, replies["!status"], "Gavel test")
	refusal := e.Command(e.Member, "!status").Body
	require.NoError(t, gavel.Stop())

	// And again after a restart.
	gavel = e.Start()
	e.Report(e.Spam("more cheap tokens"), "spam again")
	e.WaitNotices(2)
	replies["!status after the restart"] = e.Command(e.Mod, "!status").Body
	require.NoError(t, gavel.Stop())

	// Start-up with tokens the homeserver rejects.
	startupErrors := map[string]string{}
	for _, tt := range []struct {
		name, bot, admin, want string
	}{
		{"revoked bot token", revokedBot, adminToken, "the homeserver rejected matrix.access_token"},
		{"fake bot token", fakeBot, adminToken, "the homeserver rejected matrix.access_token"},
		{"revoked admin token", botToken, revokedAdmin, "the homeserver rejected synapse.admin_access_token"},
		{"fake admin token", botToken, fakeAdmin, "the homeserver rejected synapse.admin_access_token"},
		{"revoked bot token as both", revokedBot, "", "the homeserver rejected matrix.access_token"},
	} {
		cfg := *e.Cfg
		cfg.Matrix.AccessToken, cfg.Synapse.AdminAccessToken = tt.bot, tt.admin
		err := e.startError(&cfg, log)
		var startup *bot.StartupError
		require.ErrorAs(t, err, &startup, tt.name)
		startupErrors[tt.name] = err.Error()
		if !strings.Contains(err.Error(), tt.want) { // checked for tokens below, before it is shown
			t.Errorf("%s: the start-up error does not say %q", tt.name, tt.want)
		}
	}

	if e2ee.Available {
		cfg := *e.Cfg
		cfg.Encryption.PickleKey = wrongPickleKey
		err := e.startError(&cfg, log)
		require.ErrorContains(t, err, "cannot read Gavel's encryption keys in the database with encryption.pickle_key")
		startupErrors["wrong pickle key"] = err.Error()
	}

	// The log is the real thing, not an empty buffer.
	captured := logs.String()
	for _, want := range []string{
		`"message":"Gavel started"`, `"message":"New report"`, `"message":"Command"`, `"message":"Posted"`,
		`"level":"debug"`, `"component":"matrix"`, `"component":"adminapi"`, `"message":"Request completed"`,
		`"status_code":401`,
	} {
		// Not assert.Contains: it would print the whole log, tokens and all.
		if !strings.Contains(captured, want) {
			t.Errorf("the log has no %s", want)
		}
	}
	assert.Equal(t, 2, strings.Count(captured, `"message":"Gavel started"`))
	if e2ee.Available && !strings.Contains(captured, `"message":"Encryption ready"`) {
		t.Error("the log has no \"Encryption ready\": the run had no encryption")
	}
	assert.Greater(t, strings.Count(captured, "\n"), 100, "lines logged")

	// Neither token, nor the secret part of one, anywhere.
	secrets.assertAbsent(t, "the log", captured)
	for name, msg := range startupErrors {
		secrets.assertAbsent(t, "the start-up error with "+name, msg)
	}
	for cmd, reply := range replies {
		secrets.assertAbsent(t, "the reply to "+cmd, reply)
	}
	secrets.assertAbsent(t, "the refusal", refusal)
	messages := e.BotMessages()
	require.GreaterOrEqual(t, len(messages), len(replies)+3, "notices and replies")
	for _, evt := range messages {
		msg := evt.Content.AsMessage()
		where := "message " + string(evt.ID) // not the body: it may hold a token
		secrets.assertAbsent(t, where+" body", msg.Body)
		secrets.assertAbsent(t, where+" formatted_body", msg.FormattedBody)
		secrets.assertAbsent(t, where+" content", string(evt.Content.VeryRaw))
		whole, err := json.Marshal(evt)
		require.NoError(t, err)
		secrets.assertAbsent(t, where, string(whole))
	}
}

// login logs the bot's account in again and returns the new session's
// token.
func (e *env) login() string {
	e.T.Helper()
	resp, err := e.Srv.Client("").Login(bg, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: e.BotCli.UserID.Localpart()},
		Password:   e.BotPassword,
	})
	require.NoError(e.T, err)
	return resp.AccessToken
}

// startError starts Gavel with cfg, expecting it to fail, and returns the
// error.
func (e *env) startError(cfg *config.Config, log zerolog.Logger) error {
	e.T.Helper()
	st, err := store.Open(bg, cfg.Database.URI, log)
	require.NoError(e.T, err)
	defer st.Close()
	b, err := bot.New(cfg, st, log, bot.Options{Version: "test"})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	err = b.Start(ctx)
	if err == nil {
		return errors.New("Gavel started")
	}
	return err
}

// secrets are tokens and their distinctive parts, longest first, each
// with the name of its token.
type secrets struct {
	parts []secretPart
}

type secretPart struct{ text, name string }

// newSecrets takes each token whole, without its "syt_" prefix, and its
// random part (syt_<base64 localpart>_<random>_<checksum>).
func newSecrets(tokens map[string]string) *secrets {
	s := &secrets{}
	for name, token := range tokens {
		s.parts = append(s.parts, secretPart{token, name}, secretPart{strings.TrimPrefix(token, "syt_"), name + " without syt_"})
		// The localpart may hold a "_" of its own: count from the end.
		if fields := strings.Split(token, "_"); len(fields) >= 4 && len(fields[len(fields)-2]) >= 16 {
			s.parts = append(s.parts, secretPart{fields[len(fields)-2], name + "'s random part"})
		}
	}
	slices.SortFunc(s.parts, func(a, b secretPart) int { return len(b.text) - len(a.text) })
	return s
}

// assertAbsent fails, showing the lines redacted, if text holds a secret.
func (s *secrets) assertAbsent(t *testing.T, where, text string) {
	t.Helper()
	var found []string
	for line := range strings.Lines(text) {
		for _, part := range s.parts {
			if strings.Contains(line, part.text) {
				found = append(found, fmt.Sprintf("  %s in: %s", part.name, strings.TrimSpace(s.redact(line))))
				break
			}
		}
	}
	if len(found) > 10 {
		found = append(found[:10], fmt.Sprintf("  … and %d more lines", len(found)-10))
	}
	if len(found) > 0 {
		t.Errorf("a token leaks into %s:\n%s", where, strings.Join(found, "\n"))
	}
}

// redact replaces every secret in text with its name, whole tokens first.
func (s *secrets) redact(text string) string {
	for _, part := range s.parts {
		text = strings.ReplaceAll(text, part.text, "<"+part.name+">")
	}
	return text
}
