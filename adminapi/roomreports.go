package adminapi

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// RoomReport is one report about a room (MSC4151). Synapse 1.160 stores
// them but has no admin API for them; package roomreports reads them from
// Synapse's database meanwhile, and from the admin API once there is one.
type RoomReport struct {
	// ID is Synapse's id for the report.
	ID int64 `json:"id"`
	// ReceivedTS is when Synapse received the report, in milliseconds since
	// the Unix epoch.
	ReceivedTS int64 `json:"received_ts"`
	// RoomID is the reported room.
	RoomID id.RoomID `json:"room_id"`
	// UserID is the reporter.
	UserID id.UserID `json:"user_id"`
	// Reason is the reporter's free text.
	Reason string `json:"reason"`
}

// Received returns ReceivedTS as a time.
func (r RoomReport) Received() time.Time { return time.UnixMilli(r.ReceivedTS) }

type respRoomReports struct {
	RoomReports []RoomReport `json:"room_reports"`
	NextToken   *int64       `json:"next_token"`
	Total       int64        `json:"total"`
}

// roomReportsError marks a missing endpoint as ErrUnsupported.
func roomReportsError(err error) error {
	if err != nil && IsUnsupported(err) {
		return fmt.Errorf("room reports: %w (Synapse has no admin API for them): %w", ErrUnsupported, err)
	}
	return err
}

// ListRoomReports returns one page of room reports from the admin API
// that Synapse does not have yet (GET /_synapse/admin/v1/room_reports,
// shaped like the other report listings). On a Synapse without it, it
// returns an error that wraps ErrUnsupported.
func (c *Client) ListRoomReports(ctx context.Context, q PageQuery) (*Page[RoomReport], error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	var resp respRoomReports
	if err := c.get(ctx, c.admin("v1/room_reports", q.values()), &resp); err != nil {
		return nil, roomReportsError(err)
	}
	return &Page[RoomReport]{Items: resp.RoomReports, NextToken: resp.NextToken, Total: resp.Total}, nil
}

// RoomReport returns one room report from that admin API.
func (c *Client) RoomReport(ctx context.Context, reportID int64) (*RoomReport, error) {
	if err := mxid.ValidateReportID(reportID); err != nil {
		return nil, err
	}
	var report RoomReport
	if err := c.get(ctx, c.admin("v1/room_reports/{report_id}", nil, reportID), &report); err != nil {
		return nil, roomReportsError(err)
	}
	return &report, nil
}
