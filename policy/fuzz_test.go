package policy

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// FuzzRule feeds a list whatever content and entity: the index never
// panics, keeps no entity longer than MaxEntity nor a reason longer than
// MaxReason characters, and a rule it keeps matches its own literal
// entity.
func FuzzRule(f *testing.F) {
	f.Add("m.policy.rule.user", "k", `{"entity":"@a:b","recommendation":"m.ban","reason":"<b>x</b>"}`, "@a:b")
	f.Add("m.policy.rule.server", "k", `{"entity":"*.x?","recommendation":"m.ban"}`, "a.xy")
	f.Add("org.matrix.mjolnir.rule.room", "", `{"entity":"!r:b","recommendation":1}`, "!r:b")
	f.Add("m.policy.rule.user", "k", `{}`, "")
	f.Add("m.room.rule.user", "k", `{"entity":"@`+strings.Repeat("?", 1100)+`","recommendation":"m.ban"}`, "@x")
	f.Fuzz(func(t *testing.T, typ, key, raw, ask string) {
		ix := newIndex()
		evt := ruleEvent(mainRoom, typ, key, raw)
		ix.Load(mainRoom, []*event.Event{evt})
		ix.Apply(evt)
		s := ix.Stats()[0]
		if s.Rules+s.Invalid > 1 {
			t.Fatalf("one event made %d rules and %d invalid ones", s.Rules, s.Invalid)
		}
		rules, _ := ix.Rules("main", "", "")
		for _, r := range rules {
			if len(r.Entity) > MaxEntity || len([]rune(r.Reason)) > MaxReason {
				t.Fatalf("kept a rule too long: %d bytes of entity, %d characters of reason", len(r.Entity), len([]rune(r.Reason)))
			}
			if !r.IsGlob() && len(ix.Match(Entities{Server: r.Entity})) == 0 && r.Kind == Server {
				t.Fatalf("a server rule does not match its own entity %q", r.Entity)
			}
		}
		ix.Match(Entities{User: id.UserID("@" + ask), Room: id.RoomID("!" + ask), Server: ask})
	})
}
