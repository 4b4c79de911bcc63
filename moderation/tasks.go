package moderation

import (
	"context"
	"encoding/json"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// Long-running actions (!redact user, !room delete) start a task in
// Synapse and reply at once. FollowTasks then asks Synapse how each task
// stands and edits that reply (m.replace, through the outbox) when what it
// says changes, until the task ends. Tasks are in the database, so one
// that was running when Gavel stopped is followed again after a restart.

const (
	// taskFirstCheck is how soon a new task is first checked; the wait
	// doubles up to taskMaxCheck.
	taskFirstCheck = 100 * time.Millisecond
	taskMaxCheck   = 5 * time.Second
	// taskGiveUp is how long Gavel follows a task that does not end.
	// Synapse forgets finished tasks after about a day.
	taskGiveUp = 24 * time.Hour
)

// redactParams is what the reply to !redact user says.
type redactParams struct {
	User  id.UserID `json:"user"`
	Where string    `json:"where"`
	Since int64     `json:"since_ms"`
}

// deleteParams is what the reply to !room delete says: the room, named
// by its name and alias as Synapse had them before the deletion (tasks
// started before Gavel kept them have the room as typed in Name).
type deleteParams struct {
	Room  id.RoomID    `json:"room_id"`
	Name  string       `json:"name"`
	Alias id.RoomAlias `json:"alias,omitempty"`
	Block bool         `json:"block,omitempty"`
	Purge bool         `json:"purge,omitempty"`
}

// started is the outcome of an action that started Synapse task taskID:
// reply t now, then follow the task.
func started(t *notice.Text, kind, taskID string, params any) Outcome {
	data, err := json.Marshal(params)
	if err != nil {
		panic(err) // only plain data goes in
	}
	out := Done(t)
	out.Task = &store.Task{ID: taskID, Kind: kind, Params: data, Shown: t.Plain()}
	return out
}

// WakeTasks makes FollowTasks look at the tasks at once: one was added.
func (m *Moderator) WakeTasks() {
	select {
	case m.tasksWake <- struct{}{}:
	default:
	}
}

// FollowTasks follows the running tasks until ctx ends.
func (m *Moderator) FollowTasks(ctx context.Context) error {
	type schedule struct {
		next  time.Time
		every time.Duration
	}
	plan := map[string]*schedule{}
	for {
		wait := taskMaxCheck
		tasks, err := m.Store.Tasks.Running(ctx)
		if err != nil && ctx.Err() == nil {
			m.Log.Warn().Err(err).Msg("Could not read the running tasks from the database; trying again")
		}
		now := time.Now()
		following := map[string]bool{}
		for i := range tasks {
			t := &tasks[i]
			following[t.ID] = true
			s := plan[t.ID]
			if s == nil {
				s = &schedule{next: t.StartedAt.Add(taskFirstCheck), every: taskFirstCheck}
				plan[t.ID] = s
			}
			if now.Before(s.next) {
				wait = min(wait, s.next.Sub(now))
				continue
			}
			if err := m.checkTask(ctx, t); err != nil && ctx.Err() == nil {
				m.Log.Warn().Err(err).Str("task_id", t.ID).Msg("Could not check a Synapse task; trying again")
			}
			s.every = min(2*s.every, taskMaxCheck)
			s.next = time.Now().Add(s.every)
			wait = min(wait, s.every)
		}
		for taskID := range plan {
			if !following[taskID] {
				delete(plan, taskID)
			}
		}
		// With nothing to follow, only a new task (WakeTasks) is news:
		// tasks are added by this process alone.
		var timer <-chan time.Time
		if len(tasks) > 0 || err != nil {
			timer = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.tasksWake:
		case <-timer:
		}
	}
}

// checkTask asks Synapse how task t stands and shows it, if that changed.
func (m *Moderator) checkTask(ctx context.Context, t *store.Task) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	text, end, err := m.taskState(ctx, t)
	if err != nil {
		return err
	}
	if end == nil && text.Plain() == t.Shown {
		return nil
	}
	reply, err := m.Store.Outbox.Get(ctx, t.ReplyKey())
	if err != nil {
		return err
	}
	edit := &store.Message{Key: t.EditKey(), Priority: store.PriorityReply, RoomID: t.RoomID,
		Content: text.Content(event.MsgNotice, nil), RelatesTo: t.ReplyKey()}
	if reply == nil || reply.Error != "" {
		// The reply was never posted: the end gets a message of its own.
		edit = nil
		if end != nil {
			edit = &store.Message{Key: t.EditKey(), Priority: store.PriorityReply, RoomID: t.RoomID, Content: text.Reply(t.CommandID)}
		}
	}
	shown, err := m.Store.Tasks.Show(ctx, t, text.Plain(), edit, end)
	if err != nil || !shown {
		return err
	}
	if end != nil {
		level := m.Log.Info()
		if !end.OK {
			level = m.Log.Warn()
		}
		level.Str("task_id", t.ID).Str("kind", t.Kind).Stringer("event_id", t.CommandID).Bool("ok", end.OK).Str("result", end.Result).Msg("Task ended")
	}
	if edit != nil && m.Notify != nil {
		m.Notify()
	}
	return nil
}

