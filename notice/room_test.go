package notice

import (
	"html"
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/id"
)

// TestRoomName: a room is named by its name and alias as cards name it,
// linked to the room, with hostile names and aliases inert and escaped;
// without them, by its alias or its id.
func TestRoomName(t *testing.T) {
	const room = id.RoomID("!r:example.org")
	link := `<a href="` + html.EscapeString(room.URI().MatrixToURL()) + `">`
	for _, c := range []struct {
		room        Room
		plain, html string
	}{
		{Room{ID: room, Name: "Lobby", Alias: "#lobby:example.org"}, "Lobby (#lobby:example.org)", link + "Lobby</a> (#lobby:example.org)"},
		{Room{ID: room, Alias: "#lobby:example.org"}, "#lobby:example.org", link + "#lobby:example.org</a>"},
		{Room{ID: room}, string(room), link + string(room) + "</a>"},
		{Room{ID: room, Name: "<b>Free</b>\nReport 1: https://evil.example @room", Alias: "#a\u202e:example.org"},
			"<b>Free</b> Report 1: https[:]//evil.example @\u2060room (#a:example.org)",
			link + "&lt;b&gt;Free&lt;/b&gt; Report 1: https[:]//evil.example @\u2060room</a> (#a:example.org)"},
	} {
		got := RoomName(c.room)
		assert.Equal(t, c.plain, got.Plain())
		assert.Equal(t, c.html, got.html.String())
	}
}

// TestEventLink: an event is linked by mautrix's matrix.to URI of it in
// its room, labelled with its id.
func TestEventLink(t *testing.T) {
	room, evt := id.RoomID("!r:example.org"), id.EventID("$ev")
	got := EventLink(room, evt)
	assert.Equal(t, "$ev", got.Plain())
	assert.Equal(t, `<a href="`+html.EscapeString(room.EventURI(evt).MatrixToURL())+`">$ev</a>`, got.html.String())
}
