package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
)

// desks measures a community desk (issue 24): the card in the desk
// against the server desk's in the same run, !desk refresh of a space of
// o.deskRooms rooms, and the memory that scope holds.
func (b *bench) desks(ctx context.Context) error {
	if b.o.deskRooms <= 0 {
		return nil
	}
	mod := b.w.Moderator
	progress("desks: a space of %d rooms", b.o.deskRooms)
	space, err := mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Bench space", CreationContent: map[string]any{"type": "m.space"}})
	if err != nil {
		return err
	}
	addChild := func(room id.RoomID) error {
		_, err := mod.SendStateEvent(ctx, space.RoomID, event.StateSpaceChild, string(room), map[string]any{"via": []string{mod.UserID.Homeserver()}})
		return err
	}
	if err := addChild(b.w.PublicRoom); err != nil {
		return err
	}
	if err := b.manyChildren(ctx, b.o.deskRooms-1, addChild); err != nil {
		return err
	}
	desk, err := mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Bench desk", Invite: []id.UserID{b.w.Bot.UserID}})
	if err != nil {
		return err
	}

	// The same Gavel without the desk, for the memory the scope holds.
	plain, _, err := b.startReady(ctx, "desk-none", defaultPoll)
	if err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	plainRSS, _ := plain.memory()
	plain.stop()

	p, mark, err := b.startReady(ctx, "desk", defaultPoll, func(c *config.Config) {
		c.Desks = []config.Desk{{Name: "bench", Room: desk.RoomID, Spaces: []string{string(space.RoomID)}}}
	})
	if err != nil {
		return err
	}
	defer p.stop()
	time.Sleep(5 * time.Second) // the first reading of the space is done by then
	deskRSS, _ := p.memory()

	// !desk refresh in the desk: the reply's time is the reading's.
	f, err := b.followIn(ctx, desk.RoomID)
	if err != nil {
		return err
	}
	var refreshes []time.Duration
	for range 5 {
		sent := time.Now()
		resp, err := mod.SendText(ctx, desk.RoomID, "!desk refresh")
		if err != nil {
			return err
		}
		reply, err := f.next(30*time.Second, func(e *event.Event) bool {
			rel := e.Content.AsMessage().RelatesTo
			return e.Sender == b.w.Bot.UserID && rel != nil && rel.GetReplyTo() == resp.EventID
		})
		if err != nil {
			return fmt.Errorf("!desk refresh: %w", err)
		}
		if body := reply.Content.AsMessage().Body; !strings.Contains(body, " rooms in scope") {
			return fmt.Errorf("!desk refresh answered %q", body)
		}
		refreshes = append(refreshes, time.Since(sent))
	}
	f.stop()
	b.add(fmt.Sprintf("!desk refresh → reply, a space of %d rooms", b.o.deskRooms), percentiles(refreshes, false), "≤ 2 s")
	b.add(fmt.Sprintf("RSS with a desk of %d rooms, less without", b.o.deskRooms), fmt.Sprintf("%+.1f MiB (%.1f against %.1f)", deskRSS-plainRSS, deskRSS, plainRSS), "≤ 5 MB")

	progress("desks: report -> card in both desks, %d reports", b.o.samples)
	deskMark, err := mod.SendNotice(ctx, desk.RoomID, "bench: desk cards")
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for i := range b.o.samples {
		time.Sleep(time.Duration(rng.Int64N(int64(3 * time.Second))))
		evt, err := b.spam(ctx, "desk latency "+strconv.Itoa(i))
		if err != nil {
			return err
		}
		if err := b.fileReport(ctx, evt); err != nil {
			return err
		}
	}
	server, err := b.cardDelays(ctx, b.w.ManagementRoom, mark)
	if err != nil {
		return err
	}
	community, err := b.cardDelays(ctx, desk.RoomID, deskMark.EventID)
	if err != nil {
		return err
	}
	b.add("report → card, server desk (a desk's report)", percentiles(server, true), "")
	b.add("report → card, community desk (same reports)", percentiles(community, true),
		fmt.Sprintf("p50 within 50 ms of the server desk's (%+d ms)", (median(community)-median(server)).Milliseconds()))
	return nil
}

// manyChildren creates n rooms, a few at a time, and adds each with add.
func (b *bench) manyChildren(ctx context.Context, n int, add func(id.RoomID) error) error {
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 4 {
		wg.Go(func() {
			for i := range work {
				resp, err := b.w.Moderator.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "bench " + strconv.Itoa(i)})
				if err == nil {
					err = add(resp.RoomID)
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		if i%250 == 0 {
			progress("desks: %d of %d rooms", i, n)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// cardDelays returns, for the cards Gavel posted in room since mark, the
// delay from each report's received_ts to the card, once there are
// o.samples of them.
func (b *bench) cardDelays(ctx context.Context, room id.RoomID, mark id.EventID) ([]time.Duration, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		msgs, err := b.sinceIn(ctx, room, mark)
		if err != nil {
			return nil, err
		}
		var out []time.Duration
		for _, m := range msgs {
			if _, ok := m.Content.Raw["gavel.report"]; !ok || isEdit(m) {
				continue
			}
			for _, received := range receivedTimes(m) {
				out = append(out, time.Duration(m.Timestamp-received)*time.Millisecond)
			}
		}
		if len(out) >= b.o.samples {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d cards in %s after 2 minutes, wanted %d", len(out), room, b.o.samples)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func isEdit(m *event.Event) bool {
	rel := m.Content.AsMessage().RelatesTo
	return rel != nil && rel.Type == event.RelReplace
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
