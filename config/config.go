// Package config loads and validates Gavel's configuration file.
//
// The file is YAML (JSON is YAML too). Unknown keys and values of the wrong
// type are errors that name the key and its line; every problem found is
// reported at once, so a new user fixes the file in one go.
//
// Of Gavel's packages it may import: commands, internal/mxid, policy.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/policy"
)

// Config is Gavel's whole configuration. The yaml tags are the keys of
// config.example.yaml; they are Gavel's interface and keep their names.
type Config struct {
	Matrix     Matrix     `yaml:"matrix"`
	Synapse    Synapse    `yaml:"synapse"`
	Database   Database   `yaml:"database"`
	Commands   Commands   `yaml:"commands"`
	Reports    Reports    `yaml:"reports"`
	Encryption Encryption `yaml:"encryption"`
	Logging    Logging    `yaml:"logging"`
	Metrics    Metrics    `yaml:"metrics"`
	Stats      Stats      `yaml:"stats"`
	// Desks are the community desks: management rooms beside
	// Matrix.ManagementRoom (the server desk), each for the reports about
	// the rooms in its scope.
	Desks []Desk `yaml:"desks,omitempty"`
	// PolicyLists are the policy lists Gavel follows (for cards and
	// !policy check) and, those with Write, writes to (!policy ban).
	PolicyLists []PolicyList `yaml:"policy_lists,omitempty"`
	// PolicyReasonTemplate is the reason of a rule Gavel writes, with
	// {reason} and {report_id} filled in.
	PolicyReasonTemplate string `yaml:"policy_reason_template,omitempty"`

	// file is what Load learnt about the file; Warnings reads it.
	file fileInfo
}

// fileInfo describes the configuration file, for warnings that do not stop
// Gavel.
type fileInfo struct {
	path   string
	mode   fs.FileMode
	tokens []string // the secret keys set in the file itself, not by the environment
	// lines are the lines of the keys and list elements in the file, by
	// dotted key ("desks[0].room"), for Validate's messages.
	lines map[string]int
}

// Matrix is the bot's own account and the room it works in.
type Matrix struct {
	// Homeserver is the client-server API base URL.
	Homeserver string `yaml:"homeserver"`
	// UserID is the bot's user id; start-up checks that the access token
	// belongs to it.
	UserID id.UserID `yaml:"user_id"`
	// AccessToken is the bot's access token; GAVEL_ACCESS_TOKEN overrides it.
	AccessToken string `yaml:"access_token"`
	// ManagementRoom is the moderators' room.
	ManagementRoom id.RoomID `yaml:"management_room"`
}

// Desk is a community desk: a management room with a scope.
type Desk struct {
	// Name is shown on cards and in !status: [a-z0-9-]+.
	Name string `yaml:"name"`
	// Room is the desk's room id; Gavel joins it when invited.
	Room id.RoomID `yaml:"room"`
	// Spaces are room ids or aliases of spaces: the rooms in them
	// (recursively) are in scope.
	Spaces []string `yaml:"spaces,omitempty"`
	// Rooms are room ids or aliases in scope.
	Rooms []string `yaml:"rooms,omitempty"`
	// ServerDeskCopy: the server desk gets a card of these reports too
	// (nil: true).
	ServerDeskCopy *bool `yaml:"server_desk_copy,omitempty"`
	// PowerLevels are the desk's own roles, as Commands.PowerLevels; the
	// desk's room's power levels decide who holds them.
	PowerLevels map[string]int `yaml:"power_levels,omitempty"`
}

// PolicyList is a followed policy list.
type PolicyList struct {
	// Room is the list's room id or alias; Gavel joins it.
	Room string `yaml:"room"`
	// Shortcode names the list in commands and on cards: [a-z0-9-]+.
	Shortcode string `yaml:"shortcode"`
	// Write: !policy ban writes rules here; Gavel's account needs the
	// power to send m.policy.rule.* state in the room.
	Write bool `yaml:"write,omitempty"`
}

