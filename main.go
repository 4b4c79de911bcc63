// Command gavel is a Matrix moderation bot for Synapse homeservers: it
// posts every abuse report into a moderators' room, once, and runs their
// commands against Synapse's admin API.
//
//	gavel -config config.yaml
//	gavel -check -config config.yaml
//	gavel -healthcheck -config config.yaml
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
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/preflight"
)

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
	healthcheck := flags.Bool("healthcheck", false, "ask the running Gavel's /healthz (at metrics.listen) and exit 0 when it answers, else 1: a container's health check")
	check := flags.Bool("check", false, "check the configuration, the homeserver, the tokens, the room, encryption and the database, changing nothing; exit 1 at the first failure")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gavel [-config config.yaml] [-check] [-version]")
		fmt.Fprintln(stderr, "       gavel -healthcheck [-config config.yaml]")
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
		fmt.Fprintln(stdout, versionLine(buildInfo(), runtime.Version()))
		return 0
	}

	if *healthcheck {
		return runHealthcheck(*configPath, stderr)
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

func newLogger(cfg config.Logging, out io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.Level)
	// Milliseconds: what happened in one poll or one command is told apart
	// by them.
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	var w io.Writer = out
	if cfg.Format == "pretty" {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.DateTime + ".000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
