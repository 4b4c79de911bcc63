package policytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/policy"
)

// The interop test: the rules Gavel wrote, read from Synapse, are handed to
// Draupnir's policy library (@gnuxie/matrix-protection-suite, pinned in
// testdata/interop/package-lock.json and installed with npm ci), which
// must parse every one and match the same rules as Gavel for each entity.

// interopFiles are what npm ci installs from.
var interopFiles = []string{"package.json", "package-lock.json"}

// draupnirModules returns the node_modules of Draupnir's library,
// installing it once per lock file into the user's cache. Without node or
// npm the test is skipped, or fails with CI set.
func draupnirModules(t *testing.T) string {
	t.Helper()
	_, errNode := exec.LookPath("node")
	_, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node and npm are missing: the interop test with Draupnir's policy library needs them (scripts/test-deps.sh installs nodejs and npm)")
		}
		t.Skip("node and npm are missing: skipping the interop test with Draupnir's policy library (apt-get install nodejs npm; with CI set this fails)")
	}
	sum := sha256.New()
	for _, f := range interopFiles {
		data, err := os.ReadFile(filepath.Join("testdata", "interop", f))
		require.NoError(t, err)
		sum.Write(data)
	}
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "gavel", "policy-interop-"+hex.EncodeToString(sum.Sum(nil))[:12])
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, ".package-lock.json")); err == nil {
		return modules
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "policy-interop-*")
	require.NoError(t, err)
	defer os.RemoveAll(tmp)
	for _, f := range interopFiles {
		data, err := os.ReadFile(filepath.Join("testdata", "interop", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, f), data, 0o644))
	}
	start := time.Now()
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci of Draupnir's policy library:\n%s", out)
	t.Logf("npm ci installed Draupnir's policy library in %s", time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		_, statErr := os.Stat(modules) // another test process got there first
		require.NoError(t, statErr, "moving the install into place: %v", err)
	}
	return modules
}

// verdict is what Gavel matches for one entity, for verdicts.js.
type verdict struct {
	Kind   policy.Kind `json:"kind"`
	Entity string      `json:"entity"`
	Gavel  []string    `json:"gavel"`
}

// interop hands list's state to Draupnir's library with Gavel's verdicts
// for the entities asked.
func interop(t *testing.T, e *bottest.Env, list id.RoomID, ask map[policy.Kind][]string) {
	t.Helper()
	modules := draupnirModules(t)
	var raw json.RawMessage
	_, err := e.Mod.MakeRequest(bg, http.MethodGet, e.Mod.BuildClientURL("v3", "rooms", list, "state"), nil, &raw)
	require.NoError(t, err)
	var state []*event.Event
	require.NoError(t, json.Unmarshal(raw, &state))
	for _, evt := range state {
		evt.RoomID = list
	}
	ix := policy.NewIndex([]policy.ListConfig{{Room: list, Shortcode: "main"}})
	ix.Load(list, state)
	var verdicts []verdict
	for kind, entities := range ask {
		for _, entity := range entities {
			var q policy.Entities
			switch {
			case kind == policy.User:
				q.User = id.UserID(entity)
			case kind == policy.Room && strings.HasPrefix(entity, "#"):
				q.Alias = id.RoomAlias(entity)
			case kind == policy.Room:
				q.Room = id.RoomID(entity)
			default:
				q.Server = entity
			}
			v := verdict{Kind: kind, Entity: entity, Gavel: []string{}}
			for _, m := range ix.Match(q) {
				v.Gavel = append(v.Gavel, m.Rule.Entity)
			}
			slices.Sort(v.Gavel)
			verdicts = append(verdicts, v)
		}
	}
	dir := t.TempDir()
	stateFile, verdictsFile := filepath.Join(dir, "state.json"), filepath.Join(dir, "verdicts.json")
	require.NoError(t, os.WriteFile(stateFile, raw, 0o644))
	data, err := json.Marshal(verdicts)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(verdictsFile, data, 0o644))
	cmd := exec.Command("node", filepath.Join("testdata", "interop", "verdicts.js"), stateFile, verdictsFile)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "Draupnir's policy library disagrees:\n%s", out)
	t.Logf("%s", strings.TrimSpace(string(out)))
}
