package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module is Gavel's module path; a rule names packages relative to it.
const module = "github.com/gavel-bot/gavel"

// rulePrefix starts the last paragraph of a package's doc comment, which
// lists the Gavel packages it may import, relative to module, separated by
// commas and ended by a full stop, or "none.". Imports from outside Gavel
// and the imports of tests are not ruled.
const rulePrefix = "Of Gavel's packages it may import: "

// listedPackage is what TestImportRules reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	// IgnoredGoFiles are files for other build tags: the doc comment may
	// be in one of them.
	IgnoredGoFiles []string
	Imports        []string
	Error          *struct{ Err string }
}

// TestImportRules checks every package's imports of Gavel's own packages
// against the rule its doc comment states (rulePrefix), the one place that
// says what a package may import. Every package but a program (package
// main, or a package of tests alone) must state one, naming no package
// of Gavel's above internal/ that it does not import. Besides, nothing
// imports bot but main and the test kit of its tests, and feed,
// moderation and outbox do not import each other: they meet in store, and
// bot wires them.
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	known := map[string]bool{}
	for _, p := range pkgs {
		known[relative(p.ImportPath)] = true
	}
	for _, p := range pkgs {
		rel := relative(p.ImportPath)
		if p.Error != nil {
			t.Errorf("%s: go list: %s", rel, p.Error.Err)
			continue
		}
		if len(p.GoFiles)+len(p.CgoFiles)+len(p.IgnoredGoFiles) == 0 {
			continue // tests alone (bot/casestest): rules are for what a build links
		}
		allowed, found, err := packageRule(p)
		switch {
		case err != nil:
			t.Errorf("%s: %v", rel, err)
			continue
		case !found && p.Name != "main":
			t.Errorf("%s: its package doc comment states no import rule: end the doc comment with a paragraph %q followed by the Gavel packages it may import, relative to %s and separated by commas, and a full stop (or \"none.\")",
				rel, rulePrefix, module)
			continue
		}
		for _, a := range allowed {
			if !known[a] {
				t.Errorf("%s: its doc comment's import rule names %q, which is not a package of Gavel's: correct or remove it", rel, a)
			}
		}
		for _, a := range allowed {
			// The small helpers under internal/ may be allowed ahead of
			// use; another of Gavel's packages is a layering decision, so
			// a rule names it only while the package uses it.
			if known[a] && !strings.HasPrefix(a, "internal/") && !slices.Contains(ownImports(p), a) {
				t.Errorf("%s: its doc comment's import rule allows %s, which it does not import: remove it, so that the rule says what the package uses", rel, a)
			}
		}
		for _, imp := range ownImports(p) {
			if found && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s, which the import rule in its doc comment does not allow (%s%s.): "+
					"import it through a package the rule allows, or add it to the rule if the layering allows it",
					rel, imp, rulePrefix, ruleList(allowed))
			}
			if imp == "bot" && p.ImportPath != module && !testKit(rel) {
				t.Errorf("%s imports bot: nothing imports bot but main (the gavel command) and the test kit of its tests; move what it needs out of bot", rel)
			}
			if testKit(imp) && !testKit(rel) && p.Name != "main" {
				t.Errorf("%s imports %s: a test kit is for tests, the benchmark and the demo; Gavel itself never imports one", rel, imp)
			}
			if apart := []string{"feed", "moderation", "outbox"}; slices.Contains(apart, rel) && slices.Contains(apart, imp) {
				t.Errorf("%s imports %s: feed, moderation and outbox do not import each other; pass what one needs of the other through its Config, as bot does", rel, imp)
			}
		}
	}
}

// listPackages runs go list on every package of the module, with the
// goolm tag that Gavel is built with.
func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags=goolm", "-e", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "reading go list's answer")
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

// relative is a package's path relative to the module ("" for the gavel
// command itself).
func relative(importPath string) string {
	return strings.TrimPrefix(strings.TrimPrefix(importPath, module), "/")
}

