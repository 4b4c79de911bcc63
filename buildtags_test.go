package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoTagPackagesListed: `make lint` runs staticcheck without the goolm
// tag only on NOTAG_PKGS, the packages with files for one side of the tag
// alone; every package with such a file must be in that list.
func TestNoTagPackagesListed(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^NOTAG_PKGS := (.*)$`).FindSubmatch(makefile)
	require.NotNil(t, m, "the Makefile sets NOTAG_PKGS")
	listed := strings.Fields(string(m[1]))

	tagged := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if regexp.MustCompile(`(?m)^//go:build .*\bgoolm\b`).Match(src) {
			tagged["./"+filepath.Dir(path)+"/"] = true
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, tagged)
	for dir := range tagged {
		assert.Contains(t, listed, dir, "%s has files for one side of the goolm tag: add it to NOTAG_PKGS in the Makefile", dir)
	}
}
