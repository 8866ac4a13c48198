package gateway

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/gateway/service"
)

// multipartSlack is what a multipart push may carry beside its model and
// metadata: boundaries and part headers.
const multipartSlack = 64 << 10

// maxAliasBody bounds PUT /v1/models/{name}/aliases/{alias}'s body.
const maxAliasBody = 64 << 10

// handlePushModel is PUT /v1/models/{name}/versions/{version}: the body is
// the model (a tar, tar.gz or zip archive of the version directory, or a
// .tflite file), or multipart/form-data with the model as part "model" and
// metadata.json as part "metadata".
func (g *Gateway) handlePushModel(w http.ResponseWriter, r *http.Request) error {
	rc := g.cfg.Service.Registry
	r.Body = http.MaxBytesReader(w, r.Body, rc.MaxModelBytes+int64(rc.MaxMetadataBytes)+multipartSlack)
	p := service.Push{Name: r.PathValue("name"), Version: r.PathValue("version")}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mp := &multipartPush{mr: multipart.NewReader(r.Body, params["boundary"]), maxMeta: rc.MaxMetadataBytes}
		model, err := mp.modelPart()
		if err != nil {
			return err
		}
		p.Body, p.Metadata = model, mp.rest
	} else {
		p.Body = r.Body
	}
	p.Body = &modelLimit{r: p.Body, left: rc.MaxModelBytes, max: rc.MaxModelBytes}
	v, err := g.svc.Push(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/models/"+v.Name+"/versions/"+v.Version)
	api.WriteJSON(w, http.StatusCreated, v)
	return nil
}

// handleRetireModel is DELETE /v1/models/{name}/versions/{version}.
func (g *Gateway) handleRetireModel(w http.ResponseWriter, r *http.Request) error {
	v, err := g.svc.Retire(r.Context(), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusAccepted, v)
	return nil
}

// handleModelVersions is GET /v1/models/{name}/versions.
func (g *Gateway) handleModelVersions(w http.ResponseWriter, r *http.Request) error {
	v, err := g.svc.Versions(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, v)
	return nil
}

// handleSetAlias is PUT /v1/models/{name}/aliases/{alias}.
func (g *Gateway) handleSetAlias(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxAliasBody)
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	var req api.AliasRequest
	if err := input.DecodeJSONBody(r.Body, &req); err != nil {
		return err
	}
	a, err := g.svc.SetAlias(r.Context(), r.PathValue("name"), r.PathValue("alias"), req.Weights)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, a)
	return nil
}

// handleDeleteAlias is DELETE /v1/models/{name}/aliases/{alias}.
func (g *Gateway) handleDeleteAlias(w http.ResponseWriter, r *http.Request) error {
	if err := g.svc.DeleteAlias(r.Context(), r.PathValue("name"), r.PathValue("alias")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// modelLimit ends a pushed model past its limit with a clear error.
type modelLimit struct {
	r         io.Reader
	left, max int64
}

func (m *modelLimit) Read(p []byte) (int, error) {
	if int64(len(p)) > m.left+1 {
		p = p[:m.left+1]
	}
	n, err := m.r.Read(p)
	m.left -= int64(n)
	if m.left < 0 {
		return n, api.Errorf(api.CodeBodyTooLarge, "the model is larger than %d bytes (REGISTRY_MAX_MODEL_BYTES)", m.max)
	}
	if err != nil && err != io.EOF {
		err = bodyErr(err)
	}
	return n, err
}

// multipartPush reads a multipart push: the model part, and the metadata
// part before or after it.
type multipartPush struct {
	mr       *multipart.Reader
	maxMeta  int
	metadata []byte
	seenMeta bool
}

// modelPart reads parts up to the model's, which it returns.
func (m *multipartPush) modelPart() (io.Reader, error) {
	for {
		part, err := m.mr.NextPart()
		if err == io.EOF {
			return nil, api.Errorf(api.CodeBadRequest, `the multipart body has no "model" part (the model file)`)
		}
		if err != nil {
			return nil, multipartErr(err)
		}
		if part.FormName() == "model" {
			return part, nil
		}
		if err := m.other(part); err != nil {
			return nil, err
		}
	}
}

// rest reads the parts after the model's and returns the metadata.
func (m *multipartPush) rest() ([]byte, error) {
	for {
		part, err := m.mr.NextPart()
		if err == io.EOF {
			return m.metadata, nil
		}
		if err != nil {
			return nil, multipartErr(err)
		}
		if part.FormName() == "model" {
			return nil, api.Errorf(api.CodeBadRequest, `the multipart body has two "model" parts`)
		}
		if err := m.other(part); err != nil {
			return nil, err
		}
	}
}

// other reads a part that is not the model: the metadata, once.
func (m *multipartPush) other(part *multipart.Part) error {
	if part.FormName() != "metadata" {
		return api.Errorf(api.CodeBadRequest, `unknown multipart part %q: a push has a "model" part and an optional "metadata" part`, part.FormName())
	}
	if m.seenMeta {
		return api.Errorf(api.CodeBadRequest, `the multipart body has two "metadata" parts`)
	}
	m.seenMeta = true
	b, err := io.ReadAll(io.LimitReader(part, int64(m.maxMeta)+1))
	if err != nil {
		return multipartErr(err)
	}
	if len(b) > m.maxMeta {
		return api.Errorf(api.CodeBodyTooLarge, "the metadata part is larger than %d bytes (REGISTRY_MAX_METADATA_BYTES)", m.maxMeta)
	}
	m.metadata = bytes.TrimSpace(b)
	return nil
}

func multipartErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyErr(err)
	}
	return api.Errorf(api.CodeBadRequest, "malformed multipart body: %v", err)
}
