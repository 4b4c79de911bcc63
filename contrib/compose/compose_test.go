// Package compose_test checks contrib/compose/compose.yaml against what
// it runs: the image make image builds, the volumes and health check of
// contrib/container/Containerfile, and the environment variables Gavel
// reads. No compose tool is needed: Debian's podman has no compose
// command, and this reads the file as one would.
package compose_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gavel-bot/gavel/config"
)

// composeFile is what the test reads of compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		ReadOnly bool     `yaml:"read_only"`
		Tmpfs    []string `yaml:"tmpfs"`
		Ports    []string `yaml:"ports"`
		Networks []string `yaml:"networks"`
	} `yaml:"services"`
	Volumes  map[string]any `yaml:"volumes"`
	Networks map[string]struct {
		External bool `yaml:"external"`
	} `yaml:"networks"`
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestComposeFile(t *testing.T) {
	var c composeFile
	require.NoError(t, yaml.Unmarshal([]byte(read(t, "compose.yaml")), &c))
	gavel, ok := c.Services["gavel"]
	require.True(t, ok, "a service named gavel")

	image := regexp.MustCompile(`(?m)^IMAGE \?= (\S+)$`).FindStringSubmatch(read(t, "../../Makefile"))
	require.NotNil(t, image, "the Makefile's IMAGE")
	assert.Equal(t, image[1], gavel.Image, "the image make image builds")

	assert.Contains(t, gavel.Volumes, "./config:/config:ro", "the configuration, read-only, where the image reads it")
	var data string
	for _, v := range gavel.Volumes {
		if name, ok := strings.CutSuffix(v, ":/data"); ok {
			data = name
		}
	}
	assert.Contains(t, c.Volumes, data, "a named volume at /data, declared: %v", gavel.Volumes)

	// The same health check as the image's.
	m := regexp.MustCompile(`(?m)^\s*CMD (\[.*\])$`).FindStringSubmatch(read(t, "../container/Containerfile"))
	require.NotNil(t, m, "the Containerfile's HEALTHCHECK CMD")
	var imageCheck []string
	require.NoError(t, json.Unmarshal([]byte(m[1]), &imageCheck))
	assert.Equal(t, append([]string{"CMD"}, imageCheck...), gavel.Healthcheck.Test)
	assert.Equal(t, []string{"CMD", "/gavel", "-healthcheck", "-config", "/config/config.yaml"}, gavel.Healthcheck.Test)

	assert.True(t, gavel.ReadOnly)
	assert.Equal(t, []string{"/tmp"}, gavel.Tmpfs, "a read-only container still has /tmp for SQLite")
	assert.Empty(t, gavel.Ports, "nothing is published unless the admin configures it")
	require.Len(t, gavel.Networks, 1)
	assert.True(t, c.Networks[gavel.Networks[0]].External, "Synapse's network, which this file does not create")

	// Every variable reaches Gavel's configuration, the access token first.
	assert.Contains(t, gavel.Environment, "GAVEL_ACCESS_TOKEN")
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("matrix:\n  homeserver: http://synapse:8008\n  user_id: \"@gavel:example.org\"\n"+
		"  management_room: \"!mods:example.org\"\n"), 0o600))
	want := map[string]string{}
	for name := range gavel.Environment {
		want[name] = "value-of-" + name // long enough for a pickle key too
		t.Setenv(name, want[name])
	}
	cfg, err := config.Load(path)
	require.NoError(t, err)
	loaded, err := cfg.Marshal()
	require.NoError(t, err)
	for name, value := range want {
		assert.True(t, slices.ContainsFunc(strings.Split(string(loaded), "\n"), func(line string) bool { return strings.HasSuffix(line, ": "+value) }),
			"compose.yaml sets %s, which Gavel does not read", name)
	}
}
