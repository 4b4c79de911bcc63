package mxid

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/textcut"
)

// RoomRef names a room by id or by alias; exactly one is set. Aliases are
// left for the caller to resolve.
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

// shownLimit is how much of a bad argument an error message repeats: a 10
// KiB argument must not come back as a 10 KiB reply.
const shownLimit = 64

// Shown quotes a bad argument for an error message: cut to 64
// characters, with invisible and control characters escaped so that
// look-alikes show.
func Shown(s string) string { return strconv.Quote(Clip(s)) }

// Clip cuts a bad argument to the 64 characters an error message repeats.
func Clip(s string) string { return textcut.Runes(s, shownLimit) }

// why is the reason a validator gave.
func why(err error) string {
	var invalid *InvalidInputError
	if errors.As(err, &invalid) {
		return invalid.Reason
	}
	return err.Error()
}

// ParseReportID reads a report id: a positive whole number, optionally
// written #12.
func ParseReportID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("report id must be a positive whole number, like 12 (got %s)", Shown(s))
	}
	return n, nil
}

// ReportKind is what a report is about. Synapse numbers each kind's reports
// separately, so the same id can name an event report and a user report.
type ReportKind string

// Report kinds.
const (
	KindEvent ReportKind = "event"
	KindUser  ReportKind = "user"
	KindRoom  ReportKind = "room"
)

func (k ReportKind) String() string { return string(k) }

// kindLetters are the letters that mark a report id of a kind other than
// event: u12 is user report 12, r12 room report 12.
var kindLetters = map[ReportKind]string{KindUser: "u", KindRoom: "r"}

// ReportRef names a report as moderators type it: 12 (or #12) for an
// event report, u12 for a user report, r12 for a room report.
type ReportRef struct {
	Kind ReportKind // KindEvent when empty
	ID   int64
}

// EventReport names event report id.
func EventReport(id int64) ReportRef { return ReportRef{Kind: KindEvent, ID: id} }

// IsZero reports whether no report is named.
func (r ReportRef) IsZero() bool { return r.ID == 0 }

// Normal returns r with an empty Kind spelt out.
func (r ReportRef) Normal() ReportRef {
	if r.Kind == "" {
		r.Kind = KindEvent
	}
	return r
}

// String is the report as moderators type it: "12", "u12", "r12".
func (r ReportRef) String() string {
	return kindLetters[r.Kind] + strconv.FormatInt(r.ID, 10)
}

