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
