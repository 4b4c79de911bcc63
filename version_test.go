package main

import (
	"os"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// The release Gavel says it comes after is the newest one in the
// changelog.
func TestReleaseIsTheChangelogs(t *testing.T) {
	changelog, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	newest := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(changelog)
	require.NotNil(t, newest, "CHANGELOG.md has no release heading like \"## [0.2.0] - 2026-12-01\"")
	assert.Equal(t, string(newest[1]), release, "CHANGELOG.md's newest release is %s: set release in version.go to it", newest[1])
}
