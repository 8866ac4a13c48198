package gateway

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/gateway/service"
)

func (g *Gateway) handleModels(w http.ResponseWriter, _ *http.Request) error {
	api.WriteJSON(w, http.StatusOK, g.svc.Models())
	return nil
}

func (g *Gateway) handleModel(w http.ResponseWriter, r *http.Request) error {
	v, err := g.svc.ModelVersions(r.PathValue("name"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (g *Gateway) handlePredict(w http.ResponseWriter, r *http.Request) error {
	rd := g.openBody(w, r, g.cfg.MaxSyncBodyBytes)
	defer rd.Release()
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	var timeout time.Duration
	if s := r.URL.Query().Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return api.Errorf(api.CodeBadRequest, "timeout must be a duration in [%s, %s], e.g. 2s",
				g.cfg.Service.MinSyncTimeout, g.cfg.Service.SyncTimeout)
		}
		timeout = d
	}
	req, err := predictBody(r.Body, r.ContentLength)
	if err != nil {
		return err
	}
	resp, err := g.svc.Predict(r.Context(), service.PredictRequest{
		Model: r.PathValue("name"), Version: r.URL.Query().Get("version"), Inputs: req.Inputs, Timeout: timeout,
	})
	if err != nil {
		return err
	}
	api.WriteJSONBytes(w, http.StatusOK, resp.AppendJSON(make([]byte, 0, 128+len(resp.Items))))
	return nil
}

// predictBody reads {"inputs":[...]}: split without decoding the inputs
// (input.SplitJobBody) when it is plain, else decoded strictly for the
// precise error.
func predictBody(body io.Reader, length int64) (api.PredictRequest, error) {
	raw, err := readAll(body, length)
	if err != nil {
		return api.PredictRequest{}, bodyErr(err)
	}
	if jr, err := input.SplitJobBody(raw); err == nil && jr.Model == "" && jr.Version == "" && jr.Inputs != nil {
		return api.PredictRequest{Inputs: jr.Inputs}, nil
	}
	var req api.PredictRequest
	err = input.DecodeJSONBody(bytes.NewReader(raw), &req)
	return req, err
}

// checkJSONContentType accepts JSON bodies: application/json, none, or
// curl -d's default application/x-www-form-urlencoded.
func checkJSONContentType(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "", "application/x-www-form-urlencoded":
		return nil
	}
	return api.Errorf(api.CodeUnsupportedMedia, "content type %q is not supported: use application/json", ct)
}

func (g *Gateway) handleCluster(w http.ResponseWriter, r *http.Request) error {
	api.WriteJSON(w, http.StatusOK, g.svc.Cluster(r.Context()))
	return nil
}
