package mxid

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"
)

// FuzzValidators feeds one string to every id validator and checks what
// they accept, against the contract in validate.go's comments:
//
//   - nothing panics, and every refusal is an *InvalidInputError;
//   - whatever is accepted is at most 255 bytes of printable ASCII: no
//     whitespace, control characters, NUL or non-ASCII (so it is valid
//     UTF-8, and no look-alike sigil such as U+FF01 gets through);
//   - room and user ids contain none of / ? # % \ (the user id grammar
//     allows "/", but Gavel refuses it: a proxy that decodes %2F would turn
//     "@a/../b" into another path); server names and media ids only their
//     own small alphabets;
//   - room ids start with "!", user ids with "@" and have a non-empty
//     localpart, and the part after the first ":" (mandatory for user ids,
//     optional for room ids since room version 12) is a server name that
//     ValidateServerName accepts;
//   - a server name has no empty DNS label ("..", ".x", "x.") and its port,
//     if any, is 1-65535;
//   - an accepted mxc:// URI is exactly "mxc://" + server + "/" + media id,
//     both of which pass their own validators;
//   - url.PathEscape of anything accepted is one path segment that is
//     neither "." nor "..", and unescapes back to the id.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{
		"!abc:example.org",
		"@alice:example.org",
		"@a.b=c_d/e+f:example.org:8448",
		"example.org:8448",
		"[::1]:8448",
		"AbC_1-x",
		"mxc://example.org/AbC_1-x",
		"!a/../b:example.org",
		"mxc://example.org/../x",
		"mxc://%2e%2e/x",
		"\uff01abc:example.org",
		"@alice\u202e:example.org",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateRoomID(id.RoomID(s)); err == nil {
			checkAcceptedID(t, "room id", s, `/?#%\`)
			if s[0] != '!' {
				t.Fatalf("room id %q accepted without the ! sigil", s)
			}
			opaque, server, hasServer := strings.Cut(s[1:], ":")
			if opaque == "" {
				t.Fatalf("room id %q accepted with nothing after the !", s)
			}
			if hasServer {
				if err := ValidateServerName(server); err != nil {
					t.Fatalf("room id %q accepted, but its server part is refused: %v", s, err)
				}
			}
		} else {
			checkRefusal(t, s, err)
		}

		if err := ValidateUserID(id.UserID(s)); err == nil {
			checkAcceptedID(t, "user id", s, `/?#%\`)
			if s[0] != '@' {
				t.Fatalf("user id %q accepted without the @ sigil", s)
			}
			localpart, server, ok := strings.Cut(s[1:], ":")
			if !ok || localpart == "" {
				t.Fatalf("user id %q accepted without a localpart and a server part", s)
			}
			if err := ValidateServerName(server); err != nil {
				t.Fatalf("user id %q accepted, but its server part is refused: %v", s, err)
			}
		} else {
			checkRefusal(t, s, err)
		}

		if err := ValidateServerName(s); err == nil {
			checkAcceptedServerName(t, s)
		} else {
			checkRefusal(t, s, err)
		}

		if err := ValidateMediaID(s); err == nil {
			checkAcceptedMediaID(t, s)
		} else {
			checkRefusal(t, s, err)
		}

		if uri, err := ParseContentURI(s); err == nil {
			if s != "mxc://"+uri.Homeserver+"/"+uri.FileID {
				t.Fatalf("mxc URI %q accepted as server %q, media id %q, which do not make it up", s, uri.Homeserver, uri.FileID)
			}
			if err := ValidateServerName(uri.Homeserver); err != nil {
				t.Fatalf("mxc URI %q accepted with a bad server name: %v", s, err)
			}
			if err := ValidateMediaID(uri.FileID); err != nil {
				t.Fatalf("mxc URI %q accepted with a bad media id: %v", s, err)
			}
			if err := ValidateContentURI(uri); err != nil {
				t.Fatalf("mxc URI %q accepted by ParseContentURI but not by ValidateContentURI: %v", s, err)
			}
			checkAcceptedServerName(t, uri.Homeserver)
			checkAcceptedMediaID(t, uri.FileID)
		} else {
			checkRefusal(t, s, err)
		}
	})
}