// taskState is what the reply to task t should say now, and when the task
// has ended, how. An error means Synapse could not be asked; the task is
// checked again later.
func (m *Moderator) taskState(ctx context.Context, t *store.Task) (*notice.Text, *store.TaskEnd, error) {
	ended := func(text *notice.Text, ok bool) (*notice.Text, *store.TaskEnd, error) {
		return text, &store.TaskEnd{OK: ok, Result: text.Plain()}, nil
	}
	elapsed := time.Since(t.StartedAt)
	switch t.Kind {
	case store.TaskRedactUser:
		var p redactParams
		if err := json.Unmarshal(t.Params, &p); err != nil {
			return ended(notice.New().Raw("Gavel cannot read what task "+t.ID+" was for."), false)
		}
		check := m.Prefix + "user " + string(p.User)
		since := time.UnixMilli(p.Since)
		status, err := m.Admin.RedactUserStatus(ctx, t.ID)
		switch {
		case adminapi.IsNotFound(err):
			return ended(notice.TaskLost("the redaction of "+string(p.User)+"'s messages", t.ID, check), false)
		case err != nil && retry.Classify(err) == retry.Permanent:
			return ended(notice.New().Raw("Gavel could not follow the redaction: "+m.explain(err, "redaction task "+t.ID)), false)
		case err != nil:
			return nil, nil, err
		case status.Status == "complete":
			return ended(notice.UserRedacted(p.User, p.Where, since, status.FailedRedactions), len(status.FailedRedactions) == 0)
		case status.Status == "failed" || status.Status == "cancelled":
			return ended(notice.New().Raw("Synapse's task "+t.ID+" to redact ").User(string(p.User)).Raw("'s messages "+status.Status+"."), false)
		case elapsed > taskGiveUp:
			return ended(notice.TaskAbandoned("the redaction of "+string(p.User)+"'s messages", t.ID, taskGiveUp, check), false)
		}
		return notice.RedactingUser(p.User, p.Where, since, t.ID, len(status.FailedRedactions), elapsed), nil, nil
	case store.TaskDeleteRoom:
		var p deleteParams
		if err := json.Unmarshal(t.Params, &p); err != nil {
			return ended(notice.New().Raw("Gavel cannot read what task "+t.ID+" was for."), false)
		}
		check := m.Prefix + "room " + string(p.Room)
		room := notice.Room{ID: p.Room, Name: p.Name, Alias: p.Alias}
		status, err := m.Admin.DeleteRoomStatus(ctx, t.ID)
		switch {
		case adminapi.IsNotFound(err):
			return ended(notice.TaskLost("the deletion of "+string(p.Room), t.ID, check), false)
		case err != nil && retry.Classify(err) == retry.Permanent:
			return ended(notice.New().Raw("Gavel could not follow the deletion: "+m.explain(err, "deletion task "+t.ID)), false)
		case err != nil:
			return nil, nil, err
		case status.Status == "complete":
			return ended(notice.RoomDeleted(room, status.ShutdownRoom, p.Block, p.Purge), true)
		case status.Status == "failed":
			return ended(notice.New().Raw("Synapse could not delete ").Append(notice.RoomName(room)).Raw(": ").User(status.Error).Raw("."), false)
		case elapsed > taskGiveUp:
			return ended(notice.TaskAbandoned("the deletion of "+string(p.Room), t.ID, taskGiveUp, check), false)
		}
		return notice.DeletingRoom(room, t.ID, status.Status, elapsed), nil, nil
	}
	return ended(notice.New().Raw("Gavel does not know how to follow a task of kind "+t.Kind+"."), false)
}
