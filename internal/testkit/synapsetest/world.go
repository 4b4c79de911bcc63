package synapsetest

// The pieces every Gavel test world is made of: the bot account and the
// people around it, the management room and a public room with something
// to report, a config file, and the gavel binary running on it. The bot
// package's tests, cmd/gavel-bench and internal/demo share them; nothing
// here needs a *testing.T except Binary.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
)

// WorldOptions shapes what NewWorld creates. The zero value gives the
// localparts gavel, moderator, spammer and reporter, each with a random
// password, a management room named "Moderators" and a public room named
// "Lobby" without an alias.
type WorldOptions struct {
	// Unique appends "-" and a random suffix, the same for the whole
	// world, to every localpart and to PublicAlias, so that worlds on a
	// shared server never collide. Tests set it.
	Unique bool
	// Password is every account's password; when empty each account gets
	// a random one.
	Password string
	// BotName and ModeratorName are the localparts (prefixes, with
	// Unique) of Gavel's account and of the moderator; defaults "gavel"
	// and "moderator".
	BotName, ModeratorName string
	// Members are localparts (prefixes, with Unique) of more users whom
	// the moderator invites into the management room and who join it, at
	// power 0.
	Members []string
	// ManagementRoomName is the management room's name; default
	// "Moderators".
	ManagementRoomName string
	// PublicRoomName is the public room's name; default "Lobby".
	PublicRoomName string
	// PublicAlias, when set, is the localpart of an alias for the public
	// room (#PublicAlias:server).
	PublicAlias string
	// ModeratorInPublicRoom makes the moderator join the public room too.
	ModeratorInPublicRoom bool
}

// World is a homeserver's cast for Gavel: a bot account that is a server
// admin and invited into a management room created by a moderator, and a
// public room created by a spammer, with a reporter in it.
type World struct {
	Server *Server
	// Bot is Gavel's account, a server admin, invited into the management
	// room (Gavel joins it when it starts).
	Bot         *mautrix.Client
	BotPassword string
	// Admin is the admin API as the bot.
	Admin *adminapi.Client
	// Moderator created the management room: power 100 there.
	Moderator         *mautrix.Client
	ModeratorPassword string
	// Members are WorldOptions.Members, in order: in the management room
	// at power 0.
	Members []*mautrix.Client
	// Spammer created the public room; Reporter joined it.
	Spammer, Reporter *mautrix.Client

	ManagementRoom id.RoomID
	PublicRoom     id.RoomID
	// PublicAlias is the public room's alias; empty without
	// WorldOptions.PublicAlias.
	PublicAlias id.RoomAlias
}

