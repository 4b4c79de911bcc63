package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offsetServer answers event report listings from a fixed list the way
// Synapse does: from is an offset, next_token = from + len(page) while
// from + limit < total.
func offsetServer(reports []EventReport) func(r request) (int, string) {
	return func(r request) (int, string) {
		from, _ := strconv.Atoi(r.Query.Get("from"))
		limit := 100
		if l := r.Query.Get("limit"); l != "" {
			limit, _ = strconv.Atoi(l)
		}
		end := min(from+limit, len(reports))
		page := reports[min(from, len(reports)):end]
		resp := map[string]any{"event_reports": page, "total": len(reports)}
		if from+limit < len(reports) {
			resp["next_token"] = from + len(page)
		}
		data, _ := json.Marshal(resp)
		return http.StatusOK, string(data)
	}
}

func makeReports(n int) []EventReport {
	reports := make([]EventReport, n)
	for i := range reports {
		reports[i] = EventReport{ID: int64(i + 2), ReceivedTS: int64(1000 + i), RoomID: roomID, EventID: "$e"}
	}
	return reports
}

func collect(t *testing.T, c *Client, q EventReportsQuery) ([]int64, error) {
	t.Helper()
	var ids []int64
	for r, err := range c.EventReports(ctx, q) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

func TestIteratorReadsEveryPage(t *testing.T) {
	c, f := newFake(t, offsetServer(makeReports(7)))
	ids, err := collect(t, c, EventReportsQuery{PageQuery: PageQuery{Limit: 3}})
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 3, 4, 5, 6, 7, 8}, ids)
	got := f.requests()
	require.Len(t, got, 3)
	assert.Equal(t, "", got[0].Query.Get("from"))
	assert.Equal(t, "3", got[1].Query.Get("from"))
	assert.Equal(t, "6", got[2].Query.Get("from"))
	for _, r := range got {
		assert.Equal(t, "3", r.Query.Get("limit"))
	}
}

func TestIteratorStartsAtFrom(t *testing.T) {
	c, _ := newFake(t, offsetServer(makeReports(5)))
	ids, err := collect(t, c, EventReportsQuery{PageQuery: PageQuery{From: 3, Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 6}, ids)
}

func TestIteratorEmpty(t *testing.T) {
	c, f := newFake(t, offsetServer(nil))
	ids, err := collect(t, c, EventReportsQuery{})
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.Len(t, f.requests(), 1)
}

// With limit=0 Synapse answers an empty page whose next_token equals from.
func TestIteratorStopsOnLimitZeroAnswer(t *testing.T) {
	c, f := newFake(t, answerOK(`{"event_reports": [], "total": 5, "next_token": 0}`))
	ids, err := collect(t, c, EventReportsQuery{})
	assert.ErrorIs(t, err, ErrPagingStuck)
	assert.Empty(t, ids)
	assert.Len(t, f.requests(), 1)
}

func TestIteratorStopsOnRepeatedNextToken(t *testing.T) {
	// Every page answers next_token 2, whatever from was.
	c, f := newFake(t, func(r request) (int, string) {
		from, _ := strconv.Atoi(r.Query.Get("from"))
		return http.StatusOK, fmt.Sprintf(`{"event_reports": [{"id": %d, "received_ts": %d}], "total": 50, "next_token": 2}`, from+2, from)
	})
	ids, err := collect(t, c, EventReportsQuery{})
	assert.ErrorIs(t, err, ErrPagingStuck)
	assert.ErrorContains(t, err, "page at offset 2 answered next_token 2")
	assert.Equal(t, []int64{2, 4}, ids)
	assert.Len(t, f.requests(), 2)
}

func TestIteratorStopsOnEmptyPageWithToken(t *testing.T) {
	calls := 0
	c, _ := newFake(t, func(r request) (int, string) {
		calls++
		from, _ := strconv.Atoi(r.Query.Get("from"))
		return http.StatusOK, fmt.Sprintf(`{"event_reports": [], "total": 50, "next_token": %d}`, from+10)
	})
	ids, err := collect(t, c, EventReportsQuery{})
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.Equal(t, 1, calls)
}

// A report filed while paging newest-first shifts every offset by one, so
// the next page starts with the last report already seen.
func TestIteratorSkipsReportsShiftedIntoTheNextPage(t *testing.T) {
	reports := makeReports(4)
	newest := func() []EventReport { // newest first, as dir=b lists
		out := make([]EventReport, len(reports))
		for i, r := range reports {
			out[len(reports)-1-i] = r
		}
		return out
	}
	list := offsetServer(newest())
	first := true
	c, _ := newFake(t, func(r request) (int, string) {
		status, body := list(r)
		if first {
			first = false
			reports = append(reports, EventReport{ID: 99, ReceivedTS: 5000})
			list = offsetServer(newest())
		}
		return status, body
	})
	ids, err := collect(t, c, EventReportsQuery{PageQuery: PageQuery{Limit: 2}})
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 4, 3, 2}, ids, "each report exactly once")
}

