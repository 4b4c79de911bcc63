package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"maunium.net/go/mautrix/id"
)

const minimal = `
matrix:
  homeserver: https://matrix.example.org
  user_id: "@gavel:example.org"
  access_token: tok
  management_room: "!mods:example.org"
`

func TestExampleConfigIsValidOnceFilledIn(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	require.NoError(t, err)
	// The example leaves the token empty on purpose.
	_, err = Parse(data)
	require.EqualError(t, err, "matrix.access_token: missing; set it here or in the GAVEL_ACCESS_TOKEN environment variable")

	t.Setenv("GAVEL_ACCESS_TOKEN", "from-env")
	cfg, err := Parse(data)
	require.NoError(t, err)
	// The example shows the defaults.
	defaults := Defaults()
	assert.Equal(t, defaults.Database, cfg.Database)
	assert.Equal(t, defaults.Commands, cfg.Commands)
	assert.Equal(t, defaults.Reports, cfg.Reports)
	assert.Equal(t, defaults.Encryption, cfg.Encryption)
	assert.Equal(t, defaults.Logging, cfg.Logging)
	assert.Equal(t, "from-env", cfg.Matrix.AccessToken)
	assert.Equal(t, "from-env", cfg.AdminToken(), "the admin token defaults to the bot's")
}

func TestMinimalConfigTakesDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, id.UserID("@gavel:example.org"), cfg.Matrix.UserID)
	assert.Equal(t, id.RoomID("!mods:example.org"), cfg.Matrix.ManagementRoom)
	assert.Equal(t, "gavel.db", cfg.Database.URI)
	assert.Equal(t, "!", cfg.Commands.Prefix)
	assert.Equal(t, 50, cfg.Commands.MinPowerLevel)
	assert.Equal(t, 1500*time.Millisecond, cfg.Reports.PollInterval)
	assert.Equal(t, FirstStartSkip, cfg.Reports.OnFirstStart)
	assert.Equal(t, 20, cfg.Reports.MaxIndividual)
	assert.Empty(t, cfg.Encryption.PickleKey, "no encryption unless asked for")
	assert.Equal(t, TrustUnverified, cfg.Encryption.MinCommandTrust)
	assert.Equal(t, "info", cfg.Logging.Level)
	assert.Equal(t, "pretty", cfg.Logging.Format)
}

func TestEveryKeyIsRead(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `
synapse:
  admin_access_token: admintok
database:
  uri: postgres://gavel:pw@db/gavel
commands:
  prefix: "?"
  min_power_level: 0
reports:
  poll_interval: 500ms
  on_first_start: post
  max_individual: 5
encryption:
  pickle_key: 0123456789abcdef0123
  min_command_trust: cross-signed-tofu
logging:
  level: debug
  format: json
metrics:
  listen: "[::1]:9110"
`))
	require.NoError(t, err)
	assert.Equal(t, "[::1]:9110", cfg.Metrics.Listen)
	assert.Equal(t, "admintok", cfg.AdminToken())
	assert.Equal(t, "postgres://gavel:pw@db/gavel", cfg.Database.URI)
	assert.Equal(t, "?", cfg.Commands.Prefix)
	assert.Equal(t, 0, cfg.Commands.MinPowerLevel, "an explicit 0 is not the default 50")
	assert.Equal(t, 500*time.Millisecond, cfg.Reports.PollInterval)
	assert.Equal(t, FirstStartPost, cfg.Reports.OnFirstStart)
	assert.Equal(t, 5, cfg.Reports.MaxIndividual)
	assert.Equal(t, "0123456789abcdef0123", cfg.Encryption.PickleKey)
	assert.Equal(t, TrustCrossSignedTOFU, cfg.Encryption.MinCommandTrust)
	assert.Equal(t, "debug", cfg.Logging.Level)
	assert.Equal(t, "json", cfg.Logging.Format)
}

func TestJSONIsAccepted(t *testing.T) {
	cfg, err := Parse([]byte(`{"matrix": {"homeserver": "http://127.0.0.1:8008", "user_id": "@gavel:localhost",
		"access_token": "tok", "management_room": "!m:localhost"}, "reports": {"poll_interval": "1s"}}`))
	require.NoError(t, err)
	assert.Equal(t, time.Second, cfg.Reports.PollInterval)
}

