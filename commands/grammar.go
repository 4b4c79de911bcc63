// Package commands is the moderators' command language: the typed commands,
// their grammar and parsing, the help text, and dispatch of chat messages
// to parsers through mautrix's commands package.
//
// Parsing only checks form: ids are validated, links are unwrapped, room
// aliases are left for the bot to resolve. Every problem is a *UsageError
// that says what was wrong and how the command is used.
package commands

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// Command is a parsed moderator command; the concrete types below are all
// there are.
type Command interface {
	// Name is the command's name as typed, without prefix or arguments:
	// "report delete", "quarantine media", ...
	Name() string
}

// Help asks for the list of commands, or the details of one.
type Help struct{ Topic string }

// ListReports lists open event reports, newest first.
type ListReports struct {
	Reporter id.UserID // --user: reports filed by this user
	Room     RoomRef   // --room: reports about events in this room
	Sender   id.UserID // --sender: reports about events sent by this user
	Limit    int       // --limit: how many to show
}

// ShowReport shows one report with the reported content.
type ShowReport struct{ ID int64 }

// DeleteReport deletes one report in Synapse.
type DeleteReport struct{ ID int64 }

// QuarantineMedia quarantines one media item.
type QuarantineMedia struct{ Media MediaRef }

// UnquarantineMedia lifts the quarantine of one media item.
type UnquarantineMedia struct{ Media MediaRef }

// QuarantineRoom quarantines all media in a room.
type QuarantineRoom struct{ Room RoomRef }

// QuarantineUser quarantines all media a local user uploaded.
type QuarantineUser struct{ User id.UserID }

// ProtectMedia protects one local media item from quarantine.
type ProtectMedia struct{ Media MediaRef }

// UnprotectMedia removes that protection.
type UnprotectMedia struct{ Media MediaRef }

// Status asks for Gavel's and Synapse's state.
type Status struct{}

func (Help) Name() string              { return "help" }
func (ListReports) Name() string       { return "reports" }
func (ShowReport) Name() string        { return "report show" }
func (DeleteReport) Name() string      { return "report delete" }
func (QuarantineMedia) Name() string   { return "quarantine media" }
func (UnquarantineMedia) Name() string { return "unquarantine media" }
func (QuarantineRoom) Name() string    { return "quarantine room" }
func (QuarantineUser) Name() string    { return "quarantine user" }
func (ProtectMedia) Name() string      { return "protect media" }
func (UnprotectMedia) Name() string    { return "unprotect media" }
func (Status) Name() string            { return "status" }

// RoomRef names a room by id or by alias; exactly one is set. The bot
// resolves aliases.
type RoomRef struct {
	ID    id.RoomID
	Alias id.RoomAlias
}

// IsZero reports whether no room is named.
func (r RoomRef) IsZero() bool { return r.ID == "" && r.Alias == "" }

func (r RoomRef) String() string {
	if r.Alias != "" {
		return string(r.Alias)
	}
	return string(r.ID)
}

// MediaRef names a media item. An empty Server means this homeserver's own
// media (a bare media id was given).
type MediaRef struct {
	Server  string
	MediaID string
}

func (m MediaRef) String() string {
	if m.Server == "" {
		return m.MediaID
	}
	return "mxc://" + m.Server + "/" + m.MediaID
}

// UsageError is a command that could not be parsed.
type UsageError struct {
	// Command is the command's name, or "" for an unknown command.
	Command string
	// Problem says what was wrong.
	Problem string
	// Usage is the command's usage line, without the prefix.
	Usage string
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Problem
	}
	return e.Problem + "; usage: " + e.Usage
}

// shownLimit is how much of a bad argument an error message repeats: a 10
// KiB argument must not come back as a 10 KiB reply.
const shownLimit = 64

// clip shortens s to shownLimit characters.
func clip(s string) string { return textcut.Runes(s, shownLimit) }

// shown quotes a bad argument for an error message, shortened, with
// invisible and control characters escaped so that look-alikes show.
func shown(s string) string { return strconv.Quote(clip(s)) }

// parseReportID reads a report id: a positive whole number.
func parseReportID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("report id must be a positive whole number, like 12 (got %s)", shown(s))
	}
	return n, nil
}

// parseRoom reads a room id, a room alias, or a matrix.to link or matrix:
// URI to either.
func parseRoom(s string) (RoomRef, error) {
	if uri := parseLink(s); uri != nil {
		switch uri.Sigil1 {
		case '!':
			s = string(uri.RoomID())
		case '#':
			s = string(uri.RoomAlias())
		default:
			return RoomRef{}, fmt.Errorf("the link %s does not point to a room", shown(s))
		}
	}
	if strings.HasPrefix(s, "#") {
		if err := ValidateRoomAlias(id.RoomAlias(s)); err != nil {
			return RoomRef{}, err
		}
		return RoomRef{Alias: id.RoomAlias(s)}, nil
	}
	if err := adminapi.ValidateRoomID(id.RoomID(s)); err != nil {
		if strings.HasPrefix(s, "!") {
			return RoomRef{}, fmt.Errorf("%s is not a valid room id: %s", shown(s), why(err))
		}
		return RoomRef{}, fmt.Errorf("%s is not a room: give a room id like !abc:example.org, an alias like #room:example.org, or a matrix.to link", shown(s))
	}
	return RoomRef{ID: id.RoomID(s)}, nil
}

