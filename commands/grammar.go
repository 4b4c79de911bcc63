package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// RoomRef names a room by id or by alias; the bot resolves aliases.
type RoomRef = mxid.RoomRef

// ReportRef names a report: 12, u12 or r12 (see mxid.ReportRef).
type ReportRef = mxid.ReportRef

// MediaRef names a media item; an empty Server means this homeserver's.
type MediaRef = mxid.MediaRef

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

// parseKinds reads --kind: event, user, room, or all (nil).
func parseKinds(value string) ([]mxid.ReportKind, error) {
	switch strings.ToLower(value) {
	case "all":
		return nil, nil
	case "event", "events":
		return []mxid.ReportKind{mxid.KindEvent}, nil
	case "user", "users":
		return []mxid.ReportKind{mxid.KindUser}, nil
	case "room", "rooms":
		return []mxid.ReportKind{mxid.KindRoom}, nil
	}
	return nil, fmt.Errorf("--kind must be event, user, room or all (got %s)", mxid.Shown(value))
}

// caseStates are the states a case can be in, as --state names them.
var caseStates = []string{"open", "claimed", "resolved", "dismissed", "deleted"}

// parseStates reads --state: states separated by commas, or "all".
func parseStates(value string) ([]string, error) {
	if strings.EqualFold(value, "all") {
		return caseStates, nil
	}
	var states []string
	for _, s := range strings.Split(strings.ToLower(value), ",") {
		if !slices.Contains(caseStates, s) {
			return nil, fmt.Errorf("--state must be open, claimed, resolved, dismissed, deleted or all, or several with commas (got %s)", mxid.Shown(value))
		}
		if !slices.Contains(states, s) {
			states = append(states, s)
		}
	}
	return states, nil
}

// ParseDuration reads a positive duration the way moderators write one:
// Go's (90m, 6h) or days (7d).
func ParseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	return d, err == nil && d > 0
}
