package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// RoomRef names a room by id or by alias; the bot resolves aliases.
type RoomRef = mxid.RoomRef

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

// parseReportsFlags reads the options of !reports.
func parseReportsFlags(args []string) (ListReports, error) {
	q := ListReports{Limit: DefaultReportsLimit}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			return q, fmt.Errorf("unexpected %s: options are --user, --room, --sender and --limit", mxid.Shown(args[i]))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return q, fmt.Errorf("%s needs a value", mxid.Clip(name))
			}
			i++
			value = args[i]
		}
		var err error
		switch name {
		case "--user":
			q.Reporter, err = mxid.ParseUser(value)
		case "--sender":
			q.Sender, err = mxid.ParseUser(value)
		case "--room":
			q.Room, err = mxid.ParseRoom(value)
		case "--limit":
			q.Limit, err = strconv.Atoi(value)
			if err != nil || q.Limit < 1 || q.Limit > MaxReportsLimit {
				err = fmt.Errorf("--limit must be a number from 1 to %d (got %s)", MaxReportsLimit, mxid.Shown(value))
			}
		default:
			err = fmt.Errorf("unknown option %s: options are --user, --room, --sender and --limit", mxid.Clip(name))
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

// reportOption takes "--report <id>" (or "--report=<id>") out of args and
// returns the rest and the id, 0 when there is none.
func reportOption(args []string) ([]string, int64, error) {
	var rest []string
	var reportID int64
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if name != "--report" {
			rest = append(rest, args[i])
			continue
		}
		if reportID != 0 {
			return nil, 0, fmt.Errorf("--report is given twice")
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, 0, fmt.Errorf("--report needs a report id, like --report 12")
			}
			i++
			value = args[i]
		}
		n, err := mxid.ParseReportID(value)
		if err != nil {
			return nil, 0, fmt.Errorf("--report: %w", err)
		}
		reportID = n
	}
	return rest, reportID, nil
}