// ParseReportRef reads a report as moderators type it: 12 or #12 for an
// event report, u12 for a user report, r12 for a room report.
func ParseReportRef(s string) (ReportRef, error) {
	kind, digits := KindEvent, strings.TrimPrefix(s, "#")
	for k, letter := range kindLetters {
		if rest, ok := strings.CutPrefix(strings.ToLower(digits), letter); ok {
			kind, digits = k, rest
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || strings.HasPrefix(digits, "+") {
		return ReportRef{}, fmt.Errorf("report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got %s)", Shown(s))
	}
	return ReportRef{Kind: kind, ID: n}, nil
}

// ParseRoom reads a room id, a room alias, or a matrix.to link or matrix:
// URI to either.
func ParseRoom(s string) (RoomRef, error) {
	if uri := parseLink(s); uri != nil {
		switch uri.Sigil1 {
		case '!':
			s = string(uri.RoomID())
		case '#':
			s = string(uri.RoomAlias())
		default:
			return RoomRef{}, fmt.Errorf("the link %s does not point to a room", Shown(s))
		}
	}
	if strings.HasPrefix(s, "#") {
		alias, err := parseRoomAlias(s)
		if err != nil {
			return RoomRef{}, err
		}
		return RoomRef{Alias: alias}, nil
	}
	if err := ValidateRoomID(id.RoomID(s)); err != nil {
		if strings.HasPrefix(s, "!") {
			return RoomRef{}, fmt.Errorf("%s is not a valid room id: %s", Shown(s), why(err))
		}
		return RoomRef{}, fmt.Errorf("%s is not a room: give a room id like !abc:example.org, an alias like #room:example.org, or a matrix.to link", Shown(s))
	}
	return RoomRef{ID: id.RoomID(s)}, nil
}

// parseRoomAlias reads a room alias, "#localpart:server"; see
// ValidateRoomAlias.
func parseRoomAlias(s string) (id.RoomAlias, error) {
	if err := ValidateRoomAlias(id.RoomAlias(s)); err != nil {
		return "", fmt.Errorf("%s is not a room alias like #room:example.org", Shown(s))
	}
	return id.RoomAlias(s), nil
}

// ParseUser reads a user id, or a matrix.to link or matrix: URI to one.
func ParseUser(s string) (id.UserID, error) {
	if uri := parseLink(s); uri != nil {
		if uri.Sigil1 != '@' {
			return "", fmt.Errorf("the link %s does not point to a user", Shown(s))
		}
		s = string(uri.UserID())
	}
	if err := ValidateUserID(id.UserID(s)); err != nil {
		if strings.HasPrefix(s, "@") {
			return "", fmt.Errorf("%s is not a valid user id: %s", Shown(s), why(err))
		}
		return "", fmt.Errorf("%s is not a user id like @spammer:example.org", Shown(s))
	}
	return id.UserID(s), nil
}

// ParseEvent reads an event from a command's first arguments: a
// matrix.to link or matrix: URI to an event, or a room (id, alias or link)
// and an event id. It returns the event's room, its id, and the arguments
// that follow.
func ParseEvent(args []string) (RoomRef, id.EventID, []string, error) {
	if len(args) == 0 {
		return RoomRef{}, "", nil, fmt.Errorf("which event? give a matrix.to link to it, or its room and its event id")
	}
	if uri := parseLink(args[0]); uri != nil && uri.Sigil2 == '$' {
		room := RoomRef{ID: uri.RoomID()}
		if uri.Sigil1 == '#' {
			room = RoomRef{Alias: uri.RoomAlias()}
		}
		eventID := uri.EventID()
		if err := validateRef(room); err != nil {
			return RoomRef{}, "", nil, fmt.Errorf("the link %s does not point to an event in a room", Shown(args[0]))
		}
		if err := ValidateEventID(eventID); err != nil {
			return RoomRef{}, "", nil, fmt.Errorf("%s is not a valid event id: %s", Shown(string(eventID)), why(err))
		}
		return room, eventID, args[1:], nil
	}
	if len(args) < 2 || !strings.HasPrefix(args[1], "$") {
		return RoomRef{}, "", nil, fmt.Errorf("%s is not a link to an event: give a matrix.to link to it, or its room and its event id ($…)", Shown(args[0]))
	}
	room, err := ParseRoom(args[0])
	if err != nil {
		return RoomRef{}, "", nil, err
	}
	if err := ValidateEventID(id.EventID(args[1])); err != nil {
		return RoomRef{}, "", nil, fmt.Errorf("%s is not a valid event id: %s", Shown(args[1]), why(err))
	}
	return room, id.EventID(args[1]), args[2:], nil
}

// validateRef checks the room of a link.
func validateRef(r RoomRef) error {
	if r.Alias != "" {
		return ValidateRoomAlias(r.Alias)
	}
	return ValidateRoomID(r.ID)
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

// ParseMedia reads a media item from a command's arguments: one mxc://
// URI, one media download URL, one bare media id (this server's media), or
// a server name and a media id.
func ParseMedia(args []string) (MediaRef, error) {
	switch len(args) {
	case 1:
		s := args[0]
		switch {
		case strings.HasPrefix(s, "mxc://"):
			uri, err := ParseContentURI(s)
			if err != nil {
				return MediaRef{}, fmt.Errorf("%s is not a media URI like mxc://example.org/AbCdEf", Shown(s))
			}
			return MediaRef{Server: uri.Homeserver, MediaID: uri.FileID}, nil
		case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
			return parseMediaURL(s)
		default:
			if err := ValidateMediaID(s); err != nil {
				return MediaRef{}, fmt.Errorf("%s is not a media id (letters, digits, _ and -) or mxc:// URI", Shown(s))
			}
			return MediaRef{MediaID: s}, nil
		}
	case 2:
		if err := ValidateServerName(args[0]); err != nil {
			return MediaRef{}, fmt.Errorf("%s is not a server name like example.org", Shown(args[0]))
		}
		if err := ValidateMediaID(args[1]); err != nil {
			return MediaRef{}, fmt.Errorf("%s is not a media id (letters, digits, _ and -)", Shown(args[1]))
		}
		return MediaRef{Server: args[0], MediaID: args[1]}, nil
	case 0:
		return MediaRef{}, errors.New("which media? give its mxc:// URI")
	default:
		return MediaRef{}, errors.New("too many arguments: give one mxc:// URI, or a server name and a media id")
	}
}

// parseMediaURL reads a download or thumbnail URL that a client shows for
// media: .../_matrix/(media/v3|client/v1/media)/(download|thumbnail)/<server>/<id>[/name].
func parseMediaURL(s string) (MediaRef, error) {
	bad := fmt.Errorf("%s is not a Matrix media download link; give the mxc:// URI", Shown(s))
	u, err := url.Parse(s)
	if err != nil {
		return MediaRef{}, bad
	}
	parts := strings.Split(u.Path, "/")
	for i := 0; i+2 < len(parts); i++ {
		if (parts[i] == "download" || parts[i] == "thumbnail") && i > 0 && (parts[i-1] == "media" || strings.HasPrefix(parts[i-1], "v")) {
			ref := MediaRef{Server: parts[i+1], MediaID: parts[i+2]}
			if ValidateServerName(ref.Server) != nil || ValidateMediaID(ref.MediaID) != nil {
				return MediaRef{}, bad
			}
			return ref, nil
		}
	}
	return MediaRef{}, bad
}
