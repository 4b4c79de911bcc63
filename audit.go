package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/store"
)

// runAudit is "gavel audit": the audit trail (every action and case
// change Gavel recorded) on standard output, as CSV or JSON, oldest first,
// for records kept outside Matrix.
func runAudit(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("gavel audit", flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", "config.yaml", "the configuration file (YAML or JSON)")
	since := flags.String("since", "", "only entries newer than this: 90m, 6h or 30d (default: all)")
	format := flags.String("format", "csv", "csv or json")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gavel audit [-config config.yaml] [-since 30d] [-format csv|json]")
		fmt.Fprintln(stderr, "Writes Gavel's audit trail (actions and case changes: when, who, what, target, reason, report, result) to standard output.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *format != "csv" && *format != "json" {
		fmt.Fprintf(stderr, "gavel audit: -format must be csv or json (got %q)\n", *format)
		return 2
	}
	var from time.Time
	if *since != "" {
		d, ok := commands.ParseDuration(*since)
		if !ok {
			fmt.Fprintf(stderr, "gavel audit: -since: %q is not a duration like 90m, 6h or 30d\n", *since)
			return 2
		}
		from = time.Now().Add(-d)
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "gavel audit:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, cfg.Database.URI, zerolog.Nop())
	if err != nil {
		fmt.Fprintln(stderr, "gavel audit: database.uri:", err)
		return 1
	}
	defer st.Close()
	actions, err := st.Actions.Audit(ctx, store.AuditQuery{Since: from, Limit: 1 << 30})
	if err != nil {
		fmt.Fprintln(stderr, "gavel audit: reading the trail:", err)
		return 1
	}
	if err := writeAudit(stdout, *format, actions); err != nil {
		fmt.Fprintln(stderr, "gavel audit:", err)
		return 1
	}
	return 0
}

// auditRecord is one entry as gavel audit writes it.
type auditRecord struct {
	Time      time.Time `json:"time"`
	Moderator string    `json:"moderator"`
	Command   string    `json:"command"`
	Target    string    `json:"target"`
	Reason    string    `json:"reason"`
	ReportID  int64     `json:"report_id,omitempty"`
	// ReportKind is "event" or "user" when ReportID is set.
	ReportKind string `json:"report_kind,omitempty"`
	OK         bool   `json:"ok"`
	Result     string `json:"result"`
	EventID    string `json:"event_id"`
}

// writeAudit writes actions (newest first, as the store gives them)
// oldest first.
func writeAudit(w io.Writer, format string, actions []store.Action) error {
	records := make([]auditRecord, 0, len(actions))
	for i := len(actions) - 1; i >= 0; i-- {
		a := actions[i]
		records = append(records, auditRecord{Time: a.Time.UTC(), Moderator: string(a.Sender), Command: a.Command, Target: a.Target,
			Reason: a.Reason, ReportID: a.Report.ID, ReportKind: string(a.Report.Kind), OK: a.OK, Result: a.Result, EventID: string(a.EventID)})
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(records)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "moderator", "command", "target", "reason", "report_id", "ok", "result", "event_id", "report_kind"})
	for _, r := range records {
		report := ""
		if r.ReportID != 0 {
			report = strconv.FormatInt(r.ReportID, 10)
		}
		_ = cw.Write([]string{r.Time.Format(time.RFC3339), r.Moderator, csvSafe(r.Command), r.Target, csvSafe(r.Reason), report,
			strconv.FormatBool(r.OK), csvSafe(r.Result), r.EventID, r.ReportKind})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading moderator-typed text as a
// formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
