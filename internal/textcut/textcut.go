// Package textcut shortens text that Gavel shows or repeats, by characters
// rather than bytes, so that a cut never splits a character. It uses
// only the standard library.
//
// Of Gavel's packages it may import: none.
package textcut

import "unicode/utf8"

// Runes cuts s to at most n characters, marking a cut with "…".
func Runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
