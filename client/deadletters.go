package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"batchinfer/api"
)

// DeadLetter is a chunk given up after its deliveries (GET /v1/deadletters).
type DeadLetter = api.DeadLetter

// DeadLetterList is a page of dead letters.
type DeadLetterList = api.DeadLetterList

// DeadLetterDetail is a dead letter with a page of its payload's items.
type DeadLetterDetail = api.DeadLetterDetail

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

// DeadLetter is one dead letter, with the first page of its payload.
func (c *Client) DeadLetter(ctx context.Context, id string) (*DeadLetterDetail, error) {
	return getAs[DeadLetterDetail](ctx, c, letterPath(id), nil)
}

// Redrive runs a dead letter's chunk again in its job (exactly once: a
// second redrive of the letter is refused), and returns the job's status.
// It is not retried: an answer lost in transit is found with DeadLetter.
func (c *Client) Redrive(ctx context.Context, id string) (*api.Redriven, error) {
	var out api.Redriven
	if err := c.doCall(ctx, &call{method: http.MethodPost, path: letterPath(id) + "/redrive"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDeadLetter drops a dead letter (its items stay failed).
func (c *Client) DeleteDeadLetter(ctx context.Context, id string) error {
	return c.doCall(ctx, &call{method: http.MethodDelete, path: letterPath(id), retry: true}, nil)
}
