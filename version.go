package main

import (
	"regexp"
	"runtime/debug"
)

// release is the newest release in CHANGELOG.md; TestReleaseIsTheChangelogs
// fails when a release heading is added there and not here. A build that
// is not of a release tag says it comes after it: "0.2.0-dev+455a6d7".
const release = "0.2.0"

// version and revision are set at build time (the Makefile does):
// -ldflags "-X main.version=v0.2.0" for a build of a release tag, or
// "-X main.revision=455a6d7" for any other commit. Without them, Version
// reads what Go recorded in the binary.
var version, revision = "", ""

// Version returns Gavel's version, for gavel -version, !status, the
// standby's instance list and the gavel_build_info metric.
func Version() string {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	return versionOf(version, revision, info)
}

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20261201052942-455a6d7abcde): a commit, not a release.
var pseudoVersion = regexp.MustCompile(`\d{14}-([0-9a-f]{12})(\+dirty)?$`)

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
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if m := pseudoVersion.FindStringSubmatch(mod); m != nil {
			rev, dirty = m[1], m[2] != ""
		}
	}
	if rev == "" {
		return dev
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if dirty {
		rev += "-dirty"
	}
	return dev + "+" + rev
}
