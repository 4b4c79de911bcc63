package adminapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// EventReport is one abuse report about an event, as listed by Synapse.
//
// Report ids start at 2 on a fresh server and can be handed out again after
// the newest report is deleted and Synapse restarts, so (ID, ReceivedTS)
// identifies a report; ID alone does not.
type EventReport struct {
	// ID is Synapse's id for the report.
	ID int64 `json:"id"`
	// ReceivedTS is when Synapse received the report, in milliseconds since
	// the Unix epoch.
	ReceivedTS int64 `json:"received_ts"`
	// RoomID and EventID name the reported event.
	RoomID  id.RoomID  `json:"room_id"`
	EventID id.EventID `json:"event_id"`
	// UserID is the reporter.
	UserID id.UserID `json:"user_id"`
	// Sender is the reported event's sender; empty when Synapse no longer
	// knows the event.
	Sender id.UserID `json:"sender"`
	// Reason is the reporter's free text; empty when none was given.
	Reason string `json:"reason"`
	// Score is the reporter's score, meant to be from -100 (most offensive)
	// to 0; nil when none was given.
	Score *Score `json:"score"`
	// CanonicalAlias and Name describe the room when it has them.
	CanonicalAlias id.RoomAlias `json:"canonical_alias"`
	Name           string       `json:"name"`
}

// Received returns ReceivedTS as a time.
func (r EventReport) Received() time.Time { return time.UnixMilli(r.ReceivedTS) }

// Score is a report's score. Synapse stores any integer the reporter sends,
// however large, so decoding clamps values beyond 32 bits instead of
// failing: one hostile report must not make the whole listing unreadable.
type Score int32

// UnmarshalJSON reads any JSON number, clamping it to the int32 range.
func (s *Score) UnmarshalJSON(data []byte) error {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(data)), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of float range is ±Inf: clamped too
		return fmt.Errorf("adminapi: report score %s is not a number", data)
	}
	*s = Score(max(math.MinInt32, min(math.MaxInt32, f)))
	return nil
}

type reportKey struct{ id, ts int64 }

// EventReportDetail is one event report with the reported event as Synapse
// stored it.
type EventReportDetail struct {
	EventReport
	// EventJSON is the reported event exactly as Synapse returned it.
	EventJSON json.RawMessage `json:"event_json"`
	// Event is EventJSON parsed, with its content parsed where mautrix knows
	// the event type; nil when EventJSON is missing or is not an event.
	Event *event.Event `json:"-"`
}

// EventReportsQuery selects the event reports to list.
type EventReportsQuery struct {
	PageQuery
	// UserID keeps reports filed by this user. Synapse matches it as a
	// substring of the reporter's id.
	UserID id.UserID
	// RoomID keeps reports about events in this room. Synapse matches it as
	// a substring of the room id.
	RoomID id.RoomID
	// EventSenderUserID keeps reports about events sent by this user
	// (exact match; Synapse 1.122 and later).
	EventSenderUserID id.UserID
}

func (q EventReportsQuery) validate() error {
	if err := q.PageQuery.validate(); err != nil {
		return err
	}
	if q.UserID != "" {
		if err := mxid.ValidateUserID(q.UserID); err != nil {
			return err
		}
	}
	if q.RoomID != "" {
		if err := mxid.ValidateRoomID(q.RoomID); err != nil {
			return err
		}
	}
	if q.EventSenderUserID != "" {
		return mxid.ValidateUserID(q.EventSenderUserID)
	}
	return nil
}

type respEventReports struct {
	EventReports []EventReport `json:"event_reports"`
	NextToken    *int64        `json:"next_token"`
	Total        int64         `json:"total"`
}

// ListEventReports returns one page of event reports.
func (c *Client) ListEventReports(ctx context.Context, q EventReportsQuery) (*Page[EventReport], error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	v := q.values()
	setIfNotEmpty(v, "user_id", string(q.UserID))
	setIfNotEmpty(v, "room_id", string(q.RoomID))
	setIfNotEmpty(v, "event_sender_user_id", string(q.EventSenderUserID))
	var resp respEventReports
	if err := c.get(ctx, c.admin("v1/event_reports", v), &resp); err != nil {
		return nil, err
	}
	return &Page[EventReport]{Items: resp.EventReports, NextToken: resp.NextToken, Total: resp.Total}, nil
}