// CopiesToServerDesk reports whether the server desk gets a card of the
// reports this desk gets.
func (d Desk) CopiesToServerDesk() bool { return d.ServerDeskCopy == nil || *d.ServerDeskCopy }

// Synapse holds what the admin API needs.
type Synapse struct {
	// AdminAccessToken is a server admin's token for the admin API;
	// GAVEL_ADMIN_ACCESS_TOKEN overrides it. Empty means Matrix.AccessToken.
	AdminAccessToken string `yaml:"admin_access_token"`
	// Database, when set, is Synapse's own database, read-only: a
	// postgres:// URI, or the path of Synapse's SQLite file. Gavel reads
	// room reports from it (Synapse has no admin API for them) and
	// nothing else.
	Database string `yaml:"database"`
}

// Database says where Gavel keeps its state.
type Database struct {
	// URI is a SQLite file path, or a postgres:// URI.
	URI string `yaml:"uri"`
}

// Commands configures the moderators' commands.
type Commands struct {
	// Prefix starts every command, e.g. "!" in "!help".
	Prefix string `yaml:"prefix"`
	// MinPowerLevel is the power level in the management room needed to run
	// commands, unless PowerLevels says otherwise.
	MinPowerLevel int `yaml:"min_power_level"`
	// PowerLevels gives commands (by name: "room delete") or groups of
	// commands ("destructive") a level of their own; see Levels.
	PowerLevels map[string]int `yaml:"power_levels,omitempty"`
	// DryRun makes every command that would change something reply with
	// what it would do instead, and call nothing that changes state.
	DryRun bool `yaml:"dry_run"`
	// ConfirmTimeout is how long a preview of an action that needs
	// confirmation waits for a moderator's ✅.
	ConfirmTimeout time.Duration `yaml:"confirm_timeout"`
}

// Levels returns the power level each command needs in the management
// room.
func (c Commands) Levels() commands.Levels {
	return commands.Levels{Min: c.MinPowerLevel, Set: c.PowerLevels}
}

// levelProblem says what is wrong with the entry name: level of
// commands.power_levels, or "".
func levelProblem(name string, level int) string {
	names := commands.LevelNames()
	if !slices.Contains(names, name) {
		groups := make([]string, 0, len(commands.Groups()))
		for _, g := range commands.Groups() {
			groups = append(groups, string(g))
		}
		if under := commands.Lookup(name); len(under) > 0 {
			sub := make([]string, len(under))
			for i, s := range under {
				sub[i] = s.Name
			}
			return fmt.Sprintf("names no single command: give each of %s its level, or a group (%s)", strings.Join(sub, ", "), strings.Join(groups, ", "))
		}
		return fmt.Sprintf("is no command or group%s: name a command as !help does (deactivate, room delete) or a group (%s)",
			suggest(name, names), strings.Join(groups, ", "))
	}
	return levelRange(level)
}

// levelRange says what is wrong with a power level, or "".
func levelRange(level int) string {
	if level < commands.MinLevel || level > commands.MaxLevel {
		return fmt.Sprintf("must be a power level between %d and %d (Matrix's range), like 100", commands.MinLevel, commands.MaxLevel)
	}
	return ""
}

// Reports configures the report feed.
type Reports struct {
	// PollInterval is how often Synapse is asked for new reports.
	PollInterval time.Duration `yaml:"poll_interval"`
	// OnFirstStart is "skip" or "post": what to do with the reports already
	// open the very first time Gavel runs.
	OnFirstStart string `yaml:"on_first_start"`
	// MaxIndividual is how many new reports one poll may post as a message
	// each; more are posted as digests of up to 50.
	MaxIndividual int `yaml:"max_individual"`
	// DeleteOnResolve: resolving or dismissing a report's case deletes the
	// report in Synapse, once Gavel has archived it.
	DeleteOnResolve bool `yaml:"delete_on_resolve"`
	// NotifyReporter: resolving or dismissing a case sends each local
	// reporter a server notice, NotifyTemplate with {report_id} and
	// {server} filled in.
	NotifyReporter bool   `yaml:"notify_reporter"`
	NotifyTemplate string `yaml:"notify_template"`
	// DoorbellListen, when set, is a loopback address (host:port) where
	// any POST to /doorbell makes Gavel poll at once: a reverse proxy rings
	// it for every report request. Empty: off.
	DoorbellListen string `yaml:"doorbell_listen"`
}