func TestEnvironmentOverridesTokens(t *testing.T) {
	t.Setenv("GAVEL_ACCESS_TOKEN", "env-bot")
	t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", "env-admin")
	t.Setenv("GAVEL_PICKLE_KEY", "env-pickle-key-0123456789")
	cfg, err := Parse([]byte(minimal + "encryption:\n  pickle_key: file-pickle-key-0123456789\n"))
	require.NoError(t, err)
	assert.Equal(t, "env-bot", cfg.Matrix.AccessToken)
	assert.Equal(t, "env-admin", cfg.AdminToken())
	assert.Equal(t, "env-pickle-key-0123456789", cfg.Encryption.PickleKey)
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{"bad room", strings.Replace(minimal, `"!mods:example.org"`, `"#mods:example.org"`, 1),
			[]string{"matrix.management_room: must be a room id like !abc:example.org"}},
		{"bad user", strings.Replace(minimal, `"@gavel:example.org"`, `gavel`, 1),
			[]string{"matrix.user_id: must be a user id like @gavel:example.org"}},
		{"bad homeserver", strings.Replace(minimal, `https://matrix.example.org`, `matrix.example.org`, 1),
			[]string{"matrix.homeserver: must be an http:// or https:// URL"}},
		{"unknown key with suggestion", minimal + "  acess_token: x\n",
			[]string{"line 7: unknown key matrix.acess_token (did you mean access_token?)"}},
		{"unknown section", minimal + "extras:\n  a: 1\n",
			[]string{"line 7: unknown key extras"}},
		{"duration", minimal + "reports:\n  poll_interval: often\n",
			[]string{"line 8: reports.poll_interval: must be a duration like 2s"}},
		{"duration out of range", minimal + "reports:\n  poll_interval: 1ms\n",
			[]string{"reports.poll_interval: must be between 100ms and 1h"}},
		{"number", minimal + "commands:\n  min_power_level: high\n",
			[]string{"line 8: commands.min_power_level: must be a whole number"}},
		{"section is not a mapping", minimal + "commands: yes\n",
			[]string{"line 7: commands must be a mapping of keys to values"}},
		{"list instead of value", minimal + "commands:\n  prefix: [a, b]\n",
			[]string{"line 8: commands.prefix: must be a single value"}},
		{"choices", minimal + "reports:\n  on_first_start: maybe\nlogging:\n  level: loud\n  format: xml\n",
			[]string{"reports.on_first_start: must be skip or post", "logging.level: must be one of trace, debug, info, warn, error", "logging.format: must be pretty or json"}},
		{"trust", minimal + "encryption:\n  min_command_trust: verified\n",
			[]string{"encryption.min_command_trust: must be unverified, cross-signed-tofu or cross-signed-verified"}},
		{"short pickle key", minimal + "encryption:\n  pickle_key: abc\n",
			[]string{"encryption.pickle_key: is too short to protect encryption keys; use at least 16 random characters"}},
		{"prefix", minimal + "commands:\n  prefix: \"! \"\n",
			[]string{"commands.prefix: must be 1 to 8 characters without spaces"}},
		{"metrics address", minimal + "metrics:\n  listen: 9110\n",
			[]string{`metrics.listen: must be a host and port to listen on, like 127.0.0.1:9110 (got "9110")`}},
		{"metrics on the doorbell's address", minimal + "reports:\n  doorbell_listen: 127.0.0.1:9109\nmetrics:\n  listen: 127.0.0.1:9109\n",
			[]string{"metrics.listen: is reports.doorbell_listen's address too; give each its own port"}},
		{"empty file", "", []string{"matrix.homeserver: missing", "matrix.user_id: missing", "matrix.access_token: missing", "matrix.management_room: missing"}},
		{"not yaml", "matrix: [", []string{"not valid YAML or JSON"}},
		{"top level list", "- a\n", []string{"line 1: the file must be a mapping"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), "tok\n", "tokens are never echoed")
		})
	}
}

func TestErrorsNeverEchoTokens(t *testing.T) {
	_, err := Parse([]byte(strings.Replace(minimal, "access_token: tok", "access_token: [s3cr3t-token]", 1)))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Contains(t, err.Error(), "matrix.access_token: must be a single value")
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "config.yaml"))
	assert.ErrorContains(t, err, "does not exist: copy config.example.yaml to")

	path := filepath.Join(dir, "gavel.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimal+"database:\n  uri: ''\n"), 0o600))
	_, err = Load(path)
	assert.EqualError(t, err, "config file "+path+": database.uri: must not be empty; use a file name like gavel.db, or postgres://user:pass@host/db")
}