// ownImports are the Gavel packages p imports (not in its tests).
func ownImports(p listedPackage) []string {
	var own []string
	for _, imp := range p.Imports {
		if imp == module || strings.HasPrefix(imp, module+"/") {
			own = append(own, relative(imp))
		}
	}
	return own
}

func ruleList(allowed []string) string {
	if len(allowed) == 0 {
		return "none"
	}
	return strings.Join(allowed, ", ")
}

// packageRule finds the import rule in p's doc comment, whichever of its
// files holds it.
func packageRule(p listedPackage) (allowed []string, found bool, err error) {
	fset := token.NewFileSet()
	for _, name := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil || f.Doc == nil {
			continue
		}
		a, ok, err := parseRule(f.Doc.Text())
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", name, err)
		}
		if ok && found {
			return nil, false, fmt.Errorf("%s: a second import rule: state it once, in one file's package doc comment", name)
		}
		if ok {
			allowed, found = a, true
		}
	}
	return allowed, found, nil
}

// parseRule reads the import rule of a doc comment (doc.Text()): its last
// paragraph, when it starts with rulePrefix.
func parseRule(doc string) (allowed []string, found bool, err error) {
	paragraphs := strings.Split(strings.TrimSpace(doc), "\n\n")
	for i, para := range paragraphs {
		para = strings.Join(strings.Fields(para), " ")
		rest, ok := strings.CutPrefix(para, rulePrefix)
		switch {
		case !ok:
			continue
		case i != len(paragraphs)-1:
			return nil, false, fmt.Errorf("the import rule (%q…) must be the last paragraph of the doc comment", rulePrefix)
		case !strings.HasSuffix(rest, "."):
			return nil, false, fmt.Errorf("the import rule %q must end with a full stop", para)
		}
		rest = strings.TrimSuffix(rest, ".")
		if rest == "none" {
			return nil, true, nil
		}
		for name := range strings.SplitSeq(rest, ",") {
			name = strings.TrimSpace(name)
			if name == "" || strings.ContainsAny(name, " .") {
				return nil, false, fmt.Errorf("the import rule %q must list package paths separated by commas (like adminapi, internal/mxid), or say none", para)
			}
			allowed = append(allowed, name)
		}
		return allowed, true, nil
	}
	return nil, false, nil
}

// TestParseRule: the rule is read from the last paragraph only, wrapped
// over lines or not, and a malformed one is an error rather than no rule.
func TestParseRule(t *testing.T) {
	for _, tt := range []struct {
		doc     string
		allowed []string
		found   bool
		err     string
	}{
		{doc: "Package x does y.\n\nOf Gavel's packages it may import: adminapi,\ninternal/mxid, store.\n",
			allowed: []string{"adminapi", "internal/mxid", "store"}, found: true},
		{doc: "Package x does y.\n\nOf Gavel's packages it may import: none.\n", found: true},
		{doc: "Package x does y.\n\nIt imports nothing.\n"},
		{doc: "Package x.\n\nOf Gavel's packages it may import: store.\n\nMore.\n", err: "must be the last paragraph"},
		{doc: "Package x.\n\nOf Gavel's packages it may import: store\n", err: "must end with a full stop"},
		{doc: "Package x.\n\nOf Gavel's packages it may import: store and notice.\n", err: "separated by commas"},
		{doc: "Package x.\n\nOf Gavel's packages it may import: store,, notice.\n", err: "separated by commas"},
	} {
		allowed, found, err := parseRule(tt.doc)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, tt.doc)
			continue
		}
		require.NoError(t, err, tt.doc)
		assert.Equal(t, tt.found, found, tt.doc)
		assert.Equal(t, tt.allowed, allowed, tt.doc)
	}
}

// testKit reports whether rel is a kit that only tests, the benchmark and
// the demo import (internal/testkit/…): one may import bot to run it, and
// no other package may import one.
func testKit(rel string) bool { return strings.HasPrefix(rel, "internal/testkit/") }
