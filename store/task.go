package store

import (
	"context"
	"encoding/json"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The task table: actions that Synapse runs in the background. Gavel
// follows each until it ends, editing the reply to the command that
// started it; one that has not ended is followed again after a restart.

// TaskQuery reads and writes the task table (Store.Tasks).
type TaskQuery struct {
	db *dbutil.Database
	// Show's other tables: an ended task's action, the reply's edit.
	actions *ActionQuery
	outbox  *OutboxQuery
}

const (
	taskColumns       = `task_id, kind, command_id, room_id, params, started_at, shown, edits, shown_at`
	insertTaskQuery   = `INSERT INTO task (` + taskColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`
	runningTasksQuery = `SELECT ` + taskColumns + ` FROM task WHERE ended_at IS NULL ORDER BY started_at`
	showTaskQuery     = `UPDATE task SET shown=$3, edits=edits+1, shown_at=$4 WHERE task_id=$1 AND edits=$2 AND ended_at IS NULL`
	endTaskQuery      = `UPDATE task SET shown=$3, edits=edits+1, shown_at=$4, ended_at=$4 WHERE task_id=$1 AND edits=$2 AND ended_at IS NULL`
)

// Task kinds.
const (
	TaskRedactUser = "redact_user"
	TaskDeleteRoom = "delete_room"
)

// Task is an action Synapse runs in the background.
type Task struct {
	// ID is Synapse's id of the task (a redact_id or a delete_id).
	ID   string
	Kind string
	// CommandID is the event (a command, or the reaction that confirmed
	// one) whose reply shows the task; RoomID is where that reply is.
	CommandID id.EventID
	RoomID    id.RoomID
	// Params is what the reply says about the task, as JSON; only the
	// code that started it reads it.
	Params    json.RawMessage
	StartedAt time.Time
	// Shown is the last text queued for the reply, Edits how many edits
	// were queued, ShownAt when the last was.
	Shown   string
	Edits   int
	ShownAt time.Time
}

// ReplyKey is the key of the reply that shows the task.
func (t *Task) ReplyKey() OutboxKey { return ReplyKey(t.CommandID) }

// EditKey is the key of the task's next edit of that reply.
func (t *Task) EditKey() OutboxKey { return EditKey(t.CommandID, t.Edits+1) }

var scanTask dbutil.ConvertRowFn[Task] = func(row dbutil.Scannable) (Task, error) {
	var t Task
	var params string
	var started, shownAt int64
	err := row.Scan(&t.ID, &t.Kind, &t.CommandID, &t.RoomID, &params, &started, &t.Shown, &t.Edits, &shownAt)
	t.Params, t.StartedAt, t.ShownAt = json.RawMessage(params), time.UnixMilli(started), time.UnixMilli(shownAt)
	return t, err
}

func (s *TaskQuery) insert(ctx context.Context, t *Task) error {
	if t.StartedAt.IsZero() {
		t.StartedAt = time.Now()
	}
	if t.ShownAt.IsZero() {
		t.ShownAt = t.StartedAt
	}
	_, err := s.db.Exec(ctx, insertTaskQuery, t.ID, t.Kind, t.CommandID, t.RoomID, string(t.Params),
		t.StartedAt.UnixMilli(), t.Shown, t.Edits, t.ShownAt.UnixMilli())
	return err
}

// Running returns the tasks that have not ended, oldest first.
func (s *TaskQuery) Running(ctx context.Context) ([]Task, error) {
	return scanTask.NewRowIter(s.db.Query(ctx, runningTasksQuery)).AsList()
}

// TaskEnd is how a task ended, for its action's entry in the log.
type TaskEnd struct {
	OK     bool
	Result string
}

// Show records, in one transaction, that the task now shows text, and
// queues edit (nil when there is no reply to edit); with end, the task has
// ended, with that result for its action. It reports false, and changes
// nothing, when t is not the task's latest state (another call showed it
// first, or it ended).
func (s *TaskQuery) Show(ctx context.Context, t *Task, text string, edit *Message, end *TaskEnd) (bool, error) {
	shown := false
	now := time.Now()
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		query := showTaskQuery
		if end != nil {
			query = endTaskQuery
		}
		res, err := s.db.Exec(ctx, query, t.ID, t.Edits, text, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		shown = true
		if end != nil {
			if err := s.actions.end(ctx, t.CommandID, *end); err != nil {
				return err
			}
		}
		if edit != nil {
			if err := s.outbox.enqueue(ctx, *edit); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !shown {
		return false, err
	}
	t.Shown, t.Edits, t.ShownAt = text, t.Edits+1, now
	return true, nil
}
