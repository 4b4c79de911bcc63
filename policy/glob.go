package policy

import (
	"regexp"
	"strings"

	"go.mau.fi/util/glob"
)

// Globs match case-sensitively, as Draupnir's policy library
// (matrix-basic-types' MatrixGlob) and Mjolnir match them: a card that
// says a rule matches should mean that the bots enforcing the list act on
// it. mautrix's glob package folds case, so only its pattern handling is
// used here.

// matcher is a compiled glob.
type matcher interface{ Match(string) bool }

// compileGlob compiles a glob (* any run, ? one character), or returns
// nil when it cannot be (too many ? for a regular expression).
func compileGlob(pattern string) matcher {
	pattern = glob.Simplify(pattern)
	if !strings.Contains(pattern, "?") && strings.Count(pattern, "*") == 1 {
		prefix, suffix, _ := strings.Cut(pattern, "*")
		return affix{prefix, suffix}
	}
	var b strings.Builder
	b.WriteString("^")
	_ = glob.ToRegexPattern(pattern, &b) // a strings.Builder never fails
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return regex{re}
}

// regex is any other glob, as a regular expression.
type regex struct{ re *regexp.Regexp }

func (r regex) Match(s string) bool { return r.re.MatchString(s) }

// affix is a glob with one *: a prefix and a suffix.
type affix struct{ prefix, suffix string }

func (a affix) Match(s string) bool {
	return len(s) >= len(a.prefix)+len(a.suffix) && strings.HasPrefix(s, a.prefix) && strings.HasSuffix(s, a.suffix)
}

// Valid reports whether a glob compiles (a literal entity always does).
func Valid(entity string) bool { return !IsGlob(entity) || compileGlob(entity) != nil }