// TestWarnsWhenOthersCanReadATokenInTheFile: a token in a file other users
// may read is a warning that says what to do; a token from the environment
// is not, and the warning never shows the token.
func TestWarnsWhenOthersCanReadATokenInTheFile(t *testing.T) {
	const (
		botToken   = "syt_Ym90_s3cr3tBotToken_0a1b2c"
		adminToken = "syt_YWRt_s3cr3tAdminToken_3d4e5f"
	)
	withoutToken := strings.Replace(minimal, "  access_token: tok\n", "", 1)
	withToken := strings.Replace(minimal, "access_token: tok", "access_token: "+botToken, 1)
	withAdmin := withoutToken + "synapse:\n  admin_access_token: " + adminToken + "\n"
	withBoth := withToken + "synapse:\n  admin_access_token: " + adminToken + "\n"
	const pickleKey = "s3cr3tPickleKey-9f8e7d6c"
	withPickle := withoutToken + "encryption:\n  pickle_key: " + pickleKey + "\n"
	withAll := withBoth + "encryption:\n  pickle_key: " + pickleKey + "\n"
	for _, tt := range []struct {
		name     string
		content  string
		mode     os.FileMode
		env      map[string]string
		want     string // the whole warning after the path; "" for none
		fileName string
	}{
		{name: "token in a world-readable file", content: withToken, mode: 0o644,
			want: " is readable by other users (mode 0644) and holds an access token (matrix.access_token): run chmod 600 %s, or pass the token in GAVEL_ACCESS_TOKEN instead"},
		{name: "token in a group-readable file", content: withToken, mode: 0o640,
			want: " is readable by other users (mode 0640) and holds an access token (matrix.access_token): run chmod 600 %s, or pass the token in GAVEL_ACCESS_TOKEN instead"},
		{name: "token in an others-only-readable file", content: withToken, mode: 0o604,
			want: " is readable by other users (mode 0604) and holds an access token (matrix.access_token): run chmod 600 %s, or pass the token in GAVEL_ACCESS_TOKEN instead"},
		{name: "token in a private file", content: withToken, mode: 0o600},
		{name: "token in a read-only private file", content: withToken, mode: 0o400},
		{name: "tokens only from the environment", content: withoutToken, mode: 0o644,
			env: map[string]string{"GAVEL_ACCESS_TOKEN": botToken, "GAVEL_ADMIN_ACCESS_TOKEN": adminToken}},
		{name: "token in the file overridden by the environment", content: withToken, mode: 0o644,
			env:  map[string]string{"GAVEL_ACCESS_TOKEN": "syt_other"},
			want: " is readable by other users (mode 0644) and holds an access token (matrix.access_token): run chmod 600 %s, or pass the token in GAVEL_ACCESS_TOKEN instead"},
		{name: "admin token in the file", content: withAdmin, mode: 0o644,
			env:  map[string]string{"GAVEL_ACCESS_TOKEN": botToken},
			want: " is readable by other users (mode 0644) and holds an access token (synapse.admin_access_token): run chmod 600 %s, or pass the token in GAVEL_ADMIN_ACCESS_TOKEN instead"},
		{name: "both tokens in the file", content: withBoth, mode: 0o664,
			want: " is readable by other users (mode 0664) and holds access tokens (matrix.access_token, synapse.admin_access_token): run chmod 600 %s, or pass them in GAVEL_ACCESS_TOKEN and GAVEL_ADMIN_ACCESS_TOKEN instead"},
		{name: "pickle key in the file", content: withPickle, mode: 0o644,
			env:  map[string]string{"GAVEL_ACCESS_TOKEN": botToken},
			want: " is readable by other users (mode 0644) and holds the encryption pickle key (encryption.pickle_key): run chmod 600 %s, or pass the key in GAVEL_PICKLE_KEY instead"},
		{name: "pickle key only from the environment", content: withoutToken, mode: 0o644,
			env: map[string]string{"GAVEL_ACCESS_TOKEN": botToken, "GAVEL_PICKLE_KEY": pickleKey}},
		{name: "every secret in the file", content: withAll, mode: 0o640,
			want: " is readable by other users (mode 0640) and holds secrets (matrix.access_token, synapse.admin_access_token, encryption.pickle_key): run chmod 600 %s, or pass them in GAVEL_ACCESS_TOKEN, GAVEL_ADMIN_ACCESS_TOKEN and GAVEL_PICKLE_KEY instead"},
		{name: "a path the shell needs quoted", content: withToken, mode: 0o644, fileName: "my gavel's.yaml",
			want: " is readable by other users (mode 0644) and holds an access token (matrix.access_token): run chmod 600 %s, or pass the token in GAVEL_ACCESS_TOKEN instead"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GAVEL_ACCESS_TOKEN", "")
			t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", "")
			t.Setenv("GAVEL_PICKLE_KEY", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			name := tt.fileName
			if name == "" {
				name = "config.yaml"
			}
			path := filepath.Join(t.TempDir(), name)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			require.NoError(t, os.Chmod(path, tt.mode)) // not subject to the umask
			cfg, err := Load(path)
			require.NoError(t, err)
			warnings := cfg.Warnings()
			if tt.want == "" {
				assert.Empty(t, warnings)
				return
			}
			quoted := path
			if tt.fileName != "" {
				quoted = "'" + filepath.Dir(path) + `/my gavel'\''s.yaml'`
			}
			require.Len(t, warnings, 1)
			assert.Equal(t, path+fmt.Sprintf(tt.want, quoted), warnings[0])
			for _, secret := range []string{botToken, adminToken, pickleKey, "s3cr3t"} {
				assert.NotContains(t, warnings[0], secret)
			}
		})
	}
}

