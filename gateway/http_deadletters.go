package gateway

import (
	"net/http"

	"batchinfer/api"
	"batchinfer/gateway/service"
)

// handleDeadLetters lists a page of dead letters (GET /v1/deadletters).
func (g *Gateway) handleDeadLetters(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", 100, 1, service.MaxLettersPage)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := g.svc.DeadLetters(r.Context(), service.LetterQuery{Kind: q.Get("kind"), Tenant: q.Get("tenant"), Job: q.Get("job"),
		Model: q.Get("model"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, list)
	return nil
}

// handleDeadLetter shows a letter with a page of its payload's items.
func (g *Gateway) handleDeadLetter(w http.ResponseWriter, r *http.Request) error {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 100, 1, service.MaxLetterItems)
	if err != nil {
		return err
	}
	d, err := g.svc.DeadLetter(r.Context(), r.PathValue("id"), offset, limit)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, d)
	return nil
}

// handleRedrive runs a letter's chunk again in its job (202: the chunk is
// queued).
func (g *Gateway) handleRedrive(w http.ResponseWriter, r *http.Request) error {
	res, err := g.svc.Redrive(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", api.LinksFor(res.Job.ID).Self)
	api.WriteJSON(w, http.StatusAccepted, res)
	return nil
}

// handlePurgeLetter deletes one letter (204).
func (g *Gateway) handlePurgeLetter(w http.ResponseWriter, r *http.Request) error {
	if err := g.svc.PurgeLetter(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handlePurgeLetters deletes a job's letters (DELETE /v1/deadletters?job=).
func (g *Gateway) handlePurgeLetters(w http.ResponseWriter, r *http.Request) error {
	job := r.URL.Query().Get("job")
	if job == "" {
		return api.Errorf(api.CodeBadRequest, "job is required: DELETE /v1/deadletters?job=ID purges a job's letters (DELETE /v1/deadletters/{id} one letter)")
	}
	n, err := g.svc.PurgeLetters(r.Context(), job)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, api.Purged{Purged: n})
	return nil
}