// NewWorld registers the accounts and creates the rooms that opts
// describes.
func (s *Server) NewWorld(ctx context.Context, opts WorldOptions) (*World, error) {
	suffix := ""
	if opts.Unique {
		suffix = "-" + randomString(8)
	}
	w := &World{Server: s}
	register := func(name string, admin bool) (*mautrix.Client, string, error) {
		password := opts.Password
		if password == "" {
			password = "pw-" + randomString(16)
		}
		cli, err := s.Register(ctx, name+suffix, password, admin)
		if err != nil {
			return nil, "", err
		}
		return cli, password, nil
	}
	var err error
	if w.Bot, w.BotPassword, err = register(cmp.Or(opts.BotName, "gavel"), true); err != nil {
		return nil, err
	}
	w.Admin = adminapi.Wrap(s.Client(w.Bot.AccessToken))
	if w.Moderator, w.ModeratorPassword, err = register(cmp.Or(opts.ModeratorName, "moderator"), false); err != nil {
		return nil, err
	}
	for _, name := range opts.Members {
		cli, _, err := register(name, false)
		if err != nil {
			return nil, err
		}
		w.Members = append(w.Members, cli)
	}
	if w.Spammer, _, err = register("spammer", false); err != nil {
		return nil, err
	}
	if w.Reporter, _, err = register("reporter", false); err != nil {
		return nil, err
	}

	invite := []id.UserID{w.Bot.UserID}
	for _, m := range w.Members {
		invite = append(invite, m.UserID)
	}
	mgmt, err := w.Moderator.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: cmp.Or(opts.ManagementRoomName, "Moderators"), Invite: invite})
	if err != nil {
		return nil, fmt.Errorf("creating the management room: %w", err)
	}
	w.ManagementRoom = mgmt.RoomID
	for _, m := range w.Members {
		if _, err := m.JoinRoomByID(ctx, w.ManagementRoom); err != nil {
			return nil, fmt.Errorf("%s joining the management room: %w", m.UserID, err)
		}
	}

	req := &mautrix.ReqCreateRoom{Preset: "public_chat", Name: cmp.Or(opts.PublicRoomName, "Lobby")}
	if opts.PublicAlias != "" {
		req.RoomAliasName = opts.PublicAlias + suffix
		w.PublicAlias = id.NewRoomAlias(req.RoomAliasName, s.ServerName)
	}
	pub, err := w.Spammer.CreateRoom(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("creating the public room: %w", err)
	}
	w.PublicRoom = pub.RoomID
	joiners := []*mautrix.Client{w.Reporter}
	if opts.ModeratorInPublicRoom {
		joiners = append(joiners, w.Moderator)
	}
	for _, cli := range joiners {
		if _, err := cli.JoinRoomByID(ctx, w.PublicRoom); err != nil {
			return nil, fmt.Errorf("%s joining the public room: %w", cli.UserID, err)
		}
	}
	return w, nil
}

// Config returns Gavel's default configuration for this world: the
// homeserver, the bot's user id and token, and the management room.
func (w *World) Config() config.Config {
	cfg := config.Defaults()
	cfg.Matrix = config.Matrix{
		Homeserver:     w.Server.URL,
		UserID:         w.Bot.UserID,
		AccessToken:    w.Bot.AccessToken,
		ManagementRoom: w.ManagementRoom,
	}
	return cfg
}

// Spam sends a text message as the spammer into the public room.
func (w *World) Spam(ctx context.Context, body string) (id.EventID, error) {
	resp, err := w.Spammer.SendText(ctx, w.PublicRoom, body)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// Report files a report, score -100, as the reporter about an event in
// the public room.
func (w *World) Report(ctx context.Context, eventID id.EventID, reason string) error {
	return w.Server.FileReport(ctx, w.Reporter, w.PublicRoom, eventID, reason, -100)
}

// ReportID returns Synapse's id of the newest report about eventID in the
// public room.
func (w *World) ReportID(ctx context.Context, eventID id.EventID) (int64, error) {
	page, err := w.Admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: w.PublicRoom})
	if err != nil {
		return 0, err
	}
	for _, r := range page.Items {
		if r.EventID == eventID {
			return r.ID, nil
		}
	}
	return 0, fmt.Errorf("synapse has no report about %s", eventID)
}

// ReportUser files a user report as the reporter about target.
func (w *World) ReportUser(ctx context.Context, target id.UserID, reason string) error {
	return w.Server.FileUserReport(ctx, w.Reporter, target, reason)
}

// UserReportID returns Synapse's id of the newest user report about
// target.
func (w *World) UserReportID(ctx context.Context, target id.UserID) (int64, error) {
	page, err := w.Admin.ListUserReports(ctx, adminapi.UserReportsQuery{TargetUserID: target, PageQuery: adminapi.PageQuery{Limit: 1}})
	if err != nil {
		return 0, err
	}
	if len(page.Items) == 0 {
		return 0, fmt.Errorf("synapse has no user report about %s", target)
	}
	return page.Items[0].ID, nil
}

// FileUserReport files a report as reporter about the account target,
// with POST /_matrix/client/v3/users/{userId}/report (Synapse 1.133 and
// later).
func (s *Server) FileUserReport(ctx context.Context, reporter *mautrix.Client, target id.UserID, reason string) error {
	url := reporter.BuildClientURL("v3", "users", target, "report")
	_, err := reporter.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": reason}, nil)
	return err
}