func TestParsedConfigHasNoFileWarnings(t *testing.T) {
	cfg, err := Parse([]byte(minimal))
	require.NoError(t, err)
	assert.Empty(t, cfg.Warnings(), "no file, nothing to say about its mode")
}

func TestMarshalRoundTrips(t *testing.T) {
	cfg, err := Parse([]byte(minimal))
	require.NoError(t, err)
	cfg.Reports.PollInterval = 2500 * time.Millisecond
	cfg.Reports.MaxIndividual = 0
	cfg.Synapse.AdminAccessToken = "admintok"
	data, err := cfg.Marshal()
	require.NoError(t, err)
	again, err := Parse(data)
	require.NoError(t, err, "%s", data)
	assert.Equal(t, cfg.Matrix, again.Matrix)
	assert.Equal(t, cfg.Synapse, again.Synapse)
	assert.Equal(t, cfg.Reports, again.Reports)
	assert.Equal(t, cfg.Commands, again.Commands)
	assert.Equal(t, cfg.Logging, again.Logging)
	assert.Contains(t, string(data), "poll_interval: 2.5s")
}

// listKeys has the list shapes a key may take. Config has no list key yet,
// so the walker that Parse uses is tested on this instead.
type listKeys struct {
	Admins []id.UserID     `yaml:"admins"`
	Names  []string        `yaml:"names"`
	Limits []int           `yaml:"limits"`
	Waits  []time.Duration `yaml:"waits"`
	Rooms  []listKeysRoom  `yaml:"rooms"`
	Groups [][]string      `yaml:"groups"`
	Nested listKeysNested  `yaml:"nested"`
}

type listKeysRoom struct {
	ID   id.RoomID `yaml:"id"`
	Name string    `yaml:"name"`
}

type listKeysNested struct {
	Tags []string `yaml:"tags"`
}

// decodeInto runs the walker over data, as Parse does over a file.
func decodeInto(t *testing.T, data []byte, v any) error {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &root))
	require.NotEmpty(t, root.Content)
	return errors.Join(decode(root.Content[0], reflect.ValueOf(v).Elem(), "")...)
}

