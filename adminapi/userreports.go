package adminapi

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// UserReport is one report about a user account (Synapse 1.152 and later).
type UserReport struct {
	// ID is Synapse's id for the report.
	ID int64 `json:"id"`
	// ReceivedTS is when Synapse received the report, in milliseconds since
	// the Unix epoch.
	ReceivedTS int64 `json:"received_ts"`
	// TargetUserID is the reported user.
	TargetUserID id.UserID `json:"target_user_id"`
	// UserID is the reporter.
	UserID id.UserID `json:"user_id"`
	// Reason is the reporter's free text.
	Reason string `json:"reason"`
}

// Received returns ReceivedTS as a time.
func (r UserReport) Received() time.Time { return time.UnixMilli(r.ReceivedTS) }

// UserReportsQuery selects the user reports to list.
type UserReportsQuery struct {
	PageQuery
	// UserID keeps reports filed by this user (Synapse matches a substring).
	UserID id.UserID
	// TargetUserID keeps reports about this user (Synapse matches a substring).
	TargetUserID id.UserID
}

func (q UserReportsQuery) validate() error {
	if err := q.PageQuery.validate(); err != nil {
		return err
	}
	if q.UserID != "" {
		if err := mxid.ValidateUserID(q.UserID); err != nil {
			return err
		}
	}
	if q.TargetUserID != "" {
		return mxid.ValidateUserID(q.TargetUserID)
	}
	return nil
}

type respUserReports struct {
	UserReports []UserReport `json:"user_reports"`
	NextToken   *int64       `json:"next_token"`
	Total       int64        `json:"total"`
}

// userReportsError marks a missing endpoint as ErrUnsupported, keeping
// Synapse's answer in the chain.
func userReportsError(err error) error {
	if err != nil && IsUnsupported(err) {
		return fmt.Errorf("user reports: %w (it needs Synapse 1.152 or newer): %w", ErrUnsupported, err)
	}
	return err
}

// ListUserReports returns one page of user reports. On a Synapse without
// the API it returns an error that wraps ErrUnsupported.
func (c *Client) ListUserReports(ctx context.Context, q UserReportsQuery) (*Page[UserReport], error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	v := q.values()
	setIfNotEmpty(v, "user_id", string(q.UserID))
	setIfNotEmpty(v, "target_user_id", string(q.TargetUserID))
	var resp respUserReports
	if err := c.get(ctx, c.admin("v1/user_reports", v), &resp); err != nil {
		return nil, userReportsError(err)
	}
	return &Page[UserReport]{Items: resp.UserReports, NextToken: resp.NextToken, Total: resp.Total}, nil
}

// UserReports iterates over all user reports matching q, like EventReports.
func (c *Client) UserReports(ctx context.Context, q UserReportsQuery) iter.Seq2[UserReport, error] {
	return paginate(ctx, q.From, func(r UserReport) reportKey { return reportKey{r.ID, r.ReceivedTS} },
		func(ctx context.Context, from int64) (*Page[UserReport], error) {
			q.From = from
			return c.ListUserReports(ctx, q)
		})
}

// UserReport returns one user report. An unknown id is a not-found error
// (IsNotFound); a Synapse without the API gives ErrUnsupported.
func (c *Client) UserReport(ctx context.Context, reportID int64) (*UserReport, error) {
	if err := mxid.ValidateReportID(reportID); err != nil {
		return nil, err
	}
	var report UserReport
	if err := c.get(ctx, c.admin("v1/user_reports/{report_id}", nil, reportID), &report); err != nil {
		return nil, userReportsError(err)
	}
	return &report, nil
}

// DeleteUserReport deletes one user report.
func (c *Client) DeleteUserReport(ctx context.Context, reportID int64) error {
	if err := mxid.ValidateReportID(reportID); err != nil {
		return err
	}
	err := c.call(ctx, http.MethodDelete, c.admin("v1/user_reports/{report_id}", nil, reportID), nil, nil)
	return userReportsError(err)
}
