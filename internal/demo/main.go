// Command demo runs Gavel against a throwaway local Synapse (make demo).
//
// It starts Synapse with the test harness, creates the bot (a server
// admin), a moderator with a password, a management room, and a public room
// with a reported message; writes demo/config.yaml; prints how to log in;
// and runs Gavel in the foreground until Ctrl-C, then stops Synapse.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/synapsetest"
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
	cfg := config.Defaults()
	cfg.Matrix = config.Matrix{Homeserver: srv.URL, UserID: setup.bot.UserID, AccessToken: setup.bot.AccessToken, ManagementRoom: setup.room}
	cfg.Database.URI = filepath.Join(dir, "gavel.db")
	cfg.Reports.OnFirstStart = config.FirstStartPost
	data, err := cfg.Marshal()
	if err != nil {
		return err
	}
	data = append([]byte("# Written by make demo for a throwaway local Synapse.\n"), data...)
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		return err
	}

	fmt.Printf(`
Gavel demo
  homeserver:      %s   (Synapse %s, server name %s)
  moderator login: %s   password: %s
  management room: %s   ("Gavel moderators", you are in it)
  public room:     %s   (a reported spam message is waiting)
  config:          %s

Log in with any Matrix client (for example Element: "Sign in", edit the
homeserver to the URL above), open "Gavel moderators" and try:
  !help   !reports   !report %d   !quarantine room %s   !status
Report more messages in %s as @%s (password %s) to see them arrive.
Ctrl-C stops Gavel and Synapse.

`, srv.URL, srv.Version, srv.ServerName, setup.moderator.UserID.Localpart(), moderatorPassword,
		setup.room, setup.alias, configPath, setup.reportID, setup.alias, setup.alias, setup.reporter.Localpart(), moderatorPassword)

	cmd := exec.Command(gavel, "-config", configPath)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w (run make demo, which builds it)", gavel, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		fmt.Println("demo: stopped")
		return nil
	}
}

type demoSetup struct {
	bot, moderator *mautrix.Client
	reporter       id.UserID
	room           id.RoomID
	alias          id.RoomAlias
	reportID       int64
}

// prepare creates the accounts and rooms and files one report.
func prepare(ctx context.Context, srv *synapsetest.Server) (*demoSetup, error) {
	var s demoSetup
	var err error
	register := func(name string, admin bool) *mautrix.Client {
		if err != nil {
			return nil
		}
		var cli *mautrix.Client
		cli, err = srv.Register(ctx, name, moderatorPassword, admin)
		return cli
	}
	s.bot = register("gavel", true)
	s.moderator = register("moderator", false)
	spammer := register("spammer", false)
	reporter := register("reporter", false)
	if err != nil {
		return nil, err
	}
	s.reporter = reporter.UserID

	mgmt, err := s.moderator.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Gavel moderators", Invite: []id.UserID{s.bot.UserID}})
	if err != nil {
		return nil, err
	}
	s.room = mgmt.RoomID
	lobby, err := spammer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Lobby", RoomAliasName: "lobby"})
	if err != nil {
		return nil, err
	}
	s.alias = id.RoomAlias("#lobby:" + srv.ServerName)
	for _, cli := range []*mautrix.Client{reporter, s.moderator} {
		if _, err := cli.JoinRoomByID(ctx, lobby.RoomID); err != nil {
			return nil, err
		}
	}
	upload, err := spammer.UploadBytesWithName(ctx, []byte("definitely not malware"), "image/png", "prize.png")
	if err != nil {
		return nil, err
	}
	if _, err := spammer.SendMessageEvent(ctx, lobby.RoomID, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: "prize.png", URL: upload.ContentURI.CUString(),
	}); err != nil {
		return nil, err
	}
	spam, err := spammer.SendMessageEvent(ctx, lobby.RoomID, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "You won! Claim at https://free-prize.example <b>now</b> @room",
		Format: event.FormatHTML, FormattedBody: `You won! <a href="https://free-prize.example">Claim</a> <b>now</b> @room`,
	})
	if err != nil {
		return nil, err
	}
	url := reporter.BuildClientURL("v3", "rooms", lobby.RoomID, "report", spam.EventID)
	if _, err := reporter.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": "spam, and a phishing link", "score": -100}, nil); err != nil {
		return nil, err
	}
	var reports struct {
		EventReports []struct {
			ID int64 `json:"id"`
		} `json:"event_reports"`
	}
	admin := srv.Client(s.bot.AccessToken)
	if _, err := admin.MakeRequest(ctx, http.MethodGet, admin.BuildURL(mautrix.SynapseAdminURLPath{"v1", "event_reports"}), nil, &reports); err != nil {
		return nil, err
	}
	if len(reports.EventReports) == 0 {
		return nil, errors.New("the demo report was not recorded by Synapse")
	}
	s.reportID = reports.EventReports[0].ID
	return &s, nil
}