func TestListsRoundTrip(t *testing.T) {
	got := listKeys{Names: []string{"default"}, Limits: []int{7}, Waits: []time.Duration{time.Second}}
	require.NoError(t, decodeInto(t, []byte(`
admins:
  - "@alice:example.org"
  - "@bob:example.org"
names: [a, "b c", '!x']
limits:
waits: []
rooms:
  - id: "!a:example.org"
    name: first
  - {id: "!b:example.org"}
groups: [[a, b], [], [c]]
nested:
  tags: [t1]
`), &got))
	want := listKeys{
		Admins: []id.UserID{"@alice:example.org", "@bob:example.org"},
		Names:  []string{"a", "b c", "!x"}, // replaced, not appended to
		Limits: []int{7},                   // no value keeps the default
		Waits:  []time.Duration{},
		Rooms:  []listKeysRoom{{ID: "!a:example.org", Name: "first"}, {ID: "!b:example.org"}},
		Groups: [][]string{{"a", "b"}, {}, {"c"}},
		Nested: listKeysNested{Tags: []string{"t1"}},
	}
	assert.Equal(t, want, got)

	want.Waits = []time.Duration{1500 * time.Millisecond, time.Minute}
	data, err := yaml.Marshal(want)
	require.NoError(t, err)
	var again listKeys
	require.NoError(t, decodeInto(t, data, &again), "%s", data)
	assert.Equal(t, want, again)
	assert.Contains(t, string(data), "- 1.5s")
}

func TestListErrorsNameTheElement(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{"value instead of list", "names: a\n", []string{"line 1: names: must be a list, like [a, b] or one \"- item\" per line"}},
		{"mapping instead of list", "names:\n  a: b\n", []string{"line 2: names: must be a list"}},
		{"wrong element types", "limits: [1, x, 3, y]\n", []string{"line 1: limits[1]: must be a whole number", "line 1: limits[3]: must be a whole number"}},
		{"bad duration", "waits:\n  - 1s\n  - soon\n", []string{"line 3: waits[1]: must be a duration like 2s"}},
		{"list in a list of values", "names: [a, [b]]\n", []string{"line 1: names[1]: must be a single value"}},
		{"mapping in a list of values", "admins:\n  - user: \"@a:example.org\"\n", []string{"line 2: admins[0]: must be a single value"}},
		{"empty element", "names:\n  - a\n  -\n", []string{"line 3: names[1]: is empty"}},
		{"unknown key in an element", "rooms:\n  - id: \"!a:example.org\"\n    nmae: x\n", []string{"line 3: unknown key rooms[0].nmae (did you mean name?)"}},
		{"value instead of element mapping", "rooms: [x]\n", []string{"line 1: rooms[0] must be a mapping of keys to values"}},
		{"nested", "groups: [[a], b]\nnested:\n  tags: [[x]]\n", []string{"line 1: groups[1]: must be a list", "line 3: nested.tags[0]: must be a single value"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got listKeys
			err := decodeInto(t, []byte(tt.yaml), &got)
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.want), err.Error())
			for i, want := range tt.want {
				assert.True(t, strings.HasPrefix(lines[i], want), "%q does not start with %q", lines[i], want)
			}
		})
	}
}