// EventReports iterates over all event reports matching q, page after page,
// starting at q.From. It ends after the last page, yields an error and ends
// when a request fails, and never yields the same report twice.
func (c *Client) EventReports(ctx context.Context, q EventReportsQuery) iter.Seq2[EventReport, error] {
	return paginate(ctx, q.From, func(r EventReport) reportKey { return reportKey{r.ID, r.ReceivedTS} },
		func(ctx context.Context, from int64) (*Page[EventReport], error) {
			q.From = from
			return c.ListEventReports(ctx, q)
		})
}

// EventReport returns one event report with the reported event. Synapse
// answers 404 (see IsNotFound) for an unknown id, and also when the reported
// room or event has been purged.
func (c *Client) EventReport(ctx context.Context, reportID int64) (*EventReportDetail, error) {
	if err := mxid.ValidateReportID(reportID); err != nil {
		return nil, err
	}
	var detail EventReportDetail
	if err := c.get(ctx, c.admin("v1/event_reports/{report_id}", nil, reportID), &detail); err != nil {
		return nil, err
	}
	detail.Event = parseEvent(detail.EventJSON, detail.EventID)
	return &detail, nil
}

// SendServerNotice sends userID (a local user) a server notice with body,
// under transaction id txnID: sending again with the same id within
// Synapse's memory of transactions sends nothing new. Synapse answers 400
// when server notices are not enabled in its configuration.
func (c *Client) SendServerNotice(ctx context.Context, userID id.UserID, body, txnID string) (id.EventID, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return "", err
	}
	if err := validateToken("transaction id", txnID); err != nil {
		return "", err
	}
	req := map[string]any{"user_id": userID, "content": map[string]any{"msgtype": "m.text", "body": body}}
	var resp struct {
		EventID id.EventID `json:"event_id"`
	}
	err := c.call(ctx, http.MethodPut, c.admin("v1/send_server_notice/{txn_id}", nil, txnID), req, &resp)
	return resp.EventID, err
}

// ServerNoticesEnabled reports whether Synapse sends server notices (its
// server_notices setting), by asking it to send one to a user of server
// that does not exist: Synapse checks the setting first (400 when off),
// then the user (404), so nothing is sent.
func (c *Client) ServerNoticesEnabled(ctx context.Context, server string) (bool, error) {
	probe := id.NewUserID("gavel-probe-"+strings.ToLower(rand.Text()), server)
	req := map[string]any{"user_id": probe, "content": map[string]any{"msgtype": "m.text", "body": "probe"}}
	err := c.call(ctx, http.MethodPost, c.admin("v1/send_server_notice", nil), req, nil)
	switch {
	case IsNotFound(err):
		return true, nil
	case StatusCode(err) == http.StatusBadRequest:
		return false, nil
	case err == nil:
		return true, nil // the probe user exists, against all odds
	}
	return false, err
}

// DecodeEventReport reads an event report with its event back from the
// JSON of an EventReportDetail (as Gavel archives it).
func DecodeEventReport(data []byte) (*EventReportDetail, error) {
	var detail EventReportDetail
	if err := json.Unmarshal(data, &detail); err != nil {
		return nil, err
	}
	detail.Event = parseEvent(detail.EventJSON, detail.EventID)
	return &detail, nil
}

// DeleteEventReport deletes one event report. It does not touch the
// reported event.
func (c *Client) DeleteEventReport(ctx context.Context, reportID int64) error {
	if err := mxid.ValidateReportID(reportID); err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, c.admin("v1/event_reports/{report_id}", nil, reportID), nil, nil)
}

// parseEvent parses a stored event, filling in the event id, which room
// versions 3 and later leave out of the stored form. It returns nil when raw
// is not an event.
func parseEvent(raw json.RawMessage, eventID id.EventID) *event.Event {
	if len(raw) == 0 {
		return nil
	}
	var evt event.Event
	if err := json.Unmarshal(raw, &evt); err != nil || evt.Type.Type == "" {
		return nil
	}
	if evt.ID == "" {
		evt.ID = eventID
	}
	if evt.StateKey != nil {
		evt.Type.Class = event.StateEventType
	} else {
		evt.Type.Class = event.MessageEventType
	}
	// Unknown types and malformed content keep only Content.Raw.
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		evt.Content.Parsed = nil
	}
	return &evt
}

func setIfNotEmpty(v interface{ Set(string, string) }, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}
