package notice

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/policy"
)

// Everything a policy list holds (entities, reasons, recommendations,
// senders) is someone else's text: it goes in Code or User, never Raw.

// policyRule appends a rule: "m.ban `@spam:example.org` `spam` (since 3
// Nov, by @mod:example.org)".
func policyRule(t *Text, r *policy.Rule, now time.Time) *Text {
	t.Code(r.Recommendation).Raw(" ").Code(r.Entity)
	if r.Reason != "" {
		t.Raw(" ").Code(r.Reason)
	}
	return ruleOrigin(t, r, now)
}

// ruleOrigin appends when and by whom a rule was set: " (since 3 Nov, by
// @mod:example.org)".
func ruleOrigin(t *Text, r *policy.Rule, now time.Time) *Text {
	var parts []string
	if r.Timestamp > 0 {
		parts = append(parts, "since "+day(time.UnixMilli(r.Timestamp), now))
	}
	if r.Sender != "" {
		parts = append(parts, "by "+string(r.Sender))
	}
	if len(parts) > 0 {
		t.Raw(" (").User(strings.Join(parts, ", ")).Raw(")")
	}
	return t
}

// day is a date as people write it: "3 Nov", with the year when it is
// not this year's.
func day(d, now time.Time) string {
	if d.Year() == now.Year() {
		return d.UTC().Format("2 Jan")
	}
	return d.UTC().Format("2 Jan 2006")
}

// PolicyContext appends the card's line of what the followed lists say
// about its user, room and server: "Policy lists: main — m.ban `spam`
// (since 3 Nov, by @mod); community — matches `@*:spam.example`". It
// appends nothing when nothing matches.
func PolicyContext(t *Text, matches []policy.Match, now time.Time) *Text {
	if len(matches) == 0 {
		return t
	}
	t.Newline().Bold("Policy lists: ")
	const most = 5
	for i, m := range matches {
		if i == most {
			t.Raw(fmt.Sprintf("; and %d more (", len(matches)-most)).Syntax("!policy check").Raw(")")
			break
		}
		if i > 0 {
			t.Raw("; ")
		}
		t.User(m.Rule.List).Raw(" — ")
		if m.Rule.IsGlob() {
			t.Raw("matches ").Code(m.Rule.Entity).Raw(": ")
		} else if m.Rule.Kind != policy.User {
			t.Raw(string(m.Rule.Kind) + " ").Code(m.Rule.Entity).Raw(": ")
		}
		t.Code(m.Rule.Recommendation)
		if m.Rule.Reason != "" {
			t.Raw(" ").Code(m.Rule.Reason)
		}
		ruleOrigin(t, m.Rule, now)
	}
	return t
}

// PolicyCheck is !policy check's reply: what every followed list says
// about the entities asked (the user's server included), glob matches
// included.
func PolicyCheck(asked []string, matches []policy.Match, lists []policy.ListStats, now time.Time) *Text {
	t := New()
	if len(lists) == 0 {
		return t.Raw("Gavel follows no policy list: add one to policy_lists in the configuration.")
	}
	t.Raw("What the followed lists say about ")
	for i, a := range asked {
		if i > 0 {
			t.Raw(" and ")
		}
		t.Code(a)
	}
	if len(matches) == 0 {
		return t.Raw(": nothing, in " + Count(len(lists), "list", "lists") + ".")
	}
	t.Raw(":").StartList()
	for i, m := range matches {
		if t.Size() > maxListSize {
			t.LastItem(fmt.Sprintf("… and %d more", len(matches)-i))
			break
		}
		t.Item().User(m.Rule.List).Raw(": ")
		policyRule(t, m.Rule, now)
		if m.Rule.IsGlob() {
			t.Raw(", a glob matching ").Code(m.Entity)
		}
	}
	return t.EndList()
}

// PolicyList is !policy list's reply: a list's rules (of one kind or
// about one entity when asked), at most limit of them.
func PolicyList(list policy.ListStats, rules []*policy.Rule, filtered bool, limit int, now time.Time) *Text {
	t := New().Bold("List " + list.Shortcode).Raw(" (").User(string(list.Room)).Raw("): ")
	t.Raw(Count(list.Rules, "rule", "rules"))
	if list.Invalid > 0 {
		t.Raw(fmt.Sprintf(", %d ignored as invalid", list.Invalid))
	}
	if list.Write {
		t.Raw("; Gavel writes to it")
	}
	if !list.Loaded {
		t.Raw("; not read yet")
	}
	switch {
	case len(rules) == 0 && filtered:
		return t.Raw(". None match.")
	case len(rules) == 0:
		return t.Raw(".")
	case len(rules) > limit:
		t.Raw(fmt.Sprintf(". The first %d of %d that match:", limit, len(rules)))
	case filtered:
		t.Raw(". Those that match:")
	default:
		t.Raw(":")
	}
	t.StartList()
	for i, r := range rules {
		if i == limit || t.Size() > maxListSize {
			t.LastItem(fmt.Sprintf("… and %d more", len(rules)-i))
			break
		}
		t.Item().Raw(string(r.Kind) + " ")
		policyRule(t, r, now)
	}
	return t.EndList()
}

