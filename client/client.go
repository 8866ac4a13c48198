// Package client is a Go client of the batchinfer HTTP API, for commands
// and programs: so far the model registry's operations (push a model
// version, retire one, set an alias), on which the batchinfer CLI's
// `models push DIR --name N --version V` is built.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"batchinfer/api"
)

// Client calls one gateway with one API key.
type Client struct {
	// BaseURL is the gateway's, e.g. http://localhost:8000.
	BaseURL string
	// Key is the API key sent as the Bearer credentials ("" sends none).
	Key string
	// HTTP is the HTTP client (http.DefaultClient when nil). A push
	// streams the model: give it no overall timeout shorter than that.
	HTTP *http.Client
}

// Error is an error answer of the API: its status and its JSON error's
// code and message (which names the problem).
type Error struct {
	Status  int
	Code    api.Code
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// do sends a request and decodes a 2xx JSON answer into out (when not
// nil); any other answer is an *Error.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		var eb api.ErrorBody
		if b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)); json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			e.Code, e.Message = eb.Error.Code, eb.Error.Message
		} else {
			e.Code, e.Message = api.CodeInternal, strings.TrimSpace(string(b))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// versionPath is a model version's registry path.
func versionPath(name, version string) string {
	return "/v1/models/" + url.PathEscape(name) + "/versions/" + url.PathEscape(version)
}
