package main

import (
	"cmp"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gavel-bot/gavel/metrics"
)

// release is the newest release in CHANGELOG.md; TestReleaseIsTheChangelogs
// fails when a release heading is added there and not here. A build that
// is not of a release tag says it comes after it: "0.2.0-dev+455a6d7".
const release = "0.2.0"

// version, revision and built are set at build time (the Makefile does):
// -ldflags "-X main.version=v0.2.0" for a build of a release tag,
// "-X main.revision=455a6d7" for any commit, and "-X main.built=2026-12-01"
// the day of that commit in UTC (not of the build, so that building a
// commit again gives the same binary). Without them, Version and
// buildInfo read what Go recorded in the binary.
var version, revision, built = "", "", ""

// Version returns Gavel's version, for gavel -version, !status, the
// standby's instance list and the gavel_build_info metric.
func Version() string {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	return versionOf(version, revision, info)
}

// unknown stands for a commit or date the build does not know (go run).
const unknown = "unknown"

// buildInfo is which Gavel this is, for gavel -version and the
// gavel_build_info metric's labels.
func buildInfo() metrics.Build {
	info, _ := debug.ReadBuildInfo()
	return buildOf(version, revision, built, info)
}

// buildOf takes the commit and its day set at build time, else those Go
// recorded (the VCS information of a build from a clone, or a
// pseudo-version), else unknown.
func buildOf(version, revision, built string, info *debug.BuildInfo) metrics.Build {
	rev, day := revision, built
	if rev == "" || day == "" {
		vcsRev, vcsDay := commitOf(info)
		rev, day = cmp.Or(rev, vcsRev), cmp.Or(day, vcsDay)
	}
	return metrics.Build{Version: versionOf(version, revision, info), Revision: cmp.Or(rev, unknown), Date: cmp.Or(day, unknown)}
}

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20261201052942-455a6d7abcde): a commit, not a release.
var pseudoVersion = regexp.MustCompile(`(\d{14})-([0-9a-f]{12})(\+dirty)?$`)

// versionOf picks, in order: the version set at build time; the module's
// version when it is a release (go install …@v0.2.0); else the newest
// release with "-dev" and the commit, from the build flags, the VCS
// information Go stamps in a build from a clone, or a pseudo-version.
func versionOf(version, revision string, info *debug.BuildInfo) string {
	if version != "" {
		return version
	}
	dev := release + "-dev"
	if revision != "" {
		return dev + "+" + revision
	}
	if info == nil {
		return dev
	}
	mod := info.Main.Version
	if mod != "" && mod != "(devel)" && !pseudoVersion.MatchString(mod) {
		return mod
	}
	if rev, _ := commitOf(info); rev != "" {
		return dev + "+" + rev
	}
	return dev
}

// commitOf returns the commit Go recorded in a binary, abbreviated as git
// does (455a6d7, 455a6d7-dirty), and its day in UTC (2026-12-01): from the
// VCS information of a build from a clone, else from a pseudo-version
// (go install of a commit). Either is "" when not recorded.
func commitOf(info *debug.BuildInfo) (rev, day string) {
	if info == nil {
		return "", ""
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				day = t.UTC().Format(time.DateOnly)
			}
		}
	}
	if rev == "" {
		if m := pseudoVersion.FindStringSubmatch(info.Main.Version); m != nil {
			rev, dirty = m[2], m[3] != ""
			if t, err := time.Parse("20060102150405", m[1]); err == nil {
				day = t.Format(time.DateOnly)
			}
		}
	}
	if rev == "" {
		return "", day
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev, day
}

// versionLine is what gavel -version prints: the version, then the
// commit, its day and the Go release, which gavel_build_info labels too.
func versionLine(b metrics.Build, goVersion string) string {
	return fmt.Sprintf("gavel %s (commit %s, built %s, %s)", b.Version, b.Revision, b.Date, goVersion)
}
