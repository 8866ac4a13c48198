package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"

	"batchinfer/api"
)

// maxResultLine bounds one line of a results stream.
const maxResultLine = 64 << 20

// ResultLines streams every result of a job in index order as NDJSON
// lines (GET /v1/jobs/{id}/results?format=ndjson), waiting for pending
// items until the job ends; each line is valid until the next is yielded.
// A dropped stream ends with its error (it does not resume: Follow does).
func (c *Client) ResultLines(ctx context.Context, id string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		k := &call{method: http.MethodGet, path: jobPath(id, "results"), query: url.Values{"format": {"ndjson"}}, retry: true}
		resp, err := c.send(ctx, k)
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 64<<10)
		for {
			line, err := readLine(br)
			if len(line) > 0 && !yield(line, nil) {
				return
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("results of %s: %w", id, err))
				return
			}
		}
	}
}

// readLine reads one line without its end, within maxResultLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= maxResultLine {
			line, err = br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		if len(buf) > maxResultLine {
			return nil, fmt.Errorf("a line longer than %d bytes", maxResultLine)
		}
		line = buf
	}
	return bytes.TrimRight(line, "\r\n"), err
}

// ResultsStream is ResultLines decoded: every result of a job in index
// order, as the items finish.
func (c *Client) ResultsStream(ctx context.Context, id string) iter.Seq2[api.ItemResult, error] {
	return func(yield func(api.ItemResult, error) bool) {
		for line, err := range c.ResultLines(ctx, id) {
			var it api.ItemResult
			if err == nil {
				if err = json.Unmarshal(line, &it); err != nil {
					err = fmt.Errorf("results of %s: %w", id, err)
				}
			}
			if !yield(it, err) || err != nil {
				return
			}
		}
	}
}