// TestPowerLevels: commands.power_levels gives commands and groups their
// own level; unknown names, names of several commands, levels outside
// Matrix's range and entries given twice are refused with their key and
// line, all at once.
func TestPowerLevels(t *testing.T) {
	cfg, err := Parse([]byte(minimal + "commands:\n  min_power_level: 40\n  power_levels:\n    suspend: 100\n    room delete: 90\n    read: 0\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"suspend": 100, "room delete": 90, "read": 0}, cfg.Commands.PowerLevels)
	levels := cfg.Commands.Levels()
	assert.Equal(t, 40, levels.Min)
	assert.Equal(t, cfg.Commands.PowerLevels, levels.Set)

	cfg, err = Parse([]byte(minimal))
	require.NoError(t, err)
	assert.Empty(t, cfg.Commands.PowerLevels, "no entries unless given: the defaults are commands.Levels'")

	_, err = Parse([]byte(minimal + `commands:
  power_levels:
    deactivat: 100
    redact: 100
    suspend: 9007199254740992
    ban: -9007199254740992
    kick: lots
    unban:
    lock: 60
    lock: 70
`))
	require.Error(t, err)
	for _, want := range []string{
		"line 9: commands.power_levels.deactivat: is no command or group (did you mean deactivate?): name a command as !help does (deactivate, room delete) or a group (read, cases, room, server, destructive)",
		"line 10: commands.power_levels.redact: names no single command: give each of redact user, redact event its level, or a group (read, cases, room, server, destructive)",
		"line 11: commands.power_levels.suspend: must be a power level between -9007199254740991 and 9007199254740991 (Matrix's range), like 100",
		"line 12: commands.power_levels.ban: must be a power level between",
		"line 13: commands.power_levels.kick: must be a whole number",
		"line 14: commands.power_levels.unban: has no level; give one, like 100, or remove the line",
		"line 16: commands.power_levels.lock: given twice (first on line 15); keep one",
	} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Parse([]byte(minimal + "commands:\n  power_levels: [destructive]\n"))
	assert.ErrorContains(t, err, "line 8: commands.power_levels must be a mapping of command or group names to power levels, like {destructive: 100, suspend: 100}")

	// A configuration built in code is checked too, by key.
	cfg, err = Parse([]byte(minimal))
	require.NoError(t, err)
	cfg.Commands.PowerLevels = map[string]int{"obliterate": 100}
	cfg.Commands.MinPowerLevel = 1 << 60
	err = cfg.Validate()
	assert.ErrorContains(t, err, "commands.power_levels.obliterate: is no command or group")
	assert.ErrorContains(t, err, "commands.min_power_level: must be a power level between")

	// What Marshal writes, Parse reads back.
	cfg.Commands.PowerLevels = map[string]int{"room delete": 100, "cases": 30}
	cfg.Commands.MinPowerLevel = 50
	data, err := cfg.Marshal()
	require.NoError(t, err)
	back, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, cfg.Commands.PowerLevels, back.Commands.PowerLevels)
}

// TestDesks: desks are read with every key, and each bad entry is refused
// with its key and line, all at once.
func TestDesks(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `desks:
  - name: gaming
    room: "!gaming-mods:example.org"
    spaces: ["#gaming:example.org", "!space:example.org"]
    rooms: ["https://matrix.to/#/#lobby:example.org"]
    server_desk_copy: false
    power_levels: {cases: 20, ban: 75}
  - name: art-2
    room: "!art:example.org"
    rooms: ["!gallery:example.org"]
`))
	require.NoError(t, err)
	require.Len(t, cfg.Desks, 2)
	assert.Equal(t, Desk{Name: "gaming", Room: "!gaming-mods:example.org", Spaces: []string{"#gaming:example.org", "!space:example.org"},
		Rooms: []string{"https://matrix.to/#/#lobby:example.org"}, ServerDeskCopy: cfg.Desks[0].ServerDeskCopy,
		PowerLevels: map[string]int{"cases": 20, "ban": 75}}, cfg.Desks[0])
	assert.False(t, cfg.Desks[0].CopiesToServerDesk())
	assert.True(t, cfg.Desks[1].CopiesToServerDesk(), "server_desk_copy defaults to true")
	data, err := cfg.Marshal()
	require.NoError(t, err)
	back, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, cfg.Desks, back.Desks, "what Marshal writes, Parse reads back")

	_, err = Parse([]byte(minimal + `desks:
  - name: Gaming
    room: "#gaming-mods:example.org"
    spaces: ["gaming", "#:example.org"]
  - name: art
    room: "!mods:example.org"
    rooms: ["!a b:example.org"]
  - name: art
    room: "!art:example.org"
  - room: "!art:example.org"
    spaces: ["!s:example.org"]
`))
	require.Error(t, err)
	want := []string{
		`line 8: desks[0].name: must be 1 to 32 characters of a-z, 0-9 and -, like gaming (got "Gaming")`,
		`line 9: desks[0].room: must be a room id like !gaming-mods:example.org: invalid room id "#gaming-mods:example.org": this is a room alias; a room id starts with !`,
		`line 10: desks[0].spaces[0]: "gaming" is not a room: give a room id like !abc:example.org, an alias like #room:example.org, or a matrix.to link`,
		`line 10: desks[0].spaces[1]: "#:example.org" is not a room alias like #room:example.org`,
		`line 12: desks[1].room: is matrix.management_room, the server desk's room; give the desk a room of its own`,
		`line 13: desks[1].rooms[0]: "!a b:example.org" is not a valid room id`,
		`line 14: desks[2].name: art is desks[1]'s name too; give each desk its own`,
		`line 14: desks[2]: has neither spaces nor rooms: list the spaces (like spaces: ["#gaming:example.org"]) or the rooms whose reports this desk gets`,
		`line 16: desks[3].name: missing; give the desk a short name of a-z, 0-9 and -, like gaming`,
		`line 16: desks[3].room: is desks[2]'s room too; give each desk a room of its own`,
	}
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
	assert.Len(t, strings.Split(err.Error(), "\n"), len(want), err.Error())

	_, err = Parse([]byte(minimal + "desks:\n  - name: a\n    room: \"!a:example.org\"\n    rooms: [\"!r:example.org\"]\n    power_levels: {deactivat: 100}\n"))
	assert.ErrorContains(t, err, "line 11: desks[0].power_levels.deactivat: is no command or group (did you mean deactivate?)")
	_, err = Parse([]byte(minimal + "desks:\n  - name: a\n    room: \"!a:example.org\"\n    rooms: [\"!r:example.org\"]\n    nmae: x\n"))
	assert.ErrorContains(t, err, "line 11: unknown key desks[0].nmae (did you mean name?)")
	_, err = Parse([]byte(minimal + "desks:\n  name: a\n"))
	assert.ErrorContains(t, err, "line 8: desks: must be a list")

	// A configuration built in code is checked too, by key.
	cfg, err = Parse([]byte(minimal))
	require.NoError(t, err)
	cfg.Desks = []Desk{{Name: "x", Room: "!x:example.org", Rooms: []string{"!r:example.org"}, PowerLevels: map[string]int{"obliterate": 1}}}
	assert.ErrorContains(t, cfg.Validate(), "desks[0].power_levels.obliterate: is no command or group")
}