// A reused id with a new received_ts is a different report.
func TestIteratorKeepsReusedIDs(t *testing.T) {
	c, _ := newFake(t, offsetServer([]EventReport{{ID: 2, ReceivedTS: 1}, {ID: 2, ReceivedTS: 2}}))
	ids, err := collect(t, c, EventReportsQuery{})
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 2}, ids)
}

func TestIteratorStopsWhenTheCallerDoes(t *testing.T) {
	c, f := newFake(t, offsetServer(makeReports(10)))
	for r, err := range c.EventReports(ctx, EventReportsQuery{PageQuery: PageQuery{Limit: 2}}) {
		require.NoError(t, err)
		if r.ID == 3 {
			break
		}
	}
	assert.Len(t, f.requests(), 1)
}

func TestIteratorYieldsErrorsAndStops(t *testing.T) {
	list := offsetServer(makeReports(5))
	c, f := newFake(t, func(r request) (int, string) {
		if r.Query.Get("from") == "2" {
			return http.StatusInternalServerError, `{"errcode": "M_UNKNOWN", "error": "database is locked"}`
		}
		return list(r)
	})
	ids, err := collect(t, c, EventReportsQuery{PageQuery: PageQuery{Limit: 2}})
	assert.Equal(t, []int64{2, 3}, ids)
	assert.Equal(t, http.StatusInternalServerError, StatusCode(err))
	assert.ErrorContains(t, err, "database is locked")
	assert.Len(t, f.requests(), 2)
}

func TestUserReportsAndUserMediaIterate(t *testing.T) {
	c, f := newFake(t, func(r request) (int, string) {
		from := r.Query.Get("from")
		switch r.Path {
		case "/_synapse/admin/v1/user_reports":
			if from == "" {
				return 200, `{"user_reports": [{"id": 2, "received_ts": 1}], "total": 2, "next_token": 1}`
			}
			return 200, `{"user_reports": [{"id": 3, "received_ts": 2}], "total": 2}`
		default:
			if from == "" {
				return 200, `{"media": [{"media_id": "a"}], "total": 2, "next_token": 1}`
			}
			return 200, `{"media": [{"media_id": "b"}], "total": 2}`
		}
	})
	var reportIDs []int64
	for r, err := range c.UserReports(ctx, UserReportsQuery{PageQuery: PageQuery{Limit: 1}}) {
		require.NoError(t, err)
		reportIDs = append(reportIDs, r.ID)
	}
	assert.Equal(t, []int64{2, 3}, reportIDs)
	var media []string
	for m, err := range c.UserMedia(ctx, userID, UserMediaQuery{PageQuery: PageQuery{Limit: 1}}) {
		require.NoError(t, err)
		media = append(media, m.MediaID)
	}
	assert.Equal(t, []string{"a", "b"}, media)
	assert.Len(t, f.requests(), 4)
}
