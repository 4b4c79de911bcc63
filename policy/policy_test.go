package policy

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// ruleEvent is a state event of a list room with raw content, as sync
// and /state give it.
func ruleEvent(room id.RoomID, typ, key, raw string) *event.Event {
	evt := &event.Event{Type: event.Type{Type: typ, Class: event.StateEventType}, RoomID: room, StateKey: &key,
		Sender: "@mod:example.org", Timestamp: 1_700_000_000_000, ID: id.EventID("$" + key)}
	evt.Content.VeryRaw = json.RawMessage(raw)
	return evt
}

func ban(entity, reason string) string {
	b, _ := json.Marshal(map[string]string{"entity": entity, "recommendation": "m.ban", "reason": reason})
	return string(b)
}

const mainRoom, otherRoom = id.RoomID("!main:example.org"), id.RoomID("!other:example.org")

func newIndex() *Index {
	return NewIndex([]ListConfig{{Room: mainRoom, Shortcode: "main", Write: true}, {Room: otherRoom, Shortcode: "community"}})
}

func TestMatchLiteralAndGlob(t *testing.T) {
	ix := newIndex()
	ix.Load(mainRoom, []*event.Event{
		ruleEvent(mainRoom, "m.policy.rule.user", "a", ban("@spammer:example.org", "spam")),
		ruleEvent(mainRoom, "m.policy.rule.server", "b", ban("*.spam.example", "spam server")),
		ruleEvent(mainRoom, "m.room.name", "", `{"name":"x"}`),
	})
	ix.Load(otherRoom, []*event.Event{
		ruleEvent(otherRoom, "org.matrix.mjolnir.rule.user", "c", ban("@*:spam.example", "")),
		ruleEvent(otherRoom, "m.room.rule.room", "d", ban("!bad:example.org", "bad room")),
		ruleEvent(otherRoom, "m.policy.rule.user", "e", ban("@sp?mmer:example.org", "")),
	})
	got := ix.Match(Entities{User: "@spammer:example.org"})
	require.Len(t, got, 2)
	assert.Equal(t, "main", got[0].Rule.List)
	assert.Equal(t, "spam", got[0].Rule.Reason)
	assert.Equal(t, "community", got[1].Rule.List)
	assert.True(t, got[1].Rule.IsGlob())

	got = ix.Match(Entities{User: "@x:spam.example", Server: "a.spam.example", Room: "!bad:example.org"})
	require.Len(t, got, 3)
	assert.Equal(t, "*.spam.example", got[0].Rule.Entity)  // main first
	assert.Equal(t, "@*:spam.example", got[1].Rule.Entity) // then community's, users first
	assert.Equal(t, Room, got[2].Rule.Kind)

	assert.Empty(t, ix.Match(Entities{User: "@friend:example.org", Server: "spam.example", Room: "!good:example.org"}))
	// Case-sensitive, globs too, as Draupnir matches them.
	assert.Empty(t, ix.Match(Entities{User: "@x:SPAM.example", Server: "A.spam.EXAMPLE", Room: "!BAD:example.org"}))
	assert.Len(t, ix.Match(Entities{User: "@spaammer:example.org"}), 0, "? is one character")
	assert.Len(t, ix.Match(Entities{User: "@spummer:example.org"}), 1)
	assert.Empty(t, ix.Match(Entities{}))
}

func TestApplyChangesAndRemoves(t *testing.T) {
	ix := newIndex()
	ix.Load(mainRoom, nil)
	assert.True(t, ix.Apply(ruleEvent(mainRoom, "m.policy.rule.user", "k", ban("@a:example.org", "one"))))
	assert.Len(t, ix.Match(Entities{User: "@a:example.org"}), 1)
	// The same state key, another entity: the old one no longer matches.
	ix.Apply(ruleEvent(mainRoom, "m.policy.rule.user", "k", ban("@b:*", "two")))
	assert.Empty(t, ix.Match(Entities{User: "@a:example.org"}))
	assert.Len(t, ix.Match(Entities{User: "@b:example.org"}), 1)
	// Empty content removes it, and is not invalid.
	ix.Apply(ruleEvent(mainRoom, "m.policy.rule.user", "k", `{}`))
	assert.Empty(t, ix.Match(Entities{User: "@b:example.org"}))
	assert.Equal(t, ListStats{Shortcode: "main", Room: mainRoom, Write: true, Loaded: true}, ix.Stats()[0])
	// Not a followed room, not a rule type.
	assert.False(t, ix.Apply(ruleEvent("!elsewhere:example.org", "m.policy.rule.user", "k", ban("@a:example.org", ""))))
	assert.False(t, ix.Apply(ruleEvent(mainRoom, "m.room.topic", "", `{"topic":"x"}`)))
}

