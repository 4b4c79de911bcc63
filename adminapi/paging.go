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

// Pager walks an offset-paged list a page at a time. Its caller may change
// Limit between pages (to ask for smaller pages) and move From (to step
// over an entry); Next follows Synapse's next_token, which is an offset,
// and refuses one that does not move forward, which is what Synapse answers
// to limit=0: a loop that trusted it would never end.
type Pager[T any] struct {
	// From is the offset of the next page; Limit its size (0: Synapse's).
	From  int64
	Limit int
	// Fetch gets the page at from.
	Fetch func(ctx context.Context, from int64, limit int) (*Page[T], error)

	done bool
}

// Next returns the next page, or nil when the list has ended: after the
// last page (no next_token) or an empty page. A stuck next_token ends the
// list with ErrPagingStuck, returned with the page. A failed fetch can be tried
// again by calling Next again.
func (p *Pager[T]) Next(ctx context.Context) (*Page[T], error) {
	if p.done {
		return nil, nil
	}
	page, err := p.Fetch(ctx, p.From, p.Limit)
	if err != nil {
		return nil, err
	}
	switch {
	case page.NextToken == nil:
		p.done = true
	case *page.NextToken <= p.From:
		p.done = true
		return page, fmt.Errorf("%w: page at offset %d answered next_token %d", ErrPagingStuck, p.From, *page.NextToken)
	case len(page.Items) == 0:
		p.done = true
	default:
		p.From = *page.NextToken
	}
	return page, nil
}

// paginate yields every item from fetch, page after page, starting at
// start, and ends after the last page. Items whose key was already yielded
// are skipped: new entries arriving while paging newest-first shift the
// offsets, which would otherwise repeat the last item of a page on the next
// one. A failed request or a stuck next_token (ErrPagingStuck) is yielded
// as an error and ends the iteration.
func paginate[T any, K comparable](ctx context.Context, start int64, key func(T) K,
	fetch func(ctx context.Context, from int64) (*Page[T], error),
) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := make(map[K]struct{})
		p := &Pager[T]{From: start, Fetch: func(ctx context.Context, from int64, _ int) (*Page[T], error) { return fetch(ctx, from) }}
		for {
			page, err := p.Next(ctx)
			if page != nil {
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
			}
			if err != nil {
				yield(zero, err)
				return
			}
			if page == nil {
				return
			}
		}
	}
}
