package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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

// parseReportsFlags reads the options of !reports.
func parseReportsFlags(args []string) (ListReports, error) {
	q := ListReports{Limit: DefaultReportsLimit}
	const options = "options are --kind, --state, --mine, --older-than, --user, --room, --sender and --limit"
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			return q, fmt.Errorf("unexpected %s: "+options, mxid.Shown(args[i]))
		}
		if name == "--mine" && !hasValue {
			q.Mine = true
			continue
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
		case "--state":
			q.States, err = parseStates(value)
		case "--kind":
			q.Kinds, err = parseKinds(value)
		case "--older-than":
			q.OlderThan, err = parseSince(value)
			if err != nil {
				err = fmt.Errorf("--older-than must be a duration like 90m, 6h or 7d (got %s)", mxid.Shown(value))
			}
		default:
			err = fmt.Errorf("unknown option %s: "+options, mxid.Clip(name))
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

// reportOption takes "--report <id>" (or "--report=<id>") out of args and
// returns the rest and the report, zero when there is none.
func reportOption(args []string) ([]string, ReportRef, error) {
	var rest []string
	var report ReportRef
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if name != "--report" {
			rest = append(rest, args[i])
			continue
		}
		if !report.IsZero() {
			return nil, ReportRef{}, fmt.Errorf("--report is given twice")
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, ReportRef{}, fmt.Errorf("--report needs a report id, like --report 12")
			}
			i++
			value = args[i]
		}
		r, err := mxid.ParseReportRef(value)
		if err != nil {
			return nil, ReportRef{}, fmt.Errorf("--report: %w", err)
		}
		report = r
	}
	return rest, report, nil
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
