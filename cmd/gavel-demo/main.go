// Command demo runs Gavel against a throwaway local Synapse (make demo).
//
// It starts Synapse with the test harness, creates the bot (a server
// admin), a moderator with a password, a management room, and a public
// room with a reported message and a report of the room; gives the bot
// the power to publish its command descriptions in the management room;
// writes demo/config.yaml (with synapse.database, so that room reports
// show); prints how to log in; and runs Gavel in the foreground until
// Ctrl-C, then stops Synapse.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

const moderatorPassword = "gavel-demo"

func main() {
	gavel := flag.String("gavel", "bin/gavel", "the gavel binary to run")
	port := flag.Int("port", 8008, "the loopback port for Synapse")
	dir := flag.String("dir", "demo", "where to write the demo config and database")
	flag.Parse()
	if err := run(*gavel, *port, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(gavel string, port int, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	fmt.Println("demo: starting Synapse (the first run installs it, about a minute)…")
	srv, err := synapsetest.Start(ctx, synapsetest.Options{ServerName: "localhost", Port: port})
	if err != nil {
		return fmt.Errorf("starting Synapse: %w (is port %d free? make demo DEMO_PORT=8448 picks another)", err, port)
	}
	defer srv.Stop()

	setup, err := prepare(ctx, srv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Each demo starts from a fresh Synapse, so the old state goes too.
	_ = os.Remove(filepath.Join(dir, "gavel.db"))
	configPath := filepath.Join(dir, "config.yaml")
	cfg := setup.Config()
	cfg.Database.URI = filepath.Join(dir, "gavel.db")
	cfg.Reports.OnFirstStart = config.FirstStartPost
	// Synapse has no admin API for room reports: Gavel reads them from
	// its database (the chroot's file, as seen from the host).
	cfg.Synapse.Database = srv.DatabasePath()
	if err := synapsetest.WriteConfig(configPath, &cfg, "Written by make demo for a throwaway local Synapse."); err != nil {
		return err
	}

	fmt.Printf(`
Gavel demo
  homeserver:      %s   (Synapse %s, server name %s)
  moderator login: %s   password: %s
  management room: %s   ("Gavel moderators", you are in it)
  public room:     %s   (a reported spam message and a report of the room are waiting)
  config:          %s

Log in with any Matrix client (for example Element: "Sign in", edit the
homeserver to the URL above), open "Gavel moderators" and try:
  !help   !reports   !report %d   !quarantine room %s   !status
Report more messages in %s as @%s (password %s) to see them arrive.
Ctrl-C stops Gavel and Synapse.

`, srv.URL, srv.Version, srv.ServerName, setup.Moderator.UserID.Localpart(), moderatorPassword,
		setup.ManagementRoom, setup.PublicAlias, configPath, setup.reportID, setup.PublicAlias, setup.PublicAlias, setup.Reporter.UserID.Localpart(), moderatorPassword)

	// Gavel logs to stderr.
	p, err := synapsetest.StartBinary(gavel, configPath, os.Stderr)
	if err != nil {
		return fmt.Errorf("%w (run make demo, which builds it)", err)
	}
	select {
	case <-p.Done():
		return p.Wait()
	case <-ctx.Done():
		_ = p.Stop()
		fmt.Println("demo: stopped")
		return nil
	}
}

type demoSetup struct {
	*synapsetest.World
	reportID int64
}

// prepare creates the accounts (all with moderatorPassword) and rooms, and
// files one report.
func prepare(ctx context.Context, srv *synapsetest.Server) (*demoSetup, error) {
	w, err := srv.NewWorld(ctx, synapsetest.WorldOptions{
		Password:              moderatorPassword,
		ManagementRoomName:    "Gavel moderators",
		PublicAlias:           "lobby",
		ModeratorInPublicRoom: true,
	})
	if err != nil {
		return nil, err
	}
	if err := letBotDescribeCommands(ctx, w); err != nil {
		return nil, err
	}
	s := demoSetup{World: w}
	spammer, lobby := w.Spammer, w.PublicRoom
	upload, err := spammer.UploadBytesWithName(ctx, []byte("definitely not malware"), "image/png", "prize.png")
	if err != nil {
		return nil, err
	}
	if _, err := spammer.SendMessageEvent(ctx, lobby, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: "prize.png", URL: upload.ContentURI.CUString(),
	}); err != nil {
		return nil, err
	}
	spam, err := spammer.SendMessageEvent(ctx, lobby, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "You won! Claim at https://free-prize.example <b>now</b> @room",
		Format: event.FormatHTML, FormattedBody: `You won! <a href="https://free-prize.example">Claim</a> <b>now</b> @room`,
	})
	if err != nil {
		return nil, err
	}
	if err := w.Report(ctx, spam.EventID, "spam, and a phishing link"); err != nil {
		return nil, err
	}
	if s.reportID, err = w.ReportID(ctx, spam.EventID); err != nil {
		return nil, fmt.Errorf("the demo report was not recorded by Synapse: %w", err)
	}
	// Room reports have no admin API: Gavel reads this one from Synapse's
	// database (synapse.database).
	if err := w.ReportRoom(ctx, "the whole room is a prize scam"); err != nil {
		return nil, fmt.Errorf("reporting the demo room: %w", err)
	}
	return &s, nil
}

// letBotDescribeCommands gives the bot, as the moderator who created the
// management room, the power level that the command descriptions for
// clients (MSC4391 state events) need there, so that the demo shows them.
func letBotDescribeCommands(ctx context.Context, w *synapsetest.World) error {
	var pl event.PowerLevelsEventContent
	if err := w.Moderator.StateEvent(ctx, w.ManagementRoom, event.StatePowerLevels, "", &pl); err != nil {
		return fmt.Errorf("reading the management room's power levels: %w", err)
	}
	pl.SetUserLevel(w.Bot.UserID, pl.GetEventLevel(commands.DescriptionType))
	if _, err := w.Moderator.SendStateEvent(ctx, w.ManagementRoom, event.StatePowerLevels, "", &pl); err != nil {
		return fmt.Errorf("giving the bot the power to describe its commands: %w", err)
	}
	return nil
}
