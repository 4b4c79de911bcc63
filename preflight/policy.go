package preflight

import (
	"encoding/json"
	"strconv"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

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