// DefaultNotifyTemplate is reports.notify_template's default: it names
// neither the moderator nor what was done.
const DefaultNotifyTemplate = "Thank you for your report {report_id}. The moderators of {server} have reviewed it."

// Encryption configures end-to-end encryption in the management room.
type Encryption struct {
	// PickleKey encrypts Gavel's encryption keys in the database;
	// GAVEL_PICKLE_KEY overrides it. Empty means no encryption: Gavel then
	// refuses to start in an encrypted room.
	PickleKey string `yaml:"pickle_key"`
	// MinCommandTrust is the least trusted device whose encrypted commands
	// Gavel runs: unverified, cross-signed-tofu or cross-signed-verified.
	MinCommandTrust string `yaml:"min_command_trust"`
}

// The choices for Encryption.MinCommandTrust, in mautrix's words.
const (
	TrustUnverified          = "unverified"
	TrustCrossSignedTOFU     = "cross-signed-tofu"
	TrustCrossSignedVerified = "cross-signed-verified"
)

// Logging configures the log output.
type Logging struct {
	// Level is trace, debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is pretty (for people) or json (for log collectors).
	Format string `yaml:"format"`
}

// Metrics configures the Prometheus metrics and health endpoints.
type Metrics struct {
	// Listen, when set, is an address (host:port) serving /metrics,
	// /healthz and /readyz. They hold no ids or tokens, but tell how busy
	// the moderators are: keep it on loopback or a private network.
	// Empty: off.
	Listen string `yaml:"listen"`
}

// Stats configures the team's picture (!stats and the weekly post).
type Stats struct {
	// Weekly: every Monday at 09:00 in Timezone, the past week's figures
	// and chart are posted in the server desk.
	Weekly bool `yaml:"weekly"`
	// Timezone is an IANA time zone name, like Europe/Berlin, that cuts
	// the figures' days and sets the weekly post's hour; empty for UTC.
	Timezone string `yaml:"timezone"`
}

// Location is Timezone's location: UTC when it is empty.
func (s Stats) Location() (*time.Location, error) {
	return time.LoadLocation(s.Timezone)
}

// The choices for Reports.OnFirstStart.
const (
	FirstStartSkip = "skip"
	FirstStartPost = "post"
)

// Defaults returns the configuration that applies to keys the file leaves
// out.
func Defaults() Config {
	return Config{
		Database: Database{URI: "gavel.db"},
		Commands: Commands{Prefix: "!", MinPowerLevel: 50, ConfirmTimeout: 5 * time.Minute},
		Reports: Reports{PollInterval: 1500 * time.Millisecond, OnFirstStart: FirstStartSkip, MaxIndividual: 20, DeleteOnResolve: true,
			NotifyTemplate: DefaultNotifyTemplate},
		Encryption: Encryption{MinCommandTrust: TrustUnverified},
		Logging:    Logging{Level: "info", Format: "pretty"},
	}
}

// AdminToken returns the token for the admin API.
func (c *Config) AdminToken() string {
	if c.Synapse.AdminAccessToken != "" {
		return c.Synapse.AdminAccessToken
	}
	return c.Matrix.AccessToken
}

