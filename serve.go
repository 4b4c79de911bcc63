package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/standby"
	"github.com/gavel-bot/gavel/store"
)

// runBot runs Gavel until ctx ends: it opens the database, serves the
// metrics for as long as the process runs (a standby's too), and runs one
// term as the active instance after another (package standby). On
// PostgreSQL, a Gavel that loses the lock, or stops on an error that is
// not its configuration's (the database went away, say), stands by again
// and lets another instance take over.
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

	var current atomic.Pointer[bot.Bot] // the bot of the running term
	running := bot.Current(current.Load)
	m := metrics.ForBuild(buildInfo(), running.Sources(st))
	if addr := cfg.Metrics.Listen; addr != "" {
		ready := running.Readiness(cfg.Reports.PollInterval, st, elector.Status)
		srv, err := metrics.Listen(addr, m, ready)
		if err != nil {
			return fmt.Errorf("%w: free that address or choose another", err)
		}
		log.Info().Stringer("address", srv.Addr()).Msg("Metrics listening: /metrics, /healthz, /readyz")
		serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.Serve(serveCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error().Err(err).Msg("The metrics server stopped")
			}
		}()
		defer func() { stop(); <-done }()
	}

	var bo retry.Backoff
	for {
		term, err := elector.Wait(ctx)
		if err != nil {
			return nil // ctx ended while standing by
		}
		began := time.Now()
		err = runTerm(term, cfg, st, m, &current, log)
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

// runTerm runs Gavel while term lasts; current holds its bot once started.
func runTerm(term *standby.Term, cfg *config.Config, st *store.Store, m *metrics.Metrics, current *atomic.Pointer[bot.Bot], log zerolog.Logger) error {
	ctx := term.Context()
	st.SetFence(term.Fence)
	defer st.SetFence(nil)
	b, err := bot.New(cfg, st, log, bot.Options{Version: Version(), Active: term.Check, Metrics: m})
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while waiting for the homeserver
		}
		return err
	}
	current.Store(b)
	defer current.Store(nil)
	return b.Run(ctx)
}
