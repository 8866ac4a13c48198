package benchload

import (
	"context"
	"fmt"
)

// ItemShape asks the gateway for the shape of one item of model (its
// input shape without the batch dimension).
func (c *Client) ItemShape(ctx context.Context, model string) ([]int, error) {
	mv, err := c.Model(ctx, model)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", model, err)
	}
	if len(mv.Versions) == 0 || len(mv.Versions[0].Input.Shape) == 0 {
		return nil, fmt.Errorf("model %s: no input shape in %+v", model, mv)
	}
	shape := make([]int, 0, len(mv.Versions[0].Input.Shape)-1)
	for _, d := range mv.Versions[0].Input.Shape[1:] {
		shape = append(shape, int(d))
	}
	return shape, nil
}

// Cancel cancels a job (for backlogs that are not read to the end).
func (c *Client) Cancel(ctx context.Context, id string) error {
	_, err := c.Client.Cancel(ctx, id)
	return err
}

// Backlog submits jobs of n items each in NDJSON without reading their
// results, and returns their ids.
func (c *Client) Backlog(ctx context.Context, co *Corpus, jobs, n int) ([]string, error) {
	ct, body, _, err := co.Body("ndjson", n)
	if err != nil {
		return nil, err
	}
	var ids []string
	for range jobs {
		id, err := c.submit(ctx, co.Model, ct, body)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}