// Load reads the file at path, applies the environment overrides
// (GAVEL_ACCESS_TOKEN, GAVEL_ADMIN_ACCESS_TOKEN) and validates the result.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config file %s does not exist: copy config.example.yaml to %s and fill it in, or name another file with -config", path, path)
	} else if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	cfg.file.path, cfg.file.mode = path, info.Mode()
	return cfg, nil
}

// Parse is Load without the file: it decodes data, applies the environment
// overrides and validates.
func Parse(data []byte) (*Config, error) {
	cfg := Defaults()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	if len(root.Content) > 0 {
		if errs := decode(root.Content[0], reflect.ValueOf(&cfg).Elem(), ""); len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		cfg.file.lines = map[string]int{}
		keyLines(root.Content[0], "", cfg.file.lines)
	}
	if cfg.Matrix.AccessToken != "" {
		cfg.file.tokens = append(cfg.file.tokens, "matrix.access_token")
	}
	if cfg.Synapse.AdminAccessToken != "" {
		cfg.file.tokens = append(cfg.file.tokens, "synapse.admin_access_token")
	}
	if cfg.Encryption.PickleKey != "" {
		cfg.file.tokens = append(cfg.file.tokens, "encryption.pickle_key")
	}
	if token := os.Getenv("GAVEL_ACCESS_TOKEN"); token != "" {
		cfg.Matrix.AccessToken = token
	}
	if token := os.Getenv("GAVEL_ADMIN_ACCESS_TOKEN"); token != "" {
		cfg.Synapse.AdminAccessToken = token
	}
	if key := os.Getenv("GAVEL_PICKLE_KEY"); key != "" {
		cfg.Encryption.PickleKey = key
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Marshal returns the configuration as YAML that Load reads back, tokens
// included: write it to a file only other users cannot read.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// Warnings returns problems that do not stop Gavel, one line each, ready
// to log. They never include a token. Today there is one: a file that
// holds an access token and that other users may read.
func (c *Config) Warnings() []string {
	var out []string
	if w := c.file.permissionWarning(); w != "" {
		out = append(out, w)
	}
	return out
}

func (f fileInfo) permissionWarning() string {
	// Windows has no permission bits to speak of; Go makes them up.
	if f.path == "" || len(f.tokens) == 0 || f.mode.Perm()&0o044 == 0 || runtime.GOOS == "windows" {
		return ""
	}
	envs := make([]string, len(f.tokens))
	for i, key := range f.tokens {
		envs[i] = secretEnv[key]
	}
	var what, pass string
	switch {
	case len(f.tokens) == 1 && f.tokens[0] == "encryption.pickle_key":
		what, pass = "the encryption pickle key", "pass the key in "+envs[0]
	case len(f.tokens) == 1:
		what, pass = "an access token", "pass the token in "+envs[0]
	default:
		what = "access tokens"
		if slices.Contains(f.tokens, "encryption.pickle_key") {
			what = "secrets"
		}
		pass = "pass them in " + strings.Join(envs[:len(envs)-1], ", ") + " and " + envs[len(envs)-1]
	}
	return fmt.Sprintf("%s is readable by other users (mode %04o) and holds %s (%s): run chmod 600 %s, or %s instead",
		f.path, f.mode.Perm(), what, strings.Join(f.tokens, ", "), shellQuote(f.path), pass)
}

// secretEnv names the environment variable that overrides each secret key.
var secretEnv = map[string]string{
	"matrix.access_token":        "GAVEL_ACCESS_TOKEN",
	"synapse.admin_access_token": "GAVEL_ADMIN_ACCESS_TOKEN",
	"encryption.pickle_key":      "GAVEL_PICKLE_KEY",
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote makes path safe to paste after a shell command.
func shellQuote(path string) string {
	if strings.HasPrefix(path, "-") {
		path = "./" + path
	}
	if shellSafe.MatchString(path) {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// decode walks a YAML mapping into the struct v, reporting unknown keys and
// values of the wrong type by their dotted key and line. Slice fields take
// a YAML list; its elements are named key[0], key[1], ...
func decode(node *yaml.Node, v reflect.Value, prefix string) []error {
	if node.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		return []error{fmt.Errorf("line %d: %s must be a mapping of keys to values", node.Line, what)}
	}
	fields := make(map[string]reflect.Value)
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).IsExported() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			fields[name] = v.Field(i)
		}
	}
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := node.Content[i], node.Content[i+1]
		key := prefix + keyNode.Value
		field, ok := fields[keyNode.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %s%s", keyNode.Line, key, suggest(keyNode.Value, slices.Collect(maps.Keys(fields)))))
			continue
		}
		if field.Kind() == reflect.Struct && field.Type() != reflect.TypeFor[time.Time]() {
			errs = append(errs, decode(valueNode, field, key+".")...)
			continue
		}
		if valueNode.Kind == yaml.ScalarNode && valueNode.Tag == "!!null" {
			continue // "key:" with no value keeps the default
		}
		if field.Kind() == reflect.Slice {
			errs = append(errs, decodeList(valueNode, field, key)...)
			continue
		}
		if field.Type() == reflect.TypeFor[map[string]int]() {
			errs = append(errs, decodeLevels(valueNode, field, key)...)
			continue
		}
		errs = append(errs, decodeValue(valueNode, field, key)...)
	}
	return errs
}

