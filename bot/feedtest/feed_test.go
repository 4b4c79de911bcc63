package feedtest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

func TestReportBecomesANotice(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam(bottest.Hostile)
	e.Report(spam, "spam <b>bold</b> https://reason.example")
	id := e.ReportID(spam)

	notices := e.WaitNotices(1)
	require.Len(t, notices, 1)
	n := notices[0]
	msg := n.Content.AsMessage()
	assert.Equal(t, event.MsgText, msg.MsgType, "m.text, so moderators are notified")

	// The machine-readable field.
	f := bottest.Field(t, n)
	assert.Equal(t, id, f.ReportID)
	assert.Equal(t, spam, f.EventID)
	assert.Equal(t, e.Public, f.RoomID)
	assert.Equal(t, e.Spammer.UserID, f.Sender)
	assert.Equal(t, e.Reporter.UserID, f.Reporter)

	// Nothing can ping anyone.
	mentions, ok := n.Content.Raw["m.mentions"].(map[string]any)
	require.True(t, ok, "m.mentions is set")
	assert.Empty(t, mentions)

	// The plain body names everything.
	for _, want := range []string{"Report " + bottest.Itoa(id), string(e.Reporter.UserID), string(e.Spammer.UserID),
		"Free <b>stuff</b>", "spam <b>bold</b> https[:]//reason.example", "score -100", "m.room.message (m.text)"} {
		assert.Contains(t, msg.Body, want)
	}
	// The HTML shows the hostile content as text only.
	html := msg.FormattedBody
	assert.Contains(t, html, "&lt;img src=&#34;https[:]//evil.example/x.png&#34;&gt;")
	assert.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, html, "Free &lt;b&gt;stuff&lt;/b&gt;")
	assert.NotContains(t, html, "<img")
	assert.NotContains(t, html, "<script")
	assert.NotContains(t, html, "https://evil.example")
	assert.NotContains(t, html, "https://phish.example")
	assert.NotContains(t, html, `href="https://matrix.to/#/@mod:example.org"`, "no links taken from the content")
	// Gavel's own links.
	assert.Contains(t, html, `href="`+e.Spammer.UserID.URI().MatrixToURL()+`"`)
	assert.Contains(t, html, `href="`+e.Public.URI().MatrixToURL()+`"`)
	assert.Contains(t, html, `href="`+e.Public.EventURI(spam).MatrixToURL()+`"`)
	assert.Contains(t, html, "<blockquote><pre><code>")
}

func TestNoticeTruncatesLongContent(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	long := strings.Repeat("spam ", 400) + "THE END"
	spam := e.Spam(long)
	e.Report(spam, "")
	msg := e.WaitNotices(1)[0].Content.AsMessage()
	assert.NotContains(t, msg.Body, "THE END")
	assert.Contains(t, msg.Body, "…")
	assert.Contains(t, msg.Body, "Reason: (none given)")
	assert.Less(t, len(msg.Body), 1500)
}

func TestFirstStartSkipsOpenReports(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	// Reports filed before Gavel ever ran. Other tests' reports on the
	// shared server are open too: the summary counts all of them.
	e.Report(e.Spam("old spam one"), "old")
	e.Report(e.Spam("old spam two"), "old")
	page, err := e.Admin.ListEventReports(bg, bottest.AllReports)
	require.NoError(t, err)

	e.Start()
	var summary string
	require.Eventually(t, func() bool {
		for _, evt := range e.BotMessages() {
			if body := evt.Content.AsMessage().Body; strings.Contains(body, "already open") {
				summary = body
			}
		}
		return summary != ""
	}, 30*time.Second, 100*time.Millisecond)
	assert.Contains(t, summary, bottest.Itoa(page.Total)+" reports were already open: `!reports` lists them.")

	fresh := e.Spam("new spam")
	e.Report(fresh, "new")
	notices := e.WaitNotices(1)
	require.Len(t, notices, 1, "only the new report gets a notice: %s", bottest.Describe(notices))
	assert.Equal(t, fresh, bottest.Field(t, notices[0]).EventID)
}

func TestFirstStartPostsOpenReports(t *testing.T) {
	srv := bottest.NewServer(t)
	e := newEnv(t, srv)
	e.Cfg.Reports.OnFirstStart = config.FirstStartPost
	first, second := e.Spam("one"), e.Spam("two")
	e.Report(first, "a")
	e.Report(second, "b")
	e.Start()
	notices := e.WaitNotices(2)
	require.Len(t, notices, 2)
	assert.Equal(t, first, bottest.Field(t, notices[0]).EventID, "oldest first")
	assert.Equal(t, second, bottest.Field(t, notices[1]).EventID)
}

func TestEveryReportOnceUnderAFlood(t *testing.T) {
	srv := bottest.NewServer(t)
	e := newEnv(t, srv)
	e.Start()
	const n = 130 // more than one page of the listing
	for i := range n {
		e.Report(e.Spam("flood "+bottest.Itoa(int64(i))), "flood")
	}
	var notices []*event.Event
	require.Eventually(t, func() bool {
		notices = e.Notices()
		return len(notices) >= n
	}, 60*time.Second, 200*time.Millisecond)
	time.Sleep(time.Second) // give a duplicate the chance to appear
	notices = e.Notices()
	seen := map[int64]int{}
	for _, evt := range notices {
		seen[bottest.Field(t, evt).ReportID]++
	}
	assert.Len(t, seen, n)
	for reportID, count := range seen {
		assert.Equal(t, 1, count, "report %d", reportID)
	}
}
