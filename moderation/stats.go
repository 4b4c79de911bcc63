package moderation

import (
	"context"
	"time"

	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/stats"
	"github.com/gavel-bot/gavel/store"
)

// The team's picture (!stats): figures from Gavel's own database over a
// window, in the time zone of stats.timezone, as a message or a chart.

func (m *Moderator) stats(ctx context.Context, a Actor, c commands.Stats) Outcome {
	until := time.Now()
	s, err := stats.Gather(ctx, m.Store, until.Add(-c.Window()), until, m.statsZone())
	if err != nil {
		m.Log.Warn().Err(err).Msg("Could not read the figures for !stats")
		return Failed("Gavel could not read its database. Try again in a moment.")
	}
	if !c.Chart {
		return Done(notice.Figures(s, until))
	}
	room := m.ManagementRoom
	if a.Desk != nil {
		room = a.Desk.Room
	}
	img, err := m.UploadChart(ctx, room, s)
	if err != nil {
		m.Log.Warn().Err(err).Msg("Could not upload the chart for !stats")
		return Failed("Not posted: %s", m.explain(err, "the chart's upload"))
	}
	out := Done(notice.New().Raw(img.Body))
	out.Image = img
	return out
}

// statsZone is the time zone the figures' days are cut in.
func (m *Moderator) statsZone() *time.Location {
	if m.StatsZone != nil {
		return m.StatsZone
	}
	return time.UTC
}

// UploadChart draws the chart of s and uploads it through Gavel's
// account for room: as an encrypted attachment when room is encrypted.
// It returns the image to post. The upload is
// not part of the outbox: when Gavel stops between the upload and the
// queuing of its message, the chart is uploaded again next time and the
// first upload stays unused.
func (m *Moderator) UploadChart(ctx context.Context, room id.RoomID, s notice.Stats) (*notice.Image, error) {
	chart, err := stats.Draw(s)
	if err != nil {
		return nil, err
	}
	name := "gavel-stats-" + s.Until.Format("2006-01-02") + ".png"
	img := &notice.Image{
		Body: "Chart: reports received per day and time to resolve, " + s.Since.Format("2 Jan") + " to " + s.Until.Format("2 Jan 2006") + " (" + name + ")",
		Info: event.FileInfo{MimeType: "image/png", Width: chart.Width, Height: chart.Height, Size: len(chart.PNG)},
	}
	encrypted := m.Encrypted != nil && m.Encrypted(room)
	if !encrypted {
		resp, err := m.Matrix.UploadBytesWithName(ctx, chart.PNG, "image/png", name)
		if err != nil {
			return nil, err
		}
		img.URL = resp.ContentURI.CUString()
		return img, nil
	}
	file := attachment.NewEncryptedFile()
	file.EncryptInPlace(chart.PNG) // its size is in the info already
	resp, err := m.Matrix.UploadBytesWithName(ctx, chart.PNG, "application/octet-stream", name)
	if err != nil {
		return nil, err
	}
	img.File = &event.EncryptedFileInfo{EncryptedFile: *file, URL: resp.ContentURI.CUString()}
	return img, nil
}

// PostWeekly queues the weekly picture for the Monday due in the server
// desk: the figures of the week before due and their chart, once per
// week: the kv key store.KVWeeklyStats names the week queued last, and
// is set with the two messages in one transaction. Called again for a
// week already queued (a restart that Monday) it does nothing; a stop
// between the chart's upload and the queuing uploads it again.
func (m *Moderator) PostWeekly(ctx context.Context, due time.Time) error {
	week := stats.Week(due)
	if done, err := m.Store.KV.Get(ctx, store.KVWeeklyStats); err != nil {
		return err
	} else if done == week {
		return nil
	}
	s, err := stats.Gather(ctx, m.Store, due.AddDate(0, 0, -7), due, m.statsZone())
	if err != nil {
		return err
	}
	room := m.ManagementRoom
	img, err := m.UploadChart(ctx, room, s)
	if err != nil {
		return err
	}
	text := notice.New().Bold("Weekly picture, " + week + ". ").Append(notice.Figures(s, due))
	err = m.Store.Outbox.EnqueueAllAndSet(ctx, store.KVWeeklyStats, week,
		store.Message{Key: store.WeeklyStatsKey(week, false), Priority: store.PriorityNotice, RoomID: room, Content: text.Content(event.MsgNotice, nil)},
		store.Message{Key: store.WeeklyStatsKey(week, true), Priority: store.PriorityNotice, RoomID: room, Content: notice.ImageReplyIn(*img, "", "")})
	if err != nil {
		return err
	}
	if m.Notify != nil {
		m.Notify()
	}
	m.Log.Info().Str("week", week).Msg("Queued the weekly picture")
	return nil
}

// Weekly posts the weekly picture every Monday at 09:00 in StatsZone
// until ctx ends, when WeeklyStats is on; else it returns at once.
func (m *Moderator) Weekly(ctx context.Context) {
	if !m.WeeklyStats {
		return
	}
	clock := m.Clock
	if clock == nil {
		clock = stats.RealClock{}
	}
	stats.RunWeekly(ctx, clock, m.statsZone(), m.PostWeekly, m.Log)
}