// decodeList reads a YAML sequence into the slice v, replacing its default,
// and reports each element of the wrong type as key[i].
func decodeList(node *yaml.Node, v reflect.Value, key string) []error {
	if node.Kind != yaml.SequenceNode {
		return []error{fmt.Errorf("line %d: %s: %s", node.Line, key, typeProblem(v.Type()))}
	}
	list := reflect.MakeSlice(v.Type(), len(node.Content), len(node.Content))
	var errs []error
	for i, elemNode := range node.Content {
		elemKey := fmt.Sprintf("%s[%d]", key, i)
		elem := list.Index(i)
		switch {
		case elem.Kind() == reflect.Struct && elem.Type() != reflect.TypeFor[time.Time]():
			errs = append(errs, decode(elemNode, elem, elemKey+".")...)
		case elem.Kind() == reflect.Slice:
			errs = append(errs, decodeList(elemNode, elem, elemKey)...)
		case elemNode.Kind == yaml.ScalarNode && elemNode.Tag == "!!null":
			errs = append(errs, fmt.Errorf("line %d: %s: is empty; remove the - or give a value", elemNode.Line, elemKey))
		default:
			errs = append(errs, decodeValue(elemNode, elem, elemKey)...)
		}
	}
	if len(errs) == 0 {
		v.Set(list)
	}
	return errs
}

// decodeLevels reads commands.power_levels, a mapping of command and
// group names to power levels, into v; each entry is checked here, where
// its line is known.
func decodeLevels(node *yaml.Node, v reflect.Value, key string) []error {
	if node.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: %s must be a mapping of command or group names to power levels, like {destructive: 100, suspend: 100}", node.Line, key)}
	}
	levels := make(map[string]int, len(node.Content)/2)
	lines := map[string]int{}
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := node.Content[i], node.Content[i+1]
		name, entry := keyNode.Value, key+"."+keyNode.Value
		if first, twice := lines[name]; twice {
			errs = append(errs, fmt.Errorf("line %d: %s: given twice (first on line %d); keep one", keyNode.Line, entry, first))
			continue
		}
		lines[name] = keyNode.Line
		if valueNode.Kind == yaml.ScalarNode && valueNode.Tag == "!!null" {
			errs = append(errs, fmt.Errorf("line %d: %s: has no level; give one, like 100, or remove the line", keyNode.Line, entry))
			continue
		}
		var level int
		if e := decodeValue(valueNode, reflect.ValueOf(&level).Elem(), entry); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		if problem := levelProblem(name, level); problem != "" {
			errs = append(errs, fmt.Errorf("line %d: %s: %s", keyNode.Line, entry, problem))
			continue
		}
		levels[name] = level
	}
	if len(errs) == 0 {
		v.Set(reflect.ValueOf(levels))
	}
	return errs
}

