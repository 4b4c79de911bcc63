package notice

import (
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// running says how long a task has been running, once it is a minute or
// more, to the minute: the text of a progress edit changes once a minute
// at most.
func running(d time.Duration) string {
	if d < time.Minute {
		return ""
	}
	return fmt.Sprintf(", running for %d min", int(d.Minutes()))
}

// RedactingUser is the reply to !redact user while Synapse's task runs.
func RedactingUser(user id.UserID, where string, since time.Time, taskID string, failed int, elapsed time.Duration) *Text {
	t := New().Raw("Redacting ").User(string(user)).Raw("'s messages since " + since.UTC().Format("2006-01-02 15:04 UTC") + " in ").User(where).
		Raw(": Synapse is at it (task " + taskID)
	if failed > 0 {
		t.Raw(fmt.Sprintf(", %d failed so far", failed))
	}
	return t.Raw(running(elapsed) + "). This message is updated as it goes.")
}

// DeletingRoom is the reply to !room delete while Synapse's task runs;
// status is Synapse's word for where it stands.
func DeletingRoom(room Room, taskID, status string, elapsed time.Duration) *Text {
	t := New().Raw("Deleting ").Append(RoomName(room))
	doing := "Synapse has it queued"
	switch status {
	case "shutting_down":
		doing = "Synapse is removing its members"
	case "purging":
		doing = "Synapse is purging it from the database"
	}
	return t.Raw(": " + doing + " (task " + taskID + running(elapsed) + "). This message is updated as it goes.")
}

// TaskLost says that Synapse no longer knows a task Gavel was following,
// and how to see what it did (check, a command).
func TaskLost(what, taskID, check string) *Text {
	return New().Raw("Gavel cannot tell how " + what + " ended: Synapse no longer knows its task " + taskID +
		" (it forgets them after a day, and when it restarts). ").Code(check).Raw(" shows where things stand.")
}

// TaskAbandoned says that Gavel stopped following a task that ran too long.
func TaskAbandoned(what, taskID string, after time.Duration, check string) *Text {
	return New().Raw(fmt.Sprintf("Gavel stopped following %s after %d h: Synapse's task %s had not ended. ", what, int(after.Hours()), taskID)).
		Code(check).Raw(" shows where things stand.")
}
