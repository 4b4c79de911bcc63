package adminapi

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"maunium.net/go/mautrix"
)

// PageQuery holds the paging parameters that Synapse's offset-paged list
// endpoints (event reports, user reports, a user's media) share.
type PageQuery struct {
	// From is the offset of the first item to return; 0 is the start.
	// Synapse's next_token is such an offset.
	From int64
	// Limit is the page size. 0 leaves it to Synapse (100). Synapse answers
	// a literal limit=0 with an empty page, so it is never sent.
	Limit int
	// Dir is mautrix.DirectionBackward (newest first) or
	// mautrix.DirectionForward (oldest first); 0 leaves it to Synapse, which
	// lists reports newest first.
	Dir mautrix.Direction
}

func (p PageQuery) validate() error {
	switch {
	case p.From < 0:
		return &InvalidInputError{What: "page offset", Value: strconv.FormatInt(p.From, 10), Reason: "must not be negative"}
	case p.Limit < 0:
		return &InvalidInputError{What: "page size", Value: strconv.Itoa(p.Limit), Reason: "must not be negative"}
	case p.Dir != 0 && p.Dir != mautrix.DirectionForward && p.Dir != mautrix.DirectionBackward:
		return &InvalidInputError{What: "direction", Value: string(p.Dir), Reason: "must be f (oldest first) or b (newest first)"}
	}
	return nil
}

func (p PageQuery) values() url.Values {
	q := url.Values{}
	if p.From > 0 {
		q.Set("from", strconv.FormatInt(p.From, 10))
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Dir != 0 {
		q.Set("dir", string(p.Dir))
	}
	return q
}

// Page is one page of an offset-paged list.
type Page[T any] struct {
	// Items are the page's entries in the requested order.
	Items []T
	// NextToken is the offset of the next page, or nil on the last page.
	NextToken *int64
	// Total is the number of entries matching the filters across all pages.
	Total int64
}

// paginate yields every item from fetch, page after page, starting at
// start. It stops on the last page (no next_token) or an empty page, and
// yields ErrPagingStuck when next_token does not move forward, which is what
// Synapse answers to limit=0. Items whose key was already yielded are
// skipped: new entries arriving while paging newest-first shift the offsets,
// which would otherwise repeat the last item of a page on the next one.
func paginate[T any, K comparable](ctx context.Context, start int64, key func(T) K,
	fetch func(ctx context.Context, from int64) (*Page[T], error),
) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := make(map[K]struct{})
		from := start
		for {
			page, err := fetch(ctx, from)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range page.Items {
				k := key(item)
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
				if !yield(item, nil) {
					return
				}
			}
			switch {
			case page.NextToken == nil:
				return
			case *page.NextToken <= from:
				yield(zero, fmt.Errorf("%w: page at offset %d answered next_token %d", ErrPagingStuck, from, *page.NextToken))
				return
			case len(page.Items) == 0:
				return
			}
			from = *page.NextToken
		}
	}
}