// line returns the line of key in the file, or of the nearest key above
// it that the file gives (a missing key's mapping); 0 when there is none.
func (f fileInfo) line(key string) int {
	for key != "" {
		if line, ok := f.lines[key]; ok {
			return line
		}
		key = key[:max(strings.LastIndexAny(key, ".["), 0)]
	}
	return 0
}

// keyLines records the line of every key and list element under node, by
// its dotted key as decode names it ("desks[0].spaces[1]").
func keyLines(node *yaml.Node, prefix string, into map[string]int) {
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			into[key] = node.Content[i].Line
			keyLines(node.Content[i+1], key, into)
		}
	case yaml.SequenceNode:
		for i, elem := range node.Content {
			key := fmt.Sprintf("%s[%d]", prefix, i)
			into[key] = elem.Line
			keyLines(elem, key, into)
		}
	}
}

// decodeValue reads a single YAML value into v.
func decodeValue(node *yaml.Node, v reflect.Value, key string) []error {
	if err := node.Decode(v.Addr().Interface()); err != nil || node.Kind != yaml.ScalarNode {
		return []error{fmt.Errorf("line %d: %s: %s", node.Line, key, typeProblem(v.Type()))}
	}
	return nil
}

func typeProblem(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "must be a duration like 2s, 500ms or 1m"
	case t.Kind() == reflect.Int:
		return "must be a whole number"
	case t.Kind() == reflect.Slice:
		return "must be a list, like [a, b] or one \"- item\" per line"
	default:
		return "must be a single value (quote it if it starts with ! or @)"
	}
}

