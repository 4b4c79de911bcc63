package main

import (
	"os"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/metrics"
)

func TestVersionOf(t *testing.T) {
	vcs := func(mod, rev, modified string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: mod}}
		if rev != "" {
			info.Settings = []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
		}
		return info
	}
	const commit = "455a6d7f0c1e2d3b4a5968778695a4b3c2d1e0f9"
	for name, c := range map[string]struct {
		version, revision string
		info              *debug.BuildInfo
		want              string
	}{
		"make build of a tag":         {version: "v0.2.0", revision: "455a6d7", want: "v0.2.0"},
		"make build of a commit":      {revision: "455a6d7-dirty", info: vcs("(devel)", "", ""), want: release + "-dev+455a6d7-dirty"},
		"go install of a tag":         {info: vcs("v0.2.0", "", ""), want: "v0.2.0"},
		"go install of a commit":      {info: vcs("v0.0.0-20261201052942-455a6d7f0c1e", "", ""), want: release + "-dev+455a6d7"},
		"go build in a clone":         {info: vcs("v0.0.0-20261201052942-455a6d7f0c1e", commit, "false"), want: release + "-dev+455a6d7"},
		"go build in a changed clone": {info: vcs("v0.0.0-20261201052942-455a6d7f0c1e+dirty", commit, "true"), want: release + "-dev+455a6d7-dirty"},
		"go build after a tag":        {info: vcs("v0.2.1-0.20261201052942-455a6d7f0c1e", commit, "false"), want: release + "-dev+455a6d7"},
		"go run, nothing recorded":    {info: vcs("(devel)", "", ""), want: release + "-dev"},
		"no build information at all": {want: release + "-dev"},
	} {
		assert.Equal(t, c.want, versionOf(c.version, c.revision, c.info), name)
	}
}

// TestBuildOf: the commit and its day come from the build flags, else
// from what Go recorded, else are unknown; gavel -version prints them.
func TestBuildOf(t *testing.T) {
	const commit = "455a6d7f0c1e2d3b4a5968778695a4b3c2d1e0f9"
	clone := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: commit}, {Key: "vcs.time", Value: "2026-12-01T23:29:42-02:00"}, {Key: "vcs.modified", Value: "true"}}}
	pseudo := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201052942-455a6d7f0c1e"}}
	for name, c := range map[string]struct {
		version, revision, built string
		info                     *debug.BuildInfo
		want                     metrics.Build
	}{
		"make build of a tag":      {"v0.2.0", "455a6d7", "2026-12-01", clone, metrics.Build{Version: "v0.2.0", Revision: "455a6d7", Date: "2026-12-01"}},
		"make build of a commit":   {"", "455a6d7", "2026-11-30", nil, metrics.Build{Version: release + "-dev+455a6d7", Revision: "455a6d7", Date: "2026-11-30"}},
		"go build in a clone":      {"", "", "", clone, metrics.Build{Version: release + "-dev+455a6d7-dirty", Revision: "455a6d7-dirty", Date: "2026-12-02"}},
		"go install of a commit":   {"", "", "", pseudo, metrics.Build{Version: release + "-dev+455a6d7", Revision: "455a6d7", Date: "2026-12-01"}},
		"go run, nothing recorded": {"", "", "", &debug.BuildInfo{}, metrics.Build{Version: release + "-dev", Revision: "unknown", Date: "unknown"}},
	} {
		assert.Equal(t, c.want, buildOf(c.version, c.revision, c.built, c.info), name)
	}
	assert.Equal(t, "gavel v0.2.0 (commit 455a6d7, built 2026-12-01, go1.26.0)",
		versionLine(metrics.Build{Version: "v0.2.0", Revision: "455a6d7", Date: "2026-12-01"}, "go1.26.0"))
}

// The release Gavel says it comes after is the newest one in the
// changelog.
func TestReleaseIsTheChangelogs(t *testing.T) {
	changelog, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	newest := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(changelog)
	require.NotNil(t, newest, "CHANGELOG.md has no release heading like \"## [0.2.0] - 2026-12-01\"")
	assert.Equal(t, string(newest[1]), release, "CHANGELOG.md's newest release is %s: set release in version.go to it", newest[1])
}
