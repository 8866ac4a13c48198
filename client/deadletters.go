package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DeadLetter is a chunk of a job that failed every delivery to the
// workers and was set aside (GET /v1/deadletters): which items, of which
// job and model, why, and after how many deliveries.
type DeadLetter struct {
	ID         string    `json:"id"`
	Job        string    `json:"job"`
	Chunk      int       `json:"chunk"`
	Start      int       `json:"start"`
	Count      int       `json:"count"`
	Model      string    `json:"model"`
	Version    string    `json:"version"`
	Tenant     string    `json:"tenant"`
	Reason     string    `json:"reason"`
	Deliveries int       `json:"deliveries"`
	DeadAt     time.Time `json:"dead_at"`
}

// DeadLetterList is a page of dead letters.
type DeadLetterList struct {
	Letters []DeadLetter `json:"letters"`
	// NextCursor is the cursor of the next page; absent on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// DeadLetterOptions filter and page the dead letters.
type DeadLetterOptions struct {
	Limit  int
	Cursor string
	Job    string
	Model  string
}

func (o DeadLetterOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	for k, v := range map[string]string{"cursor": o.Cursor, "job": o.Job, "model": o.Model} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func letterPath(id string) string { return "/v1/deadletters/" + url.PathEscape(id) }

// DeadLetters is a page of the dead letters the caller may see.
func (c *Client) DeadLetters(ctx context.Context, opts DeadLetterOptions) (*DeadLetterList, error) {
	return getAs[DeadLetterList](ctx, c, "/v1/deadletters", opts.query())
}

// DeadLetter is one dead letter.
func (c *Client) DeadLetter(ctx context.Context, id string) (*DeadLetter, error) {
	return getAs[DeadLetter](ctx, c, letterPath(id), nil)
}

// Redrive sends a dead letter's chunk to the workers again.
func (c *Client) Redrive(ctx context.Context, id string) error {
	return c.doCall(ctx, &call{method: http.MethodPost, path: letterPath(id) + "/redrive", retry: true}, nil)
}

// DeleteDeadLetter drops a dead letter (its items stay failed).
func (c *Client) DeleteDeadLetter(ctx context.Context, id string) error {
	return c.doCall(ctx, &call{method: http.MethodDelete, path: letterPath(id), retry: true}, nil)
}
