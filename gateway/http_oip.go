package gateway

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/input"
	"batchinfer/gateway/oip"
	"batchinfer/gateway/service"
)

// oipRoutes adds the Open Inference Protocol v2 routes (KServe's and
// Triton's REST protocol): health and server metadata without
// credentials, as /health and /ready; models and inference with a user's
// key. Inference is the synchronous prediction of /v1 (same queue, limits
// and rate), its tensors read and written by package oip.
func (g *Gateway) oipRoutes(mux *http.ServeMux) {
	user := func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return g.authedWith(auth.RoleUser, api.WriteOIPError, g.oip(h))
	}
	mux.Handle("GET /v2", g.oip(g.handleOIPServer))
	mux.Handle("GET /v2/health/live", g.oip(g.handleOIPLive))
	mux.Handle("GET /v2/health/ready", g.oip(g.handleOIPReady))
	for _, m := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		mux.Handle("GET "+m, user(g.handleOIPModel))
		mux.Handle("GET "+m+"/ready", user(g.handleOIPModelReady))
		mux.Handle("POST "+m+"/infer", user(g.handleOIPInfer))
	}
}

// oip adapts a handler that returns an error as api does, the error
// written as the protocol's {"error": "<message>"}.
func (g *Gateway) oip(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e := api.As(err)
			if e.Code.HTTPStatus() >= 500 && !e.Code.Capacity() {
				g.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Str("code", string(e.Code)).Msg("request failed")
			}
			api.WriteOIPError(w, e)
		}
	}
}

func (g *Gateway) handleOIPServer(w http.ResponseWriter, _ *http.Request) error {
	api.WriteJSON(w, http.StatusOK, api.OIPServerMetadata{Name: "batchinfer", Version: g.cfg.Version, Extensions: oip.Extensions})
	return nil
}

func (g *Gateway) handleOIPLive(w http.ResponseWriter, _ *http.Request) error {
	api.WriteJSON(w, http.StatusOK, api.OIPLive{Live: true})
	return nil
}

func (g *Gateway) handleOIPReady(w http.ResponseWriter, _ *http.Request) error {
	if reason := g.notReady(); reason != "" {
		return api.Errorf(api.CodeNotReady, "not ready: %s", reason)
	}
	api.WriteJSON(w, http.StatusOK, api.OIPReady{Ready: true})
	return nil
}

// handleOIPModel is the model metadata: the version asked (the highest
// when none is), with every version of the model.
func (g *Gateway) handleOIPModel(w http.ResponseWriter, r *http.Request) error {
	meta, err := g.svc.Model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	all, err := g.svc.ModelVersions(meta.Name)
	if err != nil {
		return err
	}
	versions := make([]string, len(all.Versions))
	for i, v := range all.Versions {
		versions[i] = v.Version
	}
	api.WriteJSON(w, http.StatusOK, oip.ModelMetadata(meta, versions))
	return nil
}

// handleOIPModelReady: ready when a live worker serves the version.
func (g *Gateway) handleOIPModelReady(w http.ResponseWriter, r *http.Request) error {
	meta, err := g.svc.Model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	all, err := g.svc.ModelVersions(meta.Name)
	if err != nil {
		return err
	}
	for _, v := range all.Versions {
		if v.Version == meta.Version && v.Ready {
			api.WriteJSON(w, http.StatusOK, api.OIPModelReady{Name: meta.Name, Ready: true})
			return nil
		}
	}
	return api.Errorf(api.CodeNotReady, "model %s is not ready: no worker serves it", meta.ID())
}

// handleOIPInfer runs an inference request through the service's
// synchronous prediction and answers with the outputs asked for.
func (g *Gateway) handleOIPInfer(w http.ResponseWriter, r *http.Request) error {
	meta, err := g.svc.Model(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	body, err := g.oipBody(w, r)
	if err != nil {
		return err
	}
	hl, err := oip.HeaderLength(r.Header.Get(api.InferenceHeaderLength), len(body))
	if err != nil {
		return err
	}
	sv := g.cfg.Service
	req, err := oip.ParseRequest(body, hl, meta, oip.Limits{MaxItems: sv.MaxSyncItems, MinTimeout: sv.MinSyncTimeout, MaxTimeout: sv.SyncTimeout})
	if err != nil {
		return err
	}
	src := input.Raw(bytes.NewReader(req.Tensor))
	if req.Width == 1 {
		src = input.RawBytes(bytes.NewReader(req.Tensor))
	}
	resp, err := g.svc.Predict(r.Context(), service.PredictRequest{
		Model: meta.Name, Version: meta.Version, Source: src, Timeout: req.Timeout,
	})
	if err != nil {
		return err
	}
	results, err := oip.DecodeResults(resp.Items)
	if err != nil {
		return err
	}
	js, bin, err := oip.Encode(meta, req, results)
	if err != nil {
		return err
	}
	writeOIPResponse(w, js, bin)
	return nil
}

// oipBody reads the request body within GATEWAY_MAX_SYNC_BODY_BYTES,
// decompressed when its Content-Encoding is gzip or deflate (as
// tritonclient's request_compression_algorithm sends it).
func (g *Gateway) oipBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := g.cfg.MaxSyncBodyBytes
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	var err error
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
	case "gzip":
		body, err = gzip.NewReader(body)
	case "deflate":
		body, err = zlib.NewReader(body)
	default:
		return nil, api.Errorf(api.CodeUnsupportedMedia, "Content-Encoding %q is not supported: use gzip, deflate or none", enc)
	}
	if err != nil {
		return nil, readErr(err, enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, readErr(err, enc)
	}
	if int64(len(b)) > limit {
		return nil, api.Errorf(api.CodeBodyTooLarge, "request body exceeds %d bytes decompressed (GATEWAY_MAX_SYNC_BODY_BYTES)", limit)
	}
	return b, nil
}

// readErr names a body that fails to read: too large, or not what its
// Content-Encoding, enc, says.
func readErr(err error, enc string) error {
	var mbe *http.MaxBytesError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &mbe):
		return api.Errorf(api.CodeBodyTooLarge, "request body exceeds %d bytes (GATEWAY_MAX_SYNC_BODY_BYTES)", mbe.Limit)
	case enc == "" || enc == "identity":
	case errors.As(err, &corrupt), errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, zlib.ErrHeader),
		errors.Is(err, zlib.ErrChecksum), errors.Is(err, zlib.ErrDictionary), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return api.Errorf(api.CodeBadRequest, "the body is not what its Content-Encoding says: %v", err)
	}
	return fmt.Errorf("read body: %w", err)
}

// writeOIPResponse writes the JSON part and, when outputs are binary,
// their data after it, its length in Inference-Header-Content-Length.
func writeOIPResponse(w http.ResponseWriter, js, bin []byte) {
	if bin == nil {
		api.WriteJSONBytes(w, http.StatusOK, js)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set(api.InferenceHeaderLength, strconv.Itoa(len(js)))
	h.Set("Content-Length", strconv.Itoa(len(js)+len(bin)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(js)
	_, _ = w.Write(bin)
}
