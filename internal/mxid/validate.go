// Package mxid is the one place where Gavel checks and parses Matrix ids:
// the validators that the admin API client, the configuration and the
// command parser share (server names, room ids, user ids, room aliases,
// media ids, mxc:// URIs, report ids), and the parsers of what moderators
// type (room ids or aliases, user ids, matrix.to links and matrix: URIs,
// mxc:// URIs, media download URLs, report ids).
//
// Validators return an *InvalidInputError; parsers return errors worded
// for the person who typed the input, quoting it shortened.
//
// Besides the standard library it uses only mautrix's id package, so that
// any package of Gavel can use it.
//
// Of Gavel's packages it may import: internal/textcut.
package mxid

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/textcut"
)

// InvalidInputError is a malformed id, refused before anything is done
// with it.
type InvalidInputError struct {
	// What names the kind of input: "room id", "user id", "media id",
	// "server name", "report id", "mxc URI", ...
	What string
	// Value is the rejected input as given.
	Value string
	// Reason says what is wrong with it, in a way a user can act on.
	Reason string
}

func (e *InvalidInputError) Error() string {
	// A 10 KiB value is not repeated in full.
	return fmt.Sprintf("invalid %s %q: %s", e.What, textcut.Runes(e.Value, 64), e.Reason)
}

// maxIDLength is the Matrix limit on the length of room, user and event ids.
const maxIDLength = 255

// ValidateServerName checks a server name against the Matrix grammar
// (hostname, IPv4 or bracketed IPv6 literal, optional port). Beyond mautrix's
// check it refuses empty DNS labels, so "..", ".example.org" and
// "example..org" never reach a URL path.
func ValidateServerName(name string) error {
	invalid := func(reason string) error {
		return &InvalidInputError{What: "server name", Value: name, Reason: reason}
	}
	if name == "" {
		return invalid("must not be empty")
	}
	parsed := id.ParseServerName(name)
	if parsed == nil {
		return invalid("must be a hostname or IP address with an optional port, like example.org or example.org:8448")
	}
	if parsed.Type == id.ServerNameDNS {
		for label := range strings.SplitSeq(parsed.Host, ".") {
			if label == "" {
				return invalid("has an empty part between dots")
			}
		}
	}
	// The port is whatever follows the last colon, unless that colon is
	// inside an IPv6 literal.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, ']') {
		if parsed.Port < 1 || parsed.Port > 65535 {
			return invalid("port must be between 1 and 65535")
		}
	}
	return nil
}

// ValidateRoomID checks that roomID looks like a Matrix room id: "!" then an
// opaque part, then, except in room version 12 and later, ":" and a valid
// server name.
func ValidateRoomID(roomID id.RoomID) error {
	s := string(roomID)
	invalid := func(reason string) error {
		return &InvalidInputError{What: "room id", Value: s, Reason: reason}
	}
	switch {
	case s == "":
		return invalid("must not be empty")
	case strings.HasPrefix(s, "#"):
		return invalid("this is a room alias; a room id starts with !")
	case s[0] != '!':
		return invalid("must start with !, like !abc:example.org")
	case len(s) > maxIDLength:
		return invalid("is longer than 255 bytes")
	}
	opaque, server, hasServer := strings.Cut(s[1:], ":")
	if opaque == "" {
		return invalid("has nothing after the !")
	}
	if !isPrintableASCII(opaque) {
		return invalid("contains spaces, control or non-ASCII characters")
	}
	if strings.ContainsAny(opaque, pathChars) {
		return invalid("contains one of " + pathChars + ", which no server puts in a room id")
	}
	if hasServer {
		if err := ValidateServerName(server); err != nil {
			return invalid("the part after : is not a valid server name")
		}
	}
	return nil
}

// ValidateUserID checks that userID is "@localpart:server" with a non-empty
// localpart of printable ASCII (the historical grammar, which real accounts
// still use) and a valid server name.
func ValidateUserID(userID id.UserID) error {
	s := string(userID)
	invalid := func(reason string) error {
		return &InvalidInputError{What: "user id", Value: s, Reason: reason}
	}
	switch {
	case s == "":
		return invalid("must not be empty")
	case s[0] != '@':
		return invalid("must start with @, like @alice:example.org")
	case len(s) > maxIDLength:
		return invalid("is longer than 255 bytes")
	}
	localpart, server, ok := strings.Cut(s[1:], ":")
	switch {
	case !ok:
		return invalid("must have a server name after a colon, like @alice:example.org")
	case localpart == "":
		return invalid("has an empty name before the colon")
	case !isPrintableASCII(localpart):
		return invalid("contains spaces, control or non-ASCII characters")
	case strings.Contains(localpart, "/"):
		// The grammar allows it, but a proxy that decodes %2F would turn
		// "@a/../b" into another path; such accounts are rare enough to
		// be handled through the admin API by hand.
		return invalid("contains /, which Gavel refuses in user ids: act on this account through the admin API directly")
	case strings.ContainsAny(localpart, pathChars):
		return invalid("contains one of " + pathChars + ", which user ids do not have")
	}
	if err := ValidateServerName(server); err != nil {
		return invalid("the part after : is not a valid server name")
	}
	return nil
}