// TestExampleDesks: the commented desks example in config.example.yaml,
// uncommented, is valid.
func TestExampleDesks(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	require.NoError(t, err)
	var block []string
	for _, line := range strings.Split(string(data), "\n") {
		if len(block) > 0 && !strings.HasPrefix(line, "#  ") {
			break // the example ends at its first other line
		}
		if line == "# desks:" || len(block) > 0 {
			block = append(block, strings.TrimPrefix(line, "# "))
		}
	}
	require.NotEmpty(t, block, "config.example.yaml shows desks")
	cfg, err := Parse([]byte(minimal + strings.Join(block, "\n") + "\n"))
	require.NoError(t, err, strings.Join(block, "\n"))
	require.Len(t, cfg.Desks, 1)
	assert.Equal(t, "gaming", cfg.Desks[0].Name)
	assert.Equal(t, map[string]int{"cases": 20}, cfg.Desks[0].PowerLevels)
}

// TestStatsTimezone: a time zone Go does not know is refused with its
// key; empty is UTC.
func TestStatsTimezone(t *testing.T) {
	c := Defaults()
	loc, err := c.Stats.Location()
	require.NoError(t, err)
	assert.Equal(t, time.UTC, loc)
	c.Stats.Timezone = "Mars/Olympus_Mons"
	err = c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stats.timezone: unknown time zone "Mars/Olympus_Mons"`)
	c.Stats.Timezone = "Europe/Berlin"
	loc, err = c.Stats.Location()
	require.NoError(t, err)
	assert.Equal(t, "Europe/Berlin", loc.String())
}

func TestPolicyLists(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `policy_lists:
  - room: "#bans:example.org"
    shortcode: main
    write: true
  - room: "!community:example.org"
    shortcode: community
`))
	require.NoError(t, err)
	assert.Equal(t, []PolicyList{{Room: "#bans:example.org", Shortcode: "main", Write: true}, {Room: "!community:example.org", Shortcode: "community"}}, cfg.PolicyLists)
	assert.Equal(t, "{reason} (case {report_id})", cfg.ReasonTemplate())

	_, err = Parse([]byte(minimal + `policy_lists:
  - room: "bans"
    shortcode: Main
  - room: "!community:example.org"
    shortcode: community
  - room: "!community:example.org"
    shortcode: community
  - room: "!mods:example.org"
policy_reason_template: "case {report_id}"
`))
	require.Error(t, err)
	want := []string{
		`line 8: policy_lists[0].room: "bans" is not a room`,
		`line 9: policy_lists[0].shortcode: must be 1 to 32 characters of a-z, 0-9 and -, like main (got "Main")`,
		`line 13: policy_lists[2].shortcode: community is policy_lists[1]'s shortcode too; give each list its own`,
		`line 12: policy_lists[2].room: is policy_lists[1]'s room too; list each room once`,
		`line 14: policy_lists[3].shortcode: missing`,
		`line 14: policy_lists[3].room: is a desk's room; a policy list needs a room of its own`,
		`policy_reason_template: must hold {reason}`,
	}
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
	assert.Len(t, strings.Split(err.Error(), "\n"), len(want), err.Error())
}
