package commands

import (
	"fmt"
	"strings"
)

// Spec describes one command: its grammar and its help.
type Spec struct {
	// Name is the command as typed without prefix: "report delete".
	Name string
	// Usage is the command with its arguments: "report delete <id>".
	Usage string
	// Summary is one line for the command list.
	Summary string
	// Details is the longer help of "help <command>".
	Details string

	parse func(args []string) (Command, error)
}

// Specs lists every command, in the order help shows them.
var Specs = []Spec{
	{
		Name: "help", Usage: "help [command]",
		Summary: "list the commands, or explain one",
		Details: "With a command name (help quarantine, help report delete) shows how that command is used.",
		parse: func(args []string) (Command, error) {
			return Help{Topic: strings.ToLower(strings.Join(args, " "))}, nil
		},
	},
	{
		Name: "reports", Usage: "reports [--user @reporter] [--room !room|#alias] [--sender @user] [--limit N]",
		Summary: "list open reports, newest first",
		Details: fmt.Sprintf("Lists the event reports open in Synapse, newest first, %d by default and at most %d (--limit). "+
			"--user keeps reports filed by that user, --sender reports about that user's events, --room reports in that room. "+
			"Users and rooms may be given as ids, aliases or matrix.to links.", DefaultReportsLimit, MaxReportsLimit),
		parse: func(args []string) (Command, error) { return parseReportsFlags(args) },
	},
	{
		Name: "report show", Usage: "report [show] <id>",
		Summary: "show one report with the reported content",
		Details: "Shows the report, who filed it and why, and the reported event's content (as inert text).",
		parse: func(args []string) (Command, error) {
			id, err := oneReportID(args)
			return ShowReport{ID: id}, err
		},
	},
	{
		Name: "report delete", Usage: "report delete <id>",
		Summary: "delete a report in Synapse",
		Details: "Deletes the report from Synapse's list of open reports. The reported event is not touched.",
		parse: func(args []string) (Command, error) {
			id, err := oneReportID(args)
			return DeleteReport{ID: id}, err
		},
	},
	{
		Name: "quarantine media", Usage: "quarantine media <mxc://server/media_id | server media_id | media_id>",
		Summary: "quarantine one media item",
		Details: "Quarantined media can no longer be downloaded from this homeserver. A bare media id means this server's media.",
		parse: func(args []string) (Command, error) {
			m, err := parseMedia(args)
			return QuarantineMedia{Media: m}, err
		},
	},
	{
		Name: "unquarantine media", Usage: "unquarantine media <mxc://server/media_id>",
		Summary: "lift the quarantine of one media item",
		parse: func(args []string) (Command, error) {
			m, err := parseMedia(args)
			return UnquarantineMedia{Media: m}, err
		},
	},
	{
		Name: "quarantine room", Usage: "quarantine room <!room:server | #alias:server>",
		Summary: "quarantine all media in a room",
		Details: "Quarantines every media item referenced by the room's unencrypted events, except protected media.",
		parse: func(args []string) (Command, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("give exactly one room")
			}
			r, err := parseRoom(args[0])
			return QuarantineRoom{Room: r}, err
		},
	},
	{
		Name: "quarantine user", Usage: "quarantine user <@user:server>",
		Summary: "quarantine all media a local user uploaded",
		Details: "Quarantines every media item the user uploaded to this homeserver, except protected media.",
		parse: func(args []string) (Command, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("give exactly one user")
			}
			u, err := parseUser(args[0])
			return QuarantineUser{User: u}, err
		},
	},
	{
		Name: "protect media", Usage: "protect media <mxc://server/media_id | media_id>",
		Summary: "protect one local media item from quarantine",
		Details: "Protected media is skipped by quarantine room and quarantine user. Only this server's media can be protected.",
		parse: func(args []string) (Command, error) {
			m, err := parseMedia(args)
			return ProtectMedia{Media: m}, err
		},
	},
	{
		Name: "unprotect media", Usage: "unprotect media <mxc://server/media_id | media_id>",
		Summary: "remove the protection again",
		parse: func(args []string) (Command, error) {
			m, err := parseMedia(args)
			return UnprotectMedia{Media: m}, err
		},
	},
	{
		Name: "status", Usage: "status",
		Summary: "Gavel's and Synapse's versions, the last poll, open reports",
		parse: func(args []string) (Command, error) {
			if len(args) > 0 {
				return nil, fmt.Errorf("status takes no arguments")
			}
			return Status{}, nil
		},
	},
}

func oneReportID(args []string) (int64, error) {
	if len(args) != 1 {
		return 0, fmt.Errorf("give exactly one report id, like 12")
	}
	return parseReportID(args[0])
}

// Lookup returns the specs that a help topic names: the command itself, or
// all its subcommands ("quarantine" gives quarantine media, room and user).
func Lookup(topic string) []Spec {
	topic = strings.Join(strings.Fields(strings.ToLower(topic)), " ")
	var found []Spec
	for _, s := range Specs {
		if s.Name == topic || strings.HasPrefix(s.Name, topic+" ") {
			found = append(found, s)
		}
	}
	return found
}

func spec(name string) Spec {
	for _, s := range Specs {
		if s.Name == name {
			return s
		}
	}
	panic("commands: no spec named " + name)
}