// suggest offers the name in known closest to an unknown one, for typos.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Validate checks every key and returns all problems, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if c.Matrix.Homeserver == "" {
		bad("matrix.homeserver", "missing; set it to your homeserver's client API URL, like https://matrix.example.org")
	} else if u, err := url.Parse(c.Matrix.Homeserver); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("matrix.homeserver", "must be an http:// or https:// URL, like https://matrix.example.org")
	}
	if c.Matrix.UserID == "" {
		bad("matrix.user_id", "missing; set it to the bot's user id, like @gavel:example.org")
	} else if err := mxid.ValidateUserID(c.Matrix.UserID); err != nil {
		bad("matrix.user_id", "must be a user id like @gavel:example.org")
	}
	if c.Matrix.AccessToken == "" {
		bad("matrix.access_token", "missing; set it here or in the GAVEL_ACCESS_TOKEN environment variable")
	}
	if c.Matrix.ManagementRoom == "" {
		bad("matrix.management_room", "missing; set it to the moderators' room id, like !abc:example.org")
	} else if err := mxid.ValidateRoomID(c.Matrix.ManagementRoom); err != nil {
		bad("matrix.management_room", "must be a room id like !abc:example.org")
	}
	if c.Database.URI == "" {
		bad("database.uri", "must not be empty; use a file name like gavel.db, or postgres://user:pass@host/db")
	}
	if c.Commands.Prefix == "" || strings.ContainsAny(c.Commands.Prefix, " \t\r\n") || len(c.Commands.Prefix) > 8 {
		bad("commands.prefix", "must be 1 to 8 characters without spaces, like !")
	}
	if problem := levelRange(c.Commands.MinPowerLevel); problem != "" {
		bad("commands.min_power_level", "%s", problem)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Commands.PowerLevels)) {
		if problem := levelProblem(name, c.Commands.PowerLevels[name]); problem != "" {
			bad("commands.power_levels."+name, "%s", problem)
		}
	}
	if c.Commands.ConfirmTimeout < time.Second || c.Commands.ConfirmTimeout > 24*time.Hour {
		bad("commands.confirm_timeout", "must be between 1s and 24h, like 5m")
	}
	if c.Reports.PollInterval < 100*time.Millisecond || c.Reports.PollInterval > time.Hour {
		bad("reports.poll_interval", "must be between 100ms and 1h, like 2s")
	}
	if c.Reports.OnFirstStart != FirstStartSkip && c.Reports.OnFirstStart != FirstStartPost {
		bad("reports.on_first_start", "must be skip or post")
	}
	if c.Reports.MaxIndividual < 0 || c.Reports.MaxIndividual > 1000 {
		bad("reports.max_individual", "must be between 0 (always digests) and 1000, like 20")
	}
	if a := c.Reports.DoorbellListen; a != "" {
		if host, port, err := net.SplitHostPort(a); err != nil || port == "" || host == "" {
			bad("reports.doorbell_listen", "must be a host and port to listen on, like 127.0.0.1:9109 (got %q)", a)
		}
	}
	if a := c.Metrics.Listen; a != "" {
		if host, port, err := net.SplitHostPort(a); err != nil || port == "" || host == "" {
			bad("metrics.listen", "must be a host and port to listen on, like 127.0.0.1:9110 (got %q)", a)
		} else if a == c.Reports.DoorbellListen {
			bad("metrics.listen", "is reports.doorbell_listen's address too; give each its own port")
		}
	}
	if _, err := c.Stats.Location(); err != nil {
		bad("stats.timezone", "unknown time zone %q: use an IANA name like Europe/Berlin or America/New_York, or leave it empty for UTC", c.Stats.Timezone)
	}
	if t := strings.TrimSpace(c.Reports.NotifyTemplate); c.Reports.NotifyReporter && (t == "" || utf8.RuneCountInString(t) > 2000) {
		bad("reports.notify_template", "must be a text of 1 to 2000 characters when reports.notify_reporter is on")
	}
	switch c.Encryption.MinCommandTrust {
	case TrustUnverified, TrustCrossSignedTOFU, TrustCrossSignedVerified:
	default:
		bad("encryption.min_command_trust", "must be %s, %s or %s", TrustUnverified, TrustCrossSignedTOFU, TrustCrossSignedVerified)
	}
	if k := c.Encryption.PickleKey; k != "" && len(k) < 16 {
		bad("encryption.pickle_key", "is too short to protect encryption keys; use at least 16 random characters, like the output of openssl rand -hex 32")
	}
	switch c.Logging.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("logging.level", "must be one of trace, debug, info, warn, error")
	}
	if c.Logging.Format != "pretty" && c.Logging.Format != "json" {
		bad("logging.format", "must be pretty or json")
	}
	// The keys of list entries carry their line where the file gave it.
	withLine := func(key, format string, args ...any) {
		if line := c.file.line(key); line > 0 {
			key = fmt.Sprintf("line %d: %s", line, key)
		}
		bad(key, format, args...)
	}
	c.validateDesks(withLine)
	c.validatePolicyLists(withLine)
	return errors.Join(errs...)
}

