package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/policy"
)

// PolicyWritePower says why userID may not send rules (m.policy.rule.*)
// in a list room whose state is state, or "".
func PolicyWritePower(state []*event.Event, userID id.UserID) string {
	var levels, create *event.Event
	for _, evt := range state {
		switch {
		case evt.Type == event.StatePowerLevels && evt.GetStateKey() == "":
			levels = evt
		case evt.Type == event.StateCreate && evt.GetStateKey() == "":
			create = evt
		}
	}
	if levels == nil {
		return "its room has no power levels Gavel can read"
	}
	var pl event.PowerLevelsEventContent
	if err := json.Unmarshal(levels.Content.VeryRaw, &pl); err != nil {
		return "its room's power levels cannot be read (" + err.Error() + ")"
	}
	if create != nil && create.Content.ParseRaw(create.Type) == nil {
		pl.CreateEvent = create
	}
	have := pl.GetUserLevel(userID)
	for _, k := range policy.Kinds {
		if need := pl.GetEventLevel(k.Type()); have < need {
			return "Gavel's account has power level " + strconv.Itoa(have) + " there and " + k.Type().Type + " needs " + strconv.Itoa(need)
		}
	}
	return ""
}

// policyLists checks each list of policy_lists: its room exists, the bot
// is in it or invited (or may join a public room), and for write: true,
// its power to send rules. Like the other checks it joins nothing.
func (r *run) policyLists(ctx context.Context) (string, error) {
	if len(r.cfg.PolicyLists) == 0 {
		return "none followed (policy_lists is empty)", nil
	}
	bot := r.cfg.Matrix.UserID
	var lines []string
	for _, l := range r.cfg.PolicyLists {
		ref, err := mxid.ParseRoom(l.Room)
		if err != nil {
			return "", fmt.Errorf("policy list %s: %v", l.Shortcode, err)
		}
		roomID := ref.ID
		if roomID == "" {
			resp, err := r.client.ResolveAlias(ctx, ref.Alias)
			if err != nil {
				return "", fmt.Errorf("policy list %s: cannot resolve %s (%s): check the alias", l.Shortcode, ref.Alias, retry.ErrCode(err))
			}
			roomID = resp.RoomID
		}
		var resp struct {
			State []*event.Event `json:"state"`
		}
		_, err = r.admin.Matrix().MakeRequest(ctx, http.MethodGet, r.admin.Matrix().BuildURL(mautrix.SynapseAdminURLPath{"v1", "rooms", roomID, "state"}), nil, &resp)
		switch {
		case retry.Status(err) == http.StatusNotFound:
			// A room of another server: Gavel joins it at start, if it can.
			lines = append(lines, l.Shortcode+" ("+string(roomID)+") is not on this server; Gavel joins it at start")
			continue
		case err != nil:
			return "", fmt.Errorf("policy list %s: reading the state of %s: %v", l.Shortcode, roomID, err)
		}
		m := membership(resp.State, bot)
		if m != event.MembershipJoin && m != event.MembershipInvite && !public(resp.State) {
			return "", fmt.Errorf("policy list %s: %s is not in %s (membership: %s) and the room is not public: invite it", l.Shortcode, bot, roomID, orNone(m))
		}
		if l.Write {
			if problem := PolicyWritePower(resp.State, bot); problem != "" {
				return "", fmt.Errorf("policy list %s has write: true, but %s: give it that power level there, or set write: false", l.Shortcode, problem)
			}
		}
		rules := 0
		for _, evt := range resp.State {
			if _, ok := policy.KindOf(evt.Type); ok && len(evt.Content.Raw) > 0 {
				rules++
			}
		}
		what := "read"
		if l.Write {
			what = "read and written"
		}
		lines = append(lines, fmt.Sprintf("%s (%s, %d rules) is %s", l.Shortcode, roomID, rules, what))
	}
	return strings.Join(lines, "; "), nil
}

// public reports whether a room's join rule lets anyone join.
func public(state []*event.Event) bool {
	for _, evt := range state {
		if evt.Type == event.StateJoinRules && evt.GetStateKey() == "" {
			rule, _ := evt.Content.Raw["join_rule"].(string)
			return rule == string(event.JoinRulePublic)
		}
	}
	return false
}