// ValidateRoomAlias checks that alias is "#localpart:server". The localpart
// may be any printable text (aliases need not be ASCII) except whitespace
// and the characters a proxy in front of Synapse could read as path syntax.
func ValidateRoomAlias(alias id.RoomAlias) error {
	s := string(alias)
	localpart, server, ok := strings.Cut(strings.TrimPrefix(s, "#"), ":")
	if !strings.HasPrefix(s, "#") || !ok || localpart == "" || len(s) > maxIDLength || !utf8.ValidString(localpart) ||
		strings.ContainsFunc(localpart, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) ||
		strings.ContainsAny(localpart, pathChars) || ValidateServerName(server) != nil {
		return &InvalidInputError{What: "room alias", Value: s, Reason: "must look like #room:example.org"}
	}
	return nil
}

// ValidateMediaID checks that a media id consists only of the characters
// Synapse hands out and the spec allows: A-Z, a-z, 0-9, "_" and "-".
func ValidateMediaID(mediaID string) error {
	if !id.IsValidMediaID(mediaID) {
		return &InvalidInputError{What: "media id", Value: mediaID, Reason: "may contain only letters, digits, _ and -"}
	}
	if len(mediaID) > maxIDLength {
		return &InvalidInputError{What: "media id", Value: mediaID, Reason: "is longer than 255 bytes"}
	}
	return nil
}

// ValidateContentURI checks both halves of an mxc:// URI: the server name and
// the media id.
func ValidateContentURI(uri id.ContentURI) error {
	if uri.Homeserver == "" && uri.FileID == "" {
		return &InvalidInputError{What: "mxc URI", Value: "", Reason: "must not be empty"}
	}
	if err := ValidateServerName(uri.Homeserver); err != nil {
		return err
	}
	return ValidateMediaID(uri.FileID)
}

// ParseContentURI parses "mxc://server/media_id" and validates both parts.
func ParseContentURI(s string) (id.ContentURI, error) {
	uri, err := id.ParseContentURI(s)
	if err != nil || s == "" || strings.Count(s[len("mxc://"):], "/") != 1 {
		return id.ContentURI{}, &InvalidInputError{What: "mxc URI", Value: s, Reason: "must look like mxc://example.org/AbCdEf123"}
	}
	return uri, ValidateContentURI(uri)
}

// ValidateReportID checks that a report id is positive; Synapse never hands
// out zero or negative ids.
func ValidateReportID(reportID int64) error {
	if reportID <= 0 {
		return &InvalidInputError{What: "report id", Value: strconv.FormatInt(reportID, 10), Reason: "must be a positive number"}
	}
	return nil
}

// ValidateEventID checks that eventID is "$" and an opaque part of
// printable ASCII (with ":server" in room versions 1 and 2). "/", which
// room version 3's event ids may contain, is refused like the other path
// characters: act on such an event through the admin API by hand.
func ValidateEventID(eventID id.EventID) error {
	s := string(eventID)
	invalid := func(reason string) error {
		return &InvalidInputError{What: "event id", Value: s, Reason: reason}
	}
	switch {
	case s == "":
		return invalid("must not be empty")
	case s[0] != '$':
		return invalid("must start with $")
	case len(s) > maxIDLength:
		return invalid("is longer than 255 bytes")
	case len(s) == 1:
		return invalid("has nothing after the $")
	case !isPrintableASCII(s[1:]):
		return invalid("contains spaces, control or non-ASCII characters")
	case strings.ContainsAny(s[1:], pathChars):
		return invalid("contains one of " + pathChars + ", which Gavel refuses in event ids")
	}
	return nil
}

// pathChars are refused inside ids even though the path escaping would
// keep them in one segment: a reverse proxy in front of Synapse that
// decodes %2F and friends would route such an id elsewhere.
const pathChars = `/?#%\`

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
