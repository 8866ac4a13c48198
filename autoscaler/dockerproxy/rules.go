package dockerproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// maxSpecBytes bounds a service update's body.
const maxSpecBytes = 1 << 20

// The API paths, with their optional version prefix (/v1.45/...).
var (
	pingPath    = regexp.MustCompile(`^(/v[0-9.]+)?/(_ping|version)$`)
	servicePath = regexp.MustCompile(`^(/v[0-9.]+)?/services/([A-Za-z0-9_.-]+)$`)
	updatePath  = regexp.MustCompile(`^(/v[0-9.]+)?/services/([A-Za-z0-9_.-]+)/update$`)
)

// ServeHTTP lets an allowed call through to the engine and answers any
// other 403, in the engine's error format.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/proxy/health":
		p.health(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && pingPath.MatchString(path):
		p.upstream.ServeHTTP(w, r)
	case r.Method == http.MethodGet && servicePath.MatchString(path):
		if !p.allowed(servicePath.FindStringSubmatch(path)[2]) {
			p.refuse(w, r, "not a service this proxy lets the autoscaler read")
			return
		}
		p.inspect(w, r)
	case r.Method == http.MethodPost && updatePath.MatchString(path):
		p.update(w, r, updatePath.FindStringSubmatch(path)[2])
	default:
		p.refuse(w, r, "not a call the autoscaler makes")
	}
}

// allowed says whether ref names an allowed service (its name, or its id
// as learned from an inspect of its name).
func (p *Proxy) allowed(ref string) bool {
	if slices.Contains(p.cfg.Services, ref) {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ids[ref]
}

// inspect passes a service read through, learning the service's id.
func (p *Proxy) inspect(w http.ResponseWriter, r *http.Request) {
	svc, raw, status, err := p.fetch(r.Context(), r.URL.Path, r.URL.RawQuery)
	if err != nil {
		deny(w, http.StatusBadGateway, "docker proxy: the engine did not answer")
		return
	}
	if status == http.StatusOK && slices.Contains(p.cfg.Services, svc.Spec.Name) {
		p.mu.Lock()
		p.ids[svc.ID] = true
		p.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

// update lets a service update through only if the service is allowed,
// the query is the version alone, and the new spec is the current one with
// another replica count.
func (p *Proxy) update(w http.ResponseWriter, r *http.Request, ref string) {
	q := r.URL.Query()
	if !p.allowed(ref) || len(q) != 1 || q.Get("version") == "" || r.Header.Get("X-Registry-Auth") != "" {
		p.refuse(w, r, "only the replica count of an allowed service may be updated")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSpecBytes+1))
	if err != nil || len(body) > maxSpecBytes {
		deny(w, http.StatusBadRequest, "docker proxy: the service spec could not be read")
		return
	}
	cur, _, status, err := p.fetch(r.Context(), "/services/"+ref, "insertDefaults=false")
	if err != nil || status != http.StatusOK {
		deny(w, http.StatusBadGateway, "docker proxy: the service could not be read")
		return
	}
	if err := onlyReplicas(cur.Spec, body); err != nil {
		p.refuse(w, r, err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.log.Info().Str("service", cur.Spec.Name).Msg("replica count update let through")
	p.upstream.ServeHTTP(w, r)
}

// onlyReplicas checks that body is cur with another replica count, both
// read into the engine's own type (so that fields one side leaves out
// compare equal).
func onlyReplicas(cur swarm.ServiceSpec, body []byte) error {
	var next swarm.ServiceSpec
	if err := json.Unmarshal(body, &next); err != nil {
		return fmt.Errorf("the service spec is not valid JSON")
	}
	if cur.Mode.Replicated == nil || next.Mode.Replicated == nil || next.Mode.Replicated.Replicas == nil {
		return fmt.Errorf("only replicated services are scaled")
	}
	next.Mode.Replicated.Replicas = cur.Mode.Replicated.Replicas
	a, _ := json.Marshal(cur)
	b, _ := json.Marshal(next)
	if !bytes.Equal(a, b) {
		return fmt.Errorf("the update changes more than the replica count")
	}
	return nil
}

// fetch reads a service from the engine.
func (p *Proxy) fetch(ctx context.Context, path, query string) (swarm.Service, []byte, int, error) {
	var svc swarm.Service
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path+"?"+query, nil)
	if err != nil {
		return svc, nil, 0, err
	}
	resp, err := p.engine.Do(req)
	if err != nil {
		return svc, nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxSpecBytes))
	if err != nil {
		return svc, nil, 0, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &svc); err != nil {
			return svc, nil, 0, err
		}
	}
	return svc, raw, resp.StatusCode, nil
}

// health answers 200 when the engine answers its ping.
func (p *Proxy) health(w http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://docker/_ping", nil)
	resp, err := p.engine.Do(req)
	if err != nil {
		deny(w, http.StatusServiceUnavailable, "docker proxy: the engine does not answer")
		return
	}
	resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, why string) {
	p.log.Warn().Str("method", r.Method).Str("path", truncate(r.URL.Path)).Str("reason", why).Msg("docker API call refused")
	deny(w, http.StatusForbidden, "docker proxy: "+why)
}

// deny answers in the engine's error format ({"message": ...}).
func deny(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