// ValidateRoomAlias checks that alias is "#localpart:server". The localpart
// may be any printable text (aliases need not be ASCII) except the
// characters a proxy in front of Synapse could read as path syntax.
func ValidateRoomAlias(alias id.RoomAlias) error {
	s := string(alias)
	localpart, server, ok := strings.Cut(strings.TrimPrefix(s, "#"), ":")
	if !strings.HasPrefix(s, "#") || !ok || localpart == "" || len(s) > 255 || !utf8.ValidString(localpart) ||
		strings.ContainsFunc(localpart, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) ||
		strings.ContainsAny(localpart, `/?#%\`) || adminapi.ValidateServerName(server) != nil {
		return fmt.Errorf("%s is not a room alias like #room:example.org", shown(s))
	}
	return nil
}

// why is the reason a validator gave.
func why(err error) string {
	var invalid *adminapi.InvalidInputError
	if errors.As(err, &invalid) {
		return invalid.Reason
	}
	return err.Error()
}

// parseUser reads a user id, or a matrix.to link or matrix: URI to one.
func parseUser(s string) (id.UserID, error) {
	if uri := parseLink(s); uri != nil {
		if uri.Sigil1 != '@' {
			return "", fmt.Errorf("the link %s does not point to a user", shown(s))
		}
		s = string(uri.UserID())
	}
	if err := adminapi.ValidateUserID(id.UserID(s)); err != nil {
		if strings.HasPrefix(s, "@") {
			return "", fmt.Errorf("%s is not a valid user id: %s", shown(s), why(err))
		}
		return "", fmt.Errorf("%s is not a user id like @spammer:example.org", shown(s))
	}
	return id.UserID(s), nil
}

// parseLink parses a matrix.to link or matrix: URI, or returns nil when s
// is neither.
func parseLink(s string) *id.MatrixURI {
	if !strings.HasPrefix(s, "https://matrix.to/") && !strings.HasPrefix(s, "matrix:") {
		return nil
	}
	uri, err := id.ParseMatrixURIOrMatrixToURL(s)
	if err != nil {
		return &id.MatrixURI{} // a link, but not one to anything: Sigil1 is 0
	}
	return uri
}

// parseMedia reads a media item from its arguments: one mxc:// URI, one
// media download URL, one bare media id (this server's media), or a server
// name and a media id.
func parseMedia(args []string) (MediaRef, error) {
	switch len(args) {
	case 1:
		s := args[0]
		switch {
		case strings.HasPrefix(s, "mxc://"):
			uri, err := adminapi.ParseContentURI(s)
			if err != nil {
				return MediaRef{}, fmt.Errorf("%s is not a media URI like mxc://example.org/AbCdEf", shown(s))
			}
			return MediaRef{Server: uri.Homeserver, MediaID: uri.FileID}, nil
		case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
			return parseMediaURL(s)
		default:
			if err := adminapi.ValidateMediaID(s); err != nil {
				return MediaRef{}, fmt.Errorf("%s is not a media id (letters, digits, _ and -) or mxc:// URI", shown(s))
			}
			return MediaRef{MediaID: s}, nil
		}
	case 2:
		if err := adminapi.ValidateServerName(args[0]); err != nil {
			return MediaRef{}, fmt.Errorf("%s is not a server name like example.org", shown(args[0]))
		}
		if err := adminapi.ValidateMediaID(args[1]); err != nil {
			return MediaRef{}, fmt.Errorf("%s is not a media id (letters, digits, _ and -)", shown(args[1]))
		}
		return MediaRef{Server: args[0], MediaID: args[1]}, nil
	case 0:
		return MediaRef{}, fmt.Errorf("which media? give its mxc:// URI")
	default:
		return MediaRef{}, fmt.Errorf("too many arguments: give one mxc:// URI, or a server name and a media id")
	}
}

// parseMediaURL reads a download or thumbnail URL that a client shows for
// media: .../_matrix/(media/v3|client/v1/media)/(download|thumbnail)/<server>/<id>[/name].
func parseMediaURL(s string) (MediaRef, error) {
	bad := fmt.Errorf("%s is not a Matrix media download link; give the mxc:// URI", shown(s))
	u, err := url.Parse(s)
	if err != nil {
		return MediaRef{}, bad
	}
	parts := strings.Split(u.Path, "/")
	for i := 0; i+2 < len(parts); i++ {
		if (parts[i] == "download" || parts[i] == "thumbnail") && i > 0 && (parts[i-1] == "media" || strings.HasPrefix(parts[i-1], "v")) {
			ref := MediaRef{Server: parts[i+1], MediaID: parts[i+2]}
			if adminapi.ValidateServerName(ref.Server) != nil || adminapi.ValidateMediaID(ref.MediaID) != nil {
				return MediaRef{}, bad
			}
			return ref, nil
		}
	}
	return MediaRef{}, bad
}

// parseReportsFlags reads the options of !reports.
func parseReportsFlags(args []string) (ListReports, error) {
	q := ListReports{Limit: DefaultReportsLimit}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			return q, fmt.Errorf("unexpected %s: options are --user, --room, --sender and --limit", shown(args[i]))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return q, fmt.Errorf("%s needs a value", clip(name))
			}
			i++
			value = args[i]
		}
		var err error
		switch name {
		case "--user":
			q.Reporter, err = parseUser(value)
		case "--sender":
			q.Sender, err = parseUser(value)
		case "--room":
			q.Room, err = parseRoom(value)
		case "--limit":
			q.Limit, err = strconv.Atoi(value)
			if err != nil || q.Limit < 1 || q.Limit > MaxReportsLimit {
				err = fmt.Errorf("--limit must be a number from 1 to %d (got %s)", MaxReportsLimit, shown(value))
			}
		default:
			err = fmt.Errorf("unknown option %s: options are --user, --room, --sender and --limit", clip(name))
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

// Limits of !reports.
const (
	DefaultReportsLimit = 10
	MaxReportsLimit     = 50
)
