package gateway

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/tracing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler {
	return g.instrument(g.guard(jsonFallback(g.routes())))
}

// routes is the API's route table (api/openapi.yaml documents it).
func (g *Gateway) routes() *http.ServeMux {
	user := func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return g.authed(auth.RoleUser, g.api(h))
	}
	operator := func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return g.authed(auth.RoleOperator, g.api(h))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", g.handleHealth)
	mux.HandleFunc("GET /ready", g.handleReady)
	mux.Handle("GET /metrics", g.authed(auth.RoleOperator, g.metricsHandler()))
	mux.Handle("GET /v1/whoami", user(g.handleWhoami))
	mux.Handle("GET /v1/limits", user(g.handleLimits))
	mux.Handle("GET /v1/models", user(g.handleModels))
	mux.Handle("GET /v1/models/{name}", user(g.handleModel))
	mux.Handle("POST /v1/models/{name}/predict", user(g.handlePredict))
	mux.Handle("GET /v1/models/{name}/versions", user(g.handleModelVersions))
	mux.Handle("PUT /v1/models/{name}/versions/{version}", operator(g.handlePushModel))
	mux.Handle("DELETE /v1/models/{name}/versions/{version}", operator(g.handleRetireModel))
	mux.Handle("PUT /v1/models/{name}/aliases/{alias}", operator(g.handleSetAlias))
	mux.Handle("DELETE /v1/models/{name}/aliases/{alias}", operator(g.handleDeleteAlias))
	mux.Handle("POST /v1/jobs", user(g.handleSubmit))
	mux.Handle("GET /v1/jobs", user(g.handleListJobs))
	mux.Handle("GET /v1/jobs/{id}", user(g.handleJob))
	mux.Handle("GET /v1/jobs/{id}/results", user(g.handleResults))
	mux.Handle("GET /v1/jobs/{id}/output", user(g.handleOutput)) // and HEAD
	mux.Handle("GET /v1/jobs/{id}/errors", user(g.handleErrors))
	mux.Handle("POST /v1/jobs/{id}/cancel", user(g.handleCancel))
	mux.Handle("GET /v1/jobs/{id}/webhooks", user(g.handleWebhooks))
	mux.Handle("GET /v1/deadletters", user(g.handleDeadLetters))
	mux.Handle("DELETE /v1/deadletters", user(g.handlePurgeLetters))
	mux.Handle("GET /v1/deadletters/{id}", user(g.handleDeadLetter))
	mux.Handle("DELETE /v1/deadletters/{id}", user(g.handlePurgeLetter))
	mux.Handle("POST /v1/deadletters/{id}/redrive", user(g.handleRedrive))
	mux.Handle("GET /v1/cluster", operator(g.handleCluster))
	mux.Handle("GET /v1/ws", g.ws) // credentials in the upgrade or the first message
	for pattern, h := range g.uploads.Routes() {
		mux.Handle(pattern, g.authed(auth.RoleUser, h))
	}
	g.oipRoutes(mux)
	if g.cfg.UIDir != "" {
		mux.Handle("GET /", spaHandler(g.cfg.UIDir))
	}
	return mux
}

// opsRoutes are the operators' listener's: no credentials, no jobs.
func (g *Gateway) opsRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", g.handleHealth)
	mux.HandleFunc("GET /ready", g.handleReady)
	mux.Handle("GET /metrics", g.metricsHandler())
	mux.HandleFunc("GET /v1/cluster", g.api(g.handleCluster))
	return mux
}

func (g *Gateway) metricsHandler() http.Handler {
	return promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{})
}

// api adapts a handler that returns an error: errors become JSON bodies
// with their code's status, and server faults are logged once, here.
// statusClientClosed is the status recorded (in metrics and the access
// span) for a request whose client went away before its answer: nginx's
// 499, never received by anyone.
const statusClientClosed = 499

func (g *Gateway) api(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e := api.As(err)
			log := tracing.Log(r.Context(), g.log)
			switch {
			case e.Code == api.CodeInternal && errors.Is(err, context.Canceled) && r.Context().Err() != nil:
				// The client went away first: its doing, and no one reads an answer.
				log.Debug().Err(err).Str("method", r.Method).Str("path", g.audit.Path(r.URL.Path)).Msg("request abandoned")
				w.WriteHeader(statusClientClosed)
				return
			case e.Code.HTTPStatus() >= 500 && !e.Code.Capacity():
				log.Error().Err(err).Str("method", r.Method).Str("path", g.audit.Path(r.URL.Path)).Str("code", string(e.Code)).Msg("request failed")
			case e.Err != nil: // a client's fault with a cause worth a look (a body cut short)
				log.Debug().Err(err).Str("method", r.Method).Str("path", g.audit.Path(r.URL.Path)).Str("code", string(e.Code)).Msg("request refused")
			}
			spanError(r, e)
			api.WriteError(w, e)
		}
	}
}

// jsonFallback answers unknown paths and wrong methods with JSON errors
// instead of the mux's plain text, and refuses paths the mux would
// redirect (dot segments, doubled slashes: an HTML 307).
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr := api.WriteError
		if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
			writeErr = api.WriteOIPError // the Open Inference Protocol's error body
		}
		if p := r.URL.EscapedPath(); p != cleanPath(p) {
			writeErr(w, api.Errorf(api.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		for _, m := range routedMethods {
			if m == r.Method {
				continue
			}
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" && p != "GET /" {
				writeErr(w, api.Errorf(api.CodeMethodNotAllowed, "%s not allowed on %s", r.Method, r.URL.Path))
				return
			}
		}
		writeErr(w, api.Errorf(api.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}

// routedMethods are the methods of the routes, tried to tell a wrong method
// (405) from an unknown path (404).
var routedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// cleanPath is path.Clean keeping a trailing slash, as the mux does.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c
}

func (g *Gateway) handleHealth(w http.ResponseWriter, _ *http.Request) {
	api.WriteJSON(w, http.StatusOK, api.Health{Status: "ok", Version: g.cfg.Version})
}

func (g *Gateway) handleReady(w http.ResponseWriter, _ *http.Request) {
	reason := g.notReady()
	detail := g.svc.Detail()
	if reason != "" {
		api.WriteJSON(w, http.StatusServiceUnavailable, api.Ready{Status: "not_ready", Reason: reason, Detail: detail})
		return
	}
	api.WriteJSON(w, http.StatusOK, api.Ready{Status: "ready", Detail: detail})
}

// notReady says why the gateway is not ready ("" when it is).
func (g *Gateway) notReady() string {
	select {
	case <-g.closing:
		return "shutting down"
	default:
		return g.svc.Ready()
	}
}

// intParam reads an integer query parameter within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, api.Errorf(api.CodeBadRequest, "%s must be an integer in [%d, %d]", name, lo, hi)
	}
	return n, nil
}
