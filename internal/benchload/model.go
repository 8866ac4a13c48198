package benchload

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// ItemShape asks the gateway for the shape of one item of model (its
// input shape without the batch dimension).
func (c *Client) ItemShape(ctx context.Context, model string) ([]int, error) {
	resp, err := c.request(ctx, http.MethodGet, "/v1/models/"+model, "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("model %s: %d %s", model, resp.StatusCode, b)
	}
	var mv struct {
		Versions []struct {
			Input struct {
				Shape []int `json:"shape"`
			} `json:"input"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(b, &mv); err != nil || len(mv.Versions) == 0 || len(mv.Versions[0].Input.Shape) == 0 {
		return nil, fmt.Errorf("model %s: no input shape in %s", model, b)
	}
	return mv.Versions[0].Input.Shape[1:], nil
}

// Cancel cancels a job (for backlogs that are not read to the end).
func (c *Client) Cancel(ctx context.Context, id string) error {
	resp, err := c.request(ctx, http.MethodPost, "/v1/jobs/"+id+"/cancel", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
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
