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

// InputRange asks the gateway for the range model's metadata declares for
// its input values: [0, 255] where it declares none.
func (c *Client) InputRange(ctx context.Context, model string) (lo, hi float64, err error) {
	mv, err := c.Model(ctx, model)
	if err != nil {
		return 0, 0, fmt.Errorf("model %s: %w", model, err)
	}
	lo, hi = 0, 255
	if len(mv.Versions) > 0 {
		in := mv.Versions[0].Input
		if in.Min != nil {
			lo = *in.Min
		}
		if in.Max != nil {
			hi = *in.Max
		}
	}
	return lo, hi, nil
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