// ReportRoom files a room report as the reporter about the public room.
func (w *World) ReportRoom(ctx context.Context, reason string) error {
	url := w.Reporter.BuildClientURL("v3", "rooms", w.PublicRoom, "report")
	_, err := w.Reporter.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": reason}, nil)
	return err
}

// NoScore, as FileReport's score, files a report without one.
const NoScore = math.MinInt

// FileReport files a report as reporter about eventID in roomID, with
// POST /_matrix/client/v3/rooms/{roomId}/report/{eventId}. score is from
// -100 (most offensive) to 0, or NoScore.
func (s *Server) FileReport(ctx context.Context, reporter *mautrix.Client, roomID id.RoomID, eventID id.EventID, reason string, score int) error {
	body := map[string]any{"reason": reason}
	if score != NoScore {
		body["score"] = score
	}
	url := reporter.BuildClientURL("v3", "rooms", roomID, "report", eventID)
	_, err := reporter.MakeRequest(ctx, http.MethodPost, url, body, nil)
	return err
}

// Login logs a user in with a password: a new device of the account. The
// client keeps the user id, device id and token.
func (s *Server) Login(ctx context.Context, userID id.UserID, password string) (*mautrix.Client, error) {
	cli := s.Client("")
	_, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: userID.Localpart()},
		Password:         password,
		StoreCredentials: true,
	})
	if err != nil {
		return nil, fmt.Errorf("logging in as %s: %w", userID, err)
	}
	return cli, nil
}

// WriteConfig writes cfg as YAML to path, readable by its owner only.
// Each header line, when given, goes first as a comment.
func WriteConfig(path string, cfg *config.Config, header ...string) error {
	data, err := cfg.Marshal()
	if err != nil {
		return err
	}
	var comment strings.Builder
	for _, line := range header {
		comment.WriteString("# " + line + "\n")
	}
	return os.WriteFile(path, append([]byte(comment.String()), data...), 0o600)
}

// BuildBinary builds the gavel command into dir as make build does:
// static, without cgo, with pure-Go Olm, -trimpath (the flags decide
// whether Go's build cache serves the compiled packages of one build to
// the other). It returns the binary's path. The working directory must be
// inside Gavel's module.
func BuildBinary(dir string) (string, error) {
	binary := filepath.Join(dir, "gavel")
	cmd := exec.Command("go", "build", "-tags", "goolm", "-trimpath", "-o", binary, "github.com/gavel-bot/gavel")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return binary, nil
}

var built struct {
	once   sync.Once
	dir    string
	binary string
	err    error
}

// Binary builds the gavel command once per test process (BuildBinary
// into a temporary directory) and returns its path. RemoveBinary deletes
// it; a TestMain calls that after m.Run.
func Binary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "gavel-bin-"); built.err == nil {
			built.binary, built.err = BuildBinary(built.dir)
		}
	})
	if built.err != nil {
		t.Fatalf("building the gavel binary: %v", built.err)
	}
	return built.binary
}

// RemoveBinary deletes the binary Binary built, if any.
func RemoveBinary() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// Process is a running gavel binary.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// processStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const processStopTimeout = 30 * time.Second

// StartBinary runs binary -config configPath, its stdout and stderr (Gavel
// logs to stderr) going to log. The process gets SIGKILL if the caller
// dies first.
func StartBinary(binary, configPath string, log io.Writer) (*Process, error) {
	cmd := exec.Command(binary, "-config", configPath)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns how it ended, as
// exec.Cmd.Wait does.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Signal sends sig without waiting.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM, as a service manager would, and waits for the
// process to exit, sending SIGKILL after 30 seconds. It returns Wait's
// error, or one saying it had to kill.
func (p *Process) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(processStopTimeout):
		p.Kill()
		return errors.New("gavel was still running " + processStopTimeout.String() + " after SIGTERM; killed it")
	}
}