func TestHostileRules(t *testing.T) {
	ix := newIndex()
	long := strings.Repeat("<b>@room</b>", 6000) // 66 KB
	ix.Load(mainRoom, []*event.Event{
		ruleEvent(mainRoom, "m.policy.rule.user", "html", ban("<a href='x'>@room</a>", long)),
		ruleEvent(mainRoom, "m.policy.rule.user", "toolong", ban("@"+strings.Repeat("a", MaxEntity), "")),
		ruleEvent(mainRoom, "m.policy.rule.user", "badglob", ban("@"+strings.Repeat("?", 1001)+"*", "")),
		ruleEvent(mainRoom, "m.policy.rule.user", "number", `{"entity":12,"recommendation":"m.ban"}`),
		ruleEvent(mainRoom, "m.policy.rule.user", "notobject", `[1,2]`),
		ruleEvent(mainRoom, "m.policy.rule.user", "noentity", `{"recommendation":"m.ban","org.matrix.msc4205.hashes":{"sha256":"x"}}`),
		ruleEvent(mainRoom, "m.policy.rule.server", "other", `{"entity":"x.example","recommendation":"org.example.watch"}`),
	})
	s := ix.Stats()[0]
	assert.Equal(t, 2, s.Rules)
	assert.Equal(t, 5, s.Invalid)
	rules, ok := ix.Rules("main", User, "")
	require.True(t, ok)
	require.Len(t, rules, 1)
	assert.Equal(t, "<a href='x'>@room</a>", rules[0].Entity) // kept as given: notice makes it inert
	assert.LessOrEqual(t, len([]rune(rules[0].Reason)), MaxReason)
	// A later valid rule under an invalid one's key is no longer counted.
	ix.Apply(ruleEvent(mainRoom, "m.policy.rule.user", "number", ban("@n:example.org", "")))
	assert.Equal(t, 4, ix.Stats()[0].Invalid)
	_, ok = ix.Rules("nope", "", "")
	assert.False(t, ok)
}

func TestEntityKindAndWriting(t *testing.T) {
	assert.Equal(t, User, EntityKind("@*:spam.example"))
	assert.Equal(t, Room, EntityKind("#room:example.org"))
	assert.Equal(t, Room, EntityKind("!id:example.org"))
	assert.Equal(t, Server, EntityKind("*.spam.example"))
	assert.Equal(t, "m.policy.rule.server", Server.Type().Type)
	assert.Len(t, StateKey("@a:example.org"), 43)
	assert.NotEqual(t, StateKey("@a:example.org"), StateKey("@b:example.org"))
	assert.Equal(t, "spam (case 12)", Reason("", "spam", "12"))
	assert.Equal(t, "spam", Reason("", "spam", ""))
	assert.Equal(t, "case 12", Reason("", "", "12"))
	assert.Equal(t, "[12] spam", Reason("[{report_id}] {reason}", "spam", "12"))
	assert.Equal(t, "spam", Reason("[{report_id}] {reason}", "spam", ""))
	assert.Equal(t, "spam, see", Reason("{reason}, see {report_id}", "spam", ""))
}

// bigIndex is a list of n rules, globs of them globs, spread over the
// kinds (the globs with ?, in users, one in ten).
func bigIndex(n, globs int) *Index {
	ix := newIndex()
	state := make([]*event.Event, 0, n)
	for i := range n {
		var entity, typ string
		switch i % 3 {
		case 0:
			typ, entity = "m.policy.rule.user", fmt.Sprintf("@user%d:server%d.example", i, i%500)
		case 1:
			typ, entity = "m.policy.rule.room", fmt.Sprintf("!room%d:server%d.example", i, i%500)
		default:
			typ, entity = "m.policy.rule.server", fmt.Sprintf("server%d.example", i)
		}
		if i < globs {
			switch i % 3 {
			case 0:
				entity = fmt.Sprintf("@*:spam%d.example", i)
			case 1:
				entity = fmt.Sprintf("!*:spam%d.example", i)
			default:
				entity = fmt.Sprintf("*.spam%d.example", i)
			}
			if i%10 == 0 { // a tenth with ? and two *: regular expressions
				entity = fmt.Sprintf("@spam??*:*.spam%d.example", i)
			}
		}
		state = append(state, ruleEvent(mainRoom, typ, fmt.Sprint(i), ban(entity, "spam")))
	}
	ix.Load(mainRoom, state)
	return ix
}

func TestBigIndex(t *testing.T) {
	ix := bigIndex(50_000, 1_000)
	assert.Equal(t, 50_000, ix.Stats()[0].Rules)
	got := ix.Match(Entities{User: "@user3000:server0.example", Room: "!x:spam4.example", Server: "a.spam5.example"})
	assert.Len(t, got, 3)
}

// BenchmarkMatch is a card's entities (a user, a room, a server) against
// 50,000 rules, 1,000 of them globs. Target: 1 ms.
func BenchmarkMatch(b *testing.B) {
	ix := bigIndex(50_000, 1_000)
	e := Entities{User: "@user3000:server0.example", Room: "!nothing:example.org", Server: "clean.example"}
	b.ResetTimer()
	for b.Loop() {
		ix.Match(e)
	}
}

// BenchmarkLoad is reading a list of 50,000 rules (1,000 globs) at start:
// the JSON of its /state parsed and loaded into a fresh index. It reports
// the heap the loaded index keeps (after the state is dropped). Targets:
// 5 s and 30 MB.
func BenchmarkLoad(b *testing.B) {
	var state []map[string]any
	for _, l := range bigIndex(50_000, 1_000).lists {
		for key, r := range l.rules {
			state = append(state, map[string]any{"type": key.typ, "state_key": key.key, "sender": "@mod:example.org", "origin_server_ts": 1_700_000_000_000,
				"event_id": "$" + key.key + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "room_id": mainRoom,
				"content": map[string]string{"entity": r.Entity, "recommendation": "m.ban", "reason": "spam " + strings.Repeat("x", 40)}})
		}
	}
	data, err := json.Marshal(state)
	require.NoError(b, err)
	state = nil
	runtime.GC() // before the first iteration's "before": the setup's garbage is gone
	var retained float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		evts, err := DecodeState(mainRoom, data)
		require.NoError(b, err)
		ix := newIndex()
		ix.Load(mainRoom, evts)
		evts = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
		runtime.KeepAlive(ix)
	}
	b.ReportMetric(retained, "MB-retained")
	b.ReportMetric(float64(len(data))/1e6, "MB-state")
}
