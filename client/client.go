package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"batchinfer/api"
)

// DefaultRetryFor is how long a Client whose RetryFor is zero keeps trying
// a gateway that cannot be reached or says it is restarting or busy.
const DefaultRetryFor = time.Minute

// Client calls one gateway with one API key. Set BaseURL (and Key); the
// zero value of every other field is a sensible default. A Client is safe
// for concurrent use and holds nothing but its HTTP client's connections.
type Client struct {
	// BaseURL is the gateway's, e.g. http://localhost:8000.
	BaseURL string
	// Key is the API key (or JWT) sent as the Bearer credentials; "" sends
	// none (a gateway run with -auth=none).
	Key string
	// HTTP is the HTTP client (a shared one without an overall timeout
	// when nil: uploads, downloads and result streams take as long as
	// their data; give every call a context with a deadline instead).
	HTTP *http.Client
	// UserAgent is sent with every request ("batchinfer-go" when empty).
	UserAgent string
	// RetryFor bounds how long a call keeps retrying what may succeed
	// later: a gateway that cannot be reached (restarting), and the
	// answers unavailable, not_ready, busy, queue_full, rate_limited and
	// too_many_connections (waiting what Retry-After says). Only calls
	// that are safe to repeat are retried: reads, cancels, predictions,
	// submissions with an idempotency key, and uploads, downloads and
	// follows, which resume where they stopped. 0 is DefaultRetryFor; a
	// negative value turns retries off.
	RetryFor time.Duration
}

// New returns a Client of the gateway at baseURL that sends key.
func New(baseURL, key string) *Client {
	return &Client{BaseURL: baseURL, Key: key}
}

// ExpectContinueTimeout is how long a request with a large body waits
// for the gateway's 100 Continue before sending the body anyway. A
// transport given in Client.HTTP should set it too: without it a refusal
// the gateway sends before reading a body (a tenant's submission slots
// taken, 429) reaches the client as a broken connection once the body is
// over what the gateway drains (256 KiB).
const ExpectContinueTimeout = 2 * time.Second

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	MaxIdleConnsPerHost:   16,
	IdleConnTimeout:       90 * time.Second,
	ForceAttemptHTTP2:     true,
	ExpectContinueTimeout: ExpectContinueTimeout,
}}

// expectAbove is the body size from which a request asks for 100
// Continue before sending its body.
const expectAbove = 64 << 10

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) retryFor() time.Duration {
	switch {
	case c.RetryFor == 0:
		return DefaultRetryFor
	case c.RetryFor < 0:
		return 0
	}
	return c.RetryFor
}

// endpoint is the URL of path (with query q) on the gateway.
func (c *Client) endpoint(path string, q url.Values) string {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// call is one API request.
type call struct {
	method, path string
	query        url.Values
	header       http.Header
	// body is the request's body: bytes (sent again on a retry) or a
	// reader (never retried once it was sent).
	body   []byte
	stream io.Reader
	// size is stream's length, sent as Content-Length (0: unknown).
	size int64
	// retry: the request may be repeated (it is idempotent).
	retry bool
	// ok lists more statuses than 2xx that are answers, not errors.
	ok []int
}

func (c *Client) newRequest(ctx context.Context, k *call) (*http.Request, error) {
	var body io.Reader
	switch {
	case k.stream != nil:
		body = k.stream
	case k.body != nil:
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.endpoint(k.path, k.query), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k.method, k.path, err)
	}
	if k.stream != nil && k.size > 0 {
		req.ContentLength = k.size
	}
	for h, v := range k.header {
		req.Header[h] = v
	}
	if req.ContentLength > expectAbove || k.stream != nil && req.ContentLength == 0 { // large, or of unknown length
		req.Header.Set("Expect", "100-continue") // a refusal comes before the body is sent
	}
	c.authorize(req.Header)
	return req, nil
}

// authorize sets the credentials and the user agent on h.
func (c *Client) authorize(h http.Header) {
	if c.Key != "" {
		h.Set("Authorization", "Bearer "+c.Key)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "batchinfer-go"
	}
	h.Set("User-Agent", ua)
}

// send makes the call, retrying what may succeed later while it may, and
// returns a response with a 2xx status (or one of k.ok); any other answer
// is an *api.Error. The caller closes the body.
func (c *Client) send(ctx context.Context, k *call) (*http.Response, error) {
	var resp *http.Response
	err := c.retrying(ctx, k.retry, func() error {
		req, err := c.newRequest(ctx, k)
		if err != nil {
			return permanent(err)
		}
		r, err := c.httpClient().Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", k.method, k.path, err)
		}
		if r.StatusCode/100 == 2 || containsInt(k.ok, r.StatusCode) {
			resp = r
			return nil
		}
		defer r.Body.Close()
		return errorFrom(r)
	})
	return resp, err
}

// do makes the call and decodes a JSON answer into out (when not nil).
func (c *Client) doCall(ctx context.Context, k *call, out any) error {
	resp, err := c.send(ctx, k)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", k.method, k.path, err)
	}
	return nil
}

// do sends a request with a body read once (never retried) and decodes a
// 2xx JSON answer into out (when not nil); any other answer is an
// *api.Error.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	k := &call{method: method, path: path, stream: body, retry: body == nil && method != http.MethodPost}
	if contentType != "" {
		k.header = http.Header{"Content-Type": {contentType}}
	}
	return c.doCall(ctx, k, out)
}

// getJSON GETs path with q into out, retried while it may.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	return c.doCall(ctx, &call{method: http.MethodGet, path: path, query: q, retry: true}, out)
}

// postJSON POSTs v as JSON into out; retry says whether repeating it is
// harmless.
func (c *Client) postJSON(ctx context.Context, path string, q url.Values, v any, hdr http.Header, retry bool, out any) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("POST %s: encode the body: %w", path, err)
		}
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Content-Type", "application/json")
	return c.doCall(ctx, &call{method: http.MethodPost, path: path, query: q, header: hdr, body: b, retry: retry}, out)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// versionPath is a model version's registry path.
func versionPath(name, version string) string {
	return "/v1/models/" + url.PathEscape(name) + "/versions/" + url.PathEscape(version)
}

// jobPath is the path of job id, and of its sub-resource when given.
func jobPath(id string, sub ...string) string {
	p := "/v1/jobs/" + url.PathEscape(id)
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

// getAs GETs path with q and decodes the answer as a T.
func getAs[T any](ctx context.Context, c *Client, path string, q url.Values) (*T, error) {
	var out T
	if err := c.getJSON(ctx, path, q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Health is GET /health: whether the gateway process is alive, and its
// version.
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	return getAs[api.Health](ctx, c, "/health", nil)
}

// Whoami says who the credentials make the caller: tenant, role, key id.
func (c *Client) Whoami(ctx context.Context) (*api.Whoami, error) {
	return getAs[api.Whoami](ctx, c, "/v1/whoami", nil)
}

// Cluster is GET /v1/cluster: the workers and the queues (operator role).
func (c *Client) Cluster(ctx context.Context) (*api.Cluster, error) {
	return getAs[api.Cluster](ctx, c, "/v1/cluster", nil)
}
