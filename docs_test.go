package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every relative link in the README, the changelog and docs/ points to a
// file that exists and, with a #fragment, to a heading in it.
func TestDocsLinks(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	pages = append(pages, "README.md", "CHANGELOG.md")
	require.NotEmpty(t, relativeLinks(t, "README.md"), "the README's links to docs/ are not found")
	for _, page := range pages {
		for _, link := range relativeLinks(t, page) {
			assert.NoError(t, checkLink(page, link), "%s links to %s", page, link)
		}
	}
}

func TestCheckLinkFindsBrokenLinks(t *testing.T) {
	assert.NoError(t, checkLink("README.md", "docs/operating.md#checking-before-a-restart-gavel--check"))
	assert.NoError(t, checkLink("docs/roles.md", "../README.md#run-it-against-your-homeserver"))
	assert.ErrorContains(t, checkLink("README.md", "docs/nope.md"), "no such file")
	assert.ErrorContains(t, checkLink("docs/roles.md", "operating.md#no-such-heading"), "no heading")
	assert.ErrorContains(t, checkLink("docs/roles.md", "#previews-and-confirmation"), "no heading")
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	mdHeading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*$`)
	absoluteID = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// relativeLinks returns the targets of page's links that are neither
// absolute URLs nor inside code.
func relativeLinks(t *testing.T, page string) []string {
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	var links []string
	inFence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			if !absoluteID.MatchString(m[1]) {
				links = append(links, m[1])
			}
		}
	}
	return links
}

// checkLink says what is wrong with a relative link from page, if
// anything.
func checkLink(page, link string) error {
	path, fragment, _ := strings.Cut(link, "#")
	target := page
	if path != "" {
		target = filepath.Join(filepath.Dir(page), path)
	}
	if _, err := os.Stat(target); err != nil {
		// cmd/gavel-docs writes docs/commands.md; until that program is
		// in the tree, a link to its page may wait for it.
		if _, genErr := os.Stat("cmd/gavel-docs"); target == filepath.Join("docs", "commands.md") && genErr != nil {
			return nil
		}
		return fmt.Errorf("no such file: %s", target)
	}
	if fragment == "" || !strings.HasSuffix(target, ".md") {
		return nil
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return err
	}
	anchors := headingAnchors(string(data))
	if !anchors[fragment] {
		return fmt.Errorf("no heading in %s has the anchor #%s", target, fragment)
	}
	return nil
}

// headingAnchors returns the anchors GitHub gives a Markdown file's
// headings: lower case, punctuation dropped, spaces made hyphens, a
// repeated anchor numbered.
func headingAnchors(markdown string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		m := mdHeading.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", anchor, n)] = true
		} else {
			anchors[anchor] = true
		}
		seen[anchor]++
	}
	return anchors
}
