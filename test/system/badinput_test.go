package system

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
)

func f32b64(vals ...float32) string {
	b := make([]byte, 4*64)
	for i := 0; i < 64; i++ {
		v := float32(1)
		if i < len(vals) {
			v = vals[i]
		}
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Every client mistake gets a 4xx with a JSON body naming the problem, and
// the service keeps serving.
func TestBadInputGets4xxJSON(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.Service.MaxItems = 50
		c.MaxBodyBytes, c.MaxJSONBodyBytes = 64<<10, 64<<10
		c.Service.MaxSyncItems = 4
	}})
	ok64 := "[" + strings.TrimSuffix(strings.Repeat("1,", 64), ",") + "]"
	for _, tc := range []struct {
		name, method, path, ct, body string
		status                       int
		code                         api.Code
		mention                      string
	}{
		{"malformed json", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[`, 400, api.CodeInvalidJSON, "malformed JSON"},
		{"not an object", "POST", "/v1/jobs", "application/json", `[1,2]`, 400, api.CodeInvalidJSON, ""},
		{"unknown field", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputz":[]}`, 400, api.CodeInvalidJSON, "inputz"},
		{"trailing data", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[` + ok64 + `]} {}`, 400, api.CodeInvalidJSON, "trailing"},
		{"missing model", "POST", "/v1/jobs", "application/json", `{"inputs":[` + ok64 + `]}`, 400, api.CodeBadRequest, "model"},
		{"wrong shape", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[[1,2,3]]}`, 400, api.CodeInvalidInput, "expected 64 values"},
		{"wrong nesting", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[[[1,2],[3,4]]]}`, 400, api.CodeInvalidInput, "shape"},
		{"wrong dtype", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[["a","b"]]}`, 400, api.CodeInvalidInput, "must be numbers"},
		{"NaN literal", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[[NaN]]}`, 400, api.CodeInvalidInput, "must be numbers"},
		{"NaN in b64", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[{"b64":"` + f32b64(float32(math.NaN())) + `"}]}`, 400, api.CodeInvalidInput, "finite"},
		{"Inf in b64", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[{"b64":"` + f32b64(float32(math.Inf(1))) + `"}]}`, 400, api.CodeInvalidInput, "finite"},
		{"overflow", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[[1e999]]}`, 400, api.CodeInvalidInput, "finite"},
		{"out of range", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[{"b64":"` + f32b64(99) + `"}]}`, 400, api.CodeInvalidInput, "maximum"},
		{"NaN in csv", "POST", "/v1/jobs?model=breast_cancer", "text/csv", strings.Repeat("NaN,", 29) + "1\n", 400, api.CodeInvalidInput, "finite"},
		{"empty batch", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[]}`, 400, api.CodeInvalidInput, "empty"},
		{"empty ndjson", "POST", "/v1/jobs?model=digits", "application/x-ndjson", "\n\n", 400, api.CodeInvalidInput, "empty"},
		{"too many items", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[` + strings.TrimSuffix(strings.Repeat("[0],", 51), ",") + `]}`, 413, api.CodeTooManyItems, "limit is 50"},
		{"too many ndjson items", "POST", "/v1/jobs?model=digits", "application/x-ndjson", strings.Repeat(ok64+"\n", 51), 413, api.CodeTooManyItems, "50"},
		{"body too large", "POST", "/v1/jobs", "application/json", `{"model":"digits","inputs":[` + strings.Repeat(" ", 70<<10) + `]}`, 413, api.CodeBodyTooLarge, "65536"},
		{"unknown model", "POST", "/v1/jobs", "application/json", `{"model":"nope","inputs":[` + ok64 + `]}`, 404, api.CodeUnknownModel, "nope"},
		{"unknown version", "POST", "/v1/jobs", "application/json", `{"model":"digits","version":"9","inputs":[` + ok64 + `]}`, 404, api.CodeUnknownModel, "version 9"},
		{"invalid model name", "POST", "/v1/jobs", "application/json", `{"model":"../x","inputs":[` + ok64 + `]}`, 400, api.CodeBadRequest, "invalid"},
		{"unsupported media type", "POST", "/v1/jobs", "application/xml", `<x/>`, 415, api.CodeUnsupportedMedia, "xml"},
		{"ndjson without model", "POST", "/v1/jobs", "application/x-ndjson", ok64, 400, api.CodeBadRequest, "model"},
		{"unknown job", "GET", "/v1/jobs/j0000000000000000000000", "", "", 404, api.CodeUnknownJob, "unknown job"},
		{"malformed job id", "GET", "/v1/jobs/..%2F..%2Fetc", "", "", 404, api.CodeUnknownJob, ""},
		{"unknown job results", "GET", "/v1/jobs/j0000000000000000000000/results", "", "", 404, api.CodeUnknownJob, ""},
		{"unknown job output", "GET", "/v1/jobs/j0000000000000000000000/output", "", "", 404, api.CodeUnknownJob, ""},
		{"unknown job errors", "GET", "/v1/jobs/j0000000000000000000000/errors?format=csv", "", "", 404, api.CodeUnknownJob, ""},
		{"output in an unknown format", "GET", "/v1/jobs/j0000000000000000000000/output?format=parquet", "", "", 400, api.CodeBadRequest, "ndjson or csv"},
		{"output posted", "POST", "/v1/jobs/j0000000000000000000000/output", "", "", 405, api.CodeMethodNotAllowed, ""},
		{"bad list limit", "GET", "/v1/jobs?limit=-3", "", "", 400, api.CodeBadRequest, "limit"},
		{"unknown model info", "GET", "/v1/models/nope", "", "", 404, api.CodeUnknownModel, "nope"},
		{"predict too many items", "POST", "/v1/models/digits/predict", "application/json", `{"inputs":[[0],[0],[0],[0],[0]]}`, 413, api.CodeTooManyItems, "limit is 4"},
		{"predict bad timeout", "POST", "/v1/models/digits/predict?timeout=forever", "application/json", `{"inputs":[` + ok64 + `]}`, 400, api.CodeBadRequest, "timeout"},
		{"predict timeout below the minimum", "POST", "/v1/models/digits/predict?timeout=1ns", "application/json", `{"inputs":[` + ok64 + `]}`, 400, api.CodeBadRequest, "[10ms, 10s]"},
		{"predict timeout above the maximum", "POST", "/v1/models/digits/predict?timeout=1h", "application/json", `{"inputs":[` + ok64 + `]}`, 400, api.CodeBadRequest, "[10ms, 10s]"},
		{"predict text/plain", "POST", "/v1/models/digits/predict", "text/plain", `{"inputs":[` + ok64 + `]}`, 415, api.CodeUnsupportedMedia, "text/plain"},
		{"path with dot segments", "GET", "/v1/jobs/../../etc/passwd", "", "", 404, api.CodeNotFound, "no route"},
		{"path with doubled slash", "GET", "/v1//jobs", "", "", 404, api.CodeNotFound, "no route"},
		{"path with trailing slash", "GET", "/v1/jobs/", "", "", 404, api.CodeNotFound, "no route"},
		{"predict image on tabular model", "POST", "/v1/models/breast_cancer/predict", "application/json", `{"inputs":[{"image":"aGVsbG8="}]}`, 400, api.CodeInvalidInput, "does not accept images"},
		{"predict not an image", "POST", "/v1/models/digits/predict", "application/json", `{"inputs":[{"image":"aGVsbG8="}]}`, 400, api.CodeInvalidInput, "not a PNG"},
		{"wrong method", "DELETE", "/v1/jobs", "", "", 405, api.CodeMethodNotAllowed, "DELETE"},
		{"unknown path", "GET", "/v1/nothing", "", "", 404, api.CodeNotFound, ""},
		{"websocket without upgrade", "GET", "/v1/ws", "", "", 400, api.CodeBadRequest, "upgrade"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			code, hdr, body := s.Do(tc.method, tc.path, tc.ct, []byte(tc.body), nil)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			if err := jsonUnmarshal(body, &e); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.mention) {
				t.Fatalf("error %+v, want code %s mentioning %q", e.Error, tc.code, tc.mention)
			}
		})
	}
	// Still serving.
	var resp struct {
		Items []itemResult `json:"items"`
	}
	if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": [][]float32{DigitSamples(t)[0].Pixels}}, &resp); code != http.StatusOK || len(resp.Items) != 1 {
		t.Fatalf("predict after bad input: %d", code)
	}
}

// A client that goes away while its prediction runs is its own doing: the
// gateway records 499, not a 500, and logs no error.
func TestAbandonedPredictionIsNotAnError(t *testing.T) {
	gate := newGate()
	var logs logBuffer
	s := Start(t, Options{Models: gate.wrap, GatewayLog: &logs})
	gate.close()
	defer gate.open()
	inputs, _ := DigitInputs(t, 1)
	body := mustJSON(t, map[string]any{"inputs": inputs})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.BaseURL+"/v1/models/digits/predict", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+KeyA)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-gate.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the prediction never reached inference")
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	Eventually(t, 10*time.Second, func() error {
		_, _, b := s.Do("GET", "/metrics", "", nil, nil)
		if !strings.Contains(string(b), `code="499"`) {
			return errors.New("no request recorded with status 499")
		}
		return nil
	})
	if errs := logs.lines(map[string]string{"level": "error"}); len(errs) != 0 {
		t.Fatalf("errors logged for an abandoned request: %q", errs)
	}
}