// checkAcceptedID checks what every accepted room or user id satisfies.
func checkAcceptedID(t *testing.T, what, s, refused string) {
	t.Helper()
	if len(s) > maxIDLength {
		t.Fatalf("%s of %d bytes accepted: %q", what, len(s), s)
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q accepted, but it is not valid UTF-8", what, s)
	}
	for i := 0; i < len(s); i++ {
		// Printable ASCII only: no NUL, control, whitespace, DEL or
		// non-ASCII byte (bidi overrides, zero-width spaces, U+FF01...).
		if s[i] <= ' ' || s[i] > '~' {
			t.Fatalf("%s %q accepted with byte %#02x at %d", what, s, s[i], i)
		}
	}
	if i := strings.IndexAny(s, refused); i >= 0 {
		t.Fatalf("%s %q accepted with %q, which the validator promises to refuse", what, s, s[i])
	}
	checkPathSegment(t, what, s)
}

func checkAcceptedServerName(t *testing.T, s string) {
	t.Helper()
	if s == "" || len(s) > maxIDLength {
		t.Fatalf("server name of %d bytes accepted: %q", len(s), s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]", c) >= 0) {
			t.Fatalf("server name %q accepted with byte %#02x at %d", s, c, i)
		}
	}
	host, port := s, ""
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, ']') {
		host, port = s[:i], s[i+1:]
		if port == "" || strings.TrimLeft(port, "0123456789") != "" || len(port) > 5 || atoi(port) < 1 || atoi(port) > 65535 {
			t.Fatalf("server name %q accepted with port %q", s, port)
		}
	}
	if !strings.HasPrefix(host, "[") {
		if strings.ContainsAny(host, ":[]") {
			t.Fatalf("server name %q accepted with a stray : [ or ]", s)
		}
		for label := range strings.SplitSeq(host, ".") {
			if label == "" {
				t.Fatalf("server name %q accepted with an empty DNS label", s)
			}
		}
	} else if !strings.HasSuffix(host, "]") {
		t.Fatalf("server name %q accepted with an unclosed [", s)
	}
	checkPathSegment(t, "server name", s)
}

func checkAcceptedMediaID(t *testing.T, s string) {
	t.Helper()
	if s == "" || len(s) > maxIDLength {
		t.Fatalf("media id of %d bytes accepted: %q", len(s), s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			t.Fatalf("media id %q accepted with byte %#02x at %d", s, c, i)
		}
	}
	checkPathSegment(t, "media id", s)
}

// checkPathSegment checks that s, path-escaped as the admin client does,
// stays one segment that is not a dot segment and unescapes back to s.
func checkPathSegment(t *testing.T, what, s string) {
	t.Helper()
	escaped := url.PathEscape(s)
	if strings.Contains(escaped, "/") {
		t.Fatalf("%s %q path-escapes to %q, more than one segment", what, s, escaped)
	}
	if escaped == "." || escaped == ".." {
		t.Fatalf("%s %q path-escapes to the dot segment %q", what, s, escaped)
	}
	if back, err := url.PathUnescape(escaped); err != nil || back != s {
		t.Fatalf("%s %q path-escapes to %q, which unescapes to %q (%v)", what, s, escaped, back, err)
	}
}

// checkRefusal checks that a refusal is an *InvalidInputError, as the
// client's callers rely on, whose message is valid UTF-8 (it quotes the
// value).
func checkRefusal(t *testing.T, s string, err error) {
	t.Helper()
	var invalid *InvalidInputError
	if !errors.As(err, &invalid) {
		t.Fatalf("%q refused with %T, not *InvalidInputError: %v", s, err, err)
	}
	if msg := err.Error(); !utf8.ValidString(msg) {
		t.Fatalf("%q refused with an error that is not valid UTF-8: %q", s, msg)
	}
}

// atoi reads a run of at most 5 decimal digits.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