// shortName is what a desk's name or a policy list's shortcode may be:
// it is shown on cards and typed in commands.
var shortName = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// validateDesks checks desks, each problem by its key (and line, which
// bad adds when the file gave it).
func (c *Config) validateDesks(bad func(key, format string, args ...any)) {
	names := map[string]string{}    // a desk's name -> the desk's key
	rooms := map[id.RoomID]string{} // a desk's room -> the desk's key
	for i, d := range c.Desks {
		key := fmt.Sprintf("desks[%d]", i)
		switch {
		case d.Name == "":
			bad(key+".name", "missing; give the desk a short name of a-z, 0-9 and -, like gaming")
		case !shortName.MatchString(d.Name):
			bad(key+".name", "must be 1 to 32 characters of a-z, 0-9 and -, like gaming (got %s)", mxid.Shown(d.Name))
		case names[d.Name] != "":
			bad(key+".name", "%s is %s's name too; give each desk its own", d.Name, names[d.Name])
		default:
			names[d.Name] = key
		}
		switch err := mxid.ValidateRoomID(d.Room); {
		case d.Room == "":
			bad(key+".room", "missing; set it to the desk's room id, like !gaming-mods:example.org")
		case err != nil:
			bad(key+".room", "must be a room id like !gaming-mods:example.org: %v", err)
		case d.Room == c.Matrix.ManagementRoom:
			bad(key+".room", "is matrix.management_room, the server desk's room; give the desk a room of its own")
		case rooms[d.Room] != "":
			bad(key+".room", "is %s's room too; give each desk a room of its own", rooms[d.Room])
		default:
			rooms[d.Room] = key
		}
		for j, s := range d.Spaces {
			if _, err := mxid.ParseRoom(s); err != nil {
				bad(fmt.Sprintf("%s.spaces[%d]", key, j), "%v", err)
			}
		}
		for j, s := range d.Rooms {
			if _, err := mxid.ParseRoom(s); err != nil {
				bad(fmt.Sprintf("%s.rooms[%d]", key, j), "%v", err)
			}
		}
		if len(d.Spaces) == 0 && len(d.Rooms) == 0 {
			bad(key, "has neither spaces nor rooms: list the spaces (like spaces: [\"#gaming:example.org\"]) or the rooms whose reports this desk gets")
		}
		for _, name := range slices.Sorted(maps.Keys(d.PowerLevels)) {
			if problem := levelProblem(name, d.PowerLevels[name]); problem != "" {
				bad(key+".power_levels."+name, "%s", problem)
			}
		}
	}
}

// validatePolicyLists checks policy_lists and policy_reason_template,
// each problem by its key (and line, which bad adds).
func (c *Config) validatePolicyLists(bad func(key, format string, args ...any)) {
	codes := map[string]string{} // a list's shortcode -> the list's key
	rooms := map[string]string{} // a list's room -> the list's key
	for i, l := range c.PolicyLists {
		key := fmt.Sprintf("policy_lists[%d]", i)
		switch {
		case l.Shortcode == "":
			bad(key+".shortcode", "missing; give the list a short name of a-z, 0-9 and -, like main")
		case !shortName.MatchString(l.Shortcode):
			bad(key+".shortcode", "must be 1 to 32 characters of a-z, 0-9 and -, like main (got %s)", mxid.Shown(l.Shortcode))
		case codes[l.Shortcode] != "":
			bad(key+".shortcode", "%s is %s's shortcode too; give each list its own", l.Shortcode, codes[l.Shortcode])
		default:
			codes[l.Shortcode] = key
		}
		ref, err := mxid.ParseRoom(l.Room)
		switch {
		case l.Room == "":
			bad(key+".room", "missing; set it to the list's room id or alias, like #bans:example.org")
		case err != nil:
			bad(key+".room", "%v", err)
		case ref.ID != "" && (ref.ID == c.Matrix.ManagementRoom || slices.ContainsFunc(c.Desks, func(d Desk) bool { return d.Room == ref.ID })):
			bad(key+".room", "is a desk's room; a policy list needs a room of its own")
		case rooms[l.Room] != "":
			bad(key+".room", "is %s's room too; list each room once", rooms[l.Room])
		default:
			rooms[l.Room] = key
		}
	}
	if t := c.PolicyReasonTemplate; t != "" && (!strings.Contains(t, "{reason}") || utf8.RuneCountInString(t) > 200) {
		bad("policy_reason_template", "must hold {reason} and be at most 200 characters, like %q", policy.DefaultReasonTemplate)
	}
}

// ReasonTemplate is policy_reason_template, or its default.
func (c *Config) ReasonTemplate() string {
	if c.PolicyReasonTemplate == "" {
		return policy.DefaultReasonTemplate
	}
	return c.PolicyReasonTemplate
}