// PolicyStatus appends !status's line of each followed list: "Policy list
// main: 12,004 rules, 3 ignored as invalid."
func PolicyStatus(t *Text, lists []policy.ListStats) *Text {
	for _, l := range lists {
		t.Newline().Raw("Policy list ").User(l.Shortcode).Raw(" (").User(string(l.Room)).Raw("): ")
		if !l.Loaded {
			t.Raw("not read yet (Gavel could not join its room, or is reading it).")
			continue
		}
		t.Raw(Count(l.Rules, "rule", "rules"))
		if l.Invalid > 0 {
			t.Raw(fmt.Sprintf(", %d ignored as invalid", l.Invalid))
		}
		if l.Write {
			t.Raw("; Gavel writes to it")
		}
		t.Raw(".")
	}
	return t
}

// PolicyBanPreview is the preview of a ban written to a list.
func PolicyBanPreview(entity string, kind policy.Kind, list, reason string) *Text {
	t := New().Raw("📜 Write a ban of ")
	if policy.IsGlob(entity) {
		t.Raw("every " + string(kind) + " matching ")
	}
	t.Code(entity).Raw(" to list ").Code(list)
	if reason != "" {
		t.Raw(", reason ").Code(reason)
	}
	if policy.IsGlob(entity) {
		return t.Raw("? Every bot that follows the list (Draupnir, Mjolnir, Meowlnir…) will act on each " + string(kind) + " the glob matches, now and later, on every server that follows it.")
	}
	return t.Raw("? Every bot that follows the list (Draupnir, Mjolnir, Meowlnir…) will act on it, on every server that follows it.")
}

// PolicyBanButton (📜) bans user on list, for report ref: for the cards of
// event and user reports whose user a writable list does not ban yet
// (policy.Index.BanList).
func PolicyBanButton(user id.UserID, ref mxid.ReportRef, prefix, list string) Button {
	return Button{"📜", commands.PolicyBan{Entity: string(user), List: list, Report: ref},
		prefix + "policy ban " + string(user) + " --list " + list + " --report " + ref.String(), "ban them on policy list " + list + " (asks first)"}
}

// WithPolicyBan appends 📜 to a card's buttons when a list Gavel writes
// to does not ban user yet.
func WithPolicyBan(buttons []Button, ix *policy.Index, user id.UserID, ref mxid.ReportRef, prefix string) []Button {
	if list, ok := ix.BanList(user); ok && user != "" {
		return append(buttons, PolicyBanButton(user, ref, prefix, list))
	}
	return buttons
}

// PolicyBanned is the reply of a rule written.
func PolicyBanned(entity string, kind policy.Kind, list, reason string) *Text {
	t := New().Raw("📜 Banned ").Code(entity).Raw(" on list ").Code(list).Raw(" (" + kind.Type().Type)
	if reason != "" {
		t.Raw(", reason ").Code(reason)
	}
	return t.Raw("). The bots that follow the list enforce it; Gavel itself bans no one.")
}

// PolicyUnbanned is the reply of rules removed.
func PolicyUnbanned(entity, list string, removed int) *Text {
	return New().Raw("Removed " + Count(removed, "rule", "rules") + " about ").Code(entity).Raw(" from list ").Code(list).
		Raw(". This unbans no one by itself: the bots that follow the list decide whether to lift their bans.")
}

// PolicyWriteFailed words a rule Gavel could not write: most often its
// account lacks the power level in the list's room.
func PolicyWriteFailed(list string, bot id.UserID, err error) *Text {
	t := New().Raw("Gavel could not write to list ").Code(list).Raw(": ")
	if retry.Status(err) == http.StatusForbidden {
		return t.Raw("its account " + string(bot) + " needs the power level to send m.policy.rule.* state events in the list's room (" + retry.ErrCode(err) + "). Give it that level there.")
	}
	return t.User(Explain(err, "the list's room")).Raw(".")
}
