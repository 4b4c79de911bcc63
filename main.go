// Command gavel is a Matrix moderation bot for Synapse homeservers: it
// posts every abuse report into a moderators' room, once, and runs their
// commands against Synapse's admin API.
//
//	gavel -config config.yaml
//	gavel -check -config config.yaml
//	gavel -version
//	gavel audit -config config.yaml [-since 30d] [-format csv|json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/preflight"
	"github.com/gavel-bot/gavel/standby"
	"github.com/gavel-bot/gavel/store"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module and VCS information Go records.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "audit" {
		return runAudit(args[1:], stdout, stderr)
	}
	flags := flag.NewFlagSet("gavel", flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", "config.yaml", "the configuration file (YAML or JSON)")
	showVersion := flags.Bool("version", false, "print the version and exit")
	check := flags.Bool("check", false, "check the configuration, the homeserver, the tokens, the room, encryption and the database, changing nothing; exit 1 at the first failure")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gavel [-config config.yaml] [-check] [-version]")
		fmt.Fprintln(stderr, "       gavel audit [-config config.yaml] [-since 30d] [-format csv|json]")
		fmt.Fprintln(stderr, "Gavel posts Synapse's abuse reports into a moderators' Matrix room and runs their commands.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "gavel: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "gavel", Version())
		return 0
	}

	if *check {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := preflight.Run(ctx, *configPath, stdout); err != nil {
			return 1
		}
		return 0
	}

	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "gavel:", err)
		return 1
	}
	log := newLogger(cfg.Logging, stderr)
	for _, warning := range cfg.Warnings() {
		log.Warn().Msg(warning)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runBot(ctx, cfg, log); err != nil {
		var startup *bot.StartupError
		if errors.As(err, &startup) || ctx.Err() == nil {
			log.Error().Msg(err.Error())
			fmt.Fprintln(stderr, "gavel:", err)
			return 1
		}
	}
	log.Info().Msg("Stopped")
	return 0
}

func runBot(ctx context.Context, cfg *config.Config, log zerolog.Logger) error {
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := store.Open(openCtx, cfg.Database.URI, log)
	cancel()
	if err != nil {
		return fmt.Errorf("database.uri: %w", err)
	}
	defer st.Close()
	elector, err := standby.New(st, cfg.Database.URI, Version(), log.With().Str("component", "standby").Logger())
	if err != nil {
		return err
	}
	defer elector.Close()
	// One term per stretch as the active instance: on PostgreSQL, a Gavel
	// that loses the lock, or stops on an error that is not its
	// configuration's (the database went away, say), stands by again and
	// lets another instance take over.
	var bo retry.Backoff
	for {
		term, err := elector.Wait(ctx)
		if err != nil {
			return nil // ctx ended while standing by
		}
		began := time.Now()
		err = runTerm(term, cfg, st, log)
		term.End()
		var startup *bot.StartupError
		switch {
		case ctx.Err() != nil:
			return nil
		case term.Lost():
			log.Warn().Str("instance", elector.Name()).Msg("Stopped acting: another instance may take over; standing by")
		case err == nil:
			return nil
		case errors.As(err, &startup) || !elector.Shared():
			return err
		default:
			log.Error().Err(err).Str("instance", elector.Name()).Msg("Stopped acting after an error: another instance may take over; standing by")
		}
		if time.Since(began) > time.Minute {
			bo.Reset()
		}
		if retry.Sleep(ctx, bo.Next()) != nil {
			return nil
		}
	}
}

// runTerm runs Gavel while term lasts.
func runTerm(term *standby.Term, cfg *config.Config, st *store.Store, log zerolog.Logger) error {
	ctx := term.Context()
	st.SetFence(term.Fence)
	defer st.SetFence(nil)
	b, err := bot.New(cfg, st, log, bot.Options{Version: Version(), Active: term.Check})
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while waiting for the homeserver
		}
		return err
	}
	return b.Run(ctx)
}

func newLogger(cfg config.Logging, out io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Level)
	var w io.Writer = out
	if cfg.Format == "pretty" {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.DateTime}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// Version returns Gavel's version: the one set at build time, or the
// module version, or the VCS revision Go recorded.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}
