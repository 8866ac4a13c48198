// Package dockerproxy is the autoscaler's only way to the Docker Engine
// API: a reverse proxy in front of a Swarm manager's socket that lets
// through the calls the autoscaler makes and nothing else: the API
// version check (/_ping, /version), reading the services it scales, and
// updating one of them when the update changes its replica count and
// nothing else. Whoever reaches the raw socket is root on the node; whoever
// reaches this proxy can only scale the named services.
package dockerproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"batchinfer/internal/config"

	"github.com/rs/zerolog"
)

// Config configures a Proxy.
type Config struct {
	// Addr is the listen address, e.g. ":2375" (on a network only the
	// autoscaler joins).
	Addr string
	// Socket is the Docker Engine's Unix socket.
	Socket string
	// Services are the names of the services that may be read and scaled.
	Services []string
}

// Proxy is the allow-list proxy. New, Start, Stop; it never touches OS
// signals.
type Proxy struct {
	cfg      Config
	log      zerolog.Logger
	engine   *http.Client // to the socket
	upstream *httputil.ReverseProxy

	mu  sync.Mutex
	ids map[string]bool // the ids of the allowed services, as the engine named them

	ln  net.Listener
	srv *http.Server
}

// New checks cfg and returns a Proxy not yet listening.
func New(cfg Config, log zerolog.Logger) (*Proxy, error) {
	if cfg.Addr == "" || cfg.Socket == "" || len(cfg.Services) == 0 {
		return nil, errors.New("docker proxy: listen address, socket and at least one service are required")
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", cfg.Socket)
		},
		MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second,
	}
	p := &Proxy{cfg: cfg, log: log.With().Str("component", "docker-proxy").Logger(),
		engine: &http.Client{Transport: tr, Timeout: 30 * time.Second}, ids: map[string]bool{}}
	engineURL := &url.URL{Scheme: "http", Host: "docker"}
	p.upstream = &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(engineURL); r.Out.Host = "docker" },
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			p.log.Warn().Err(err).Msg("engine unreachable")
			deny(w, http.StatusBadGateway, "docker proxy: the engine did not answer")
		},
	}
	return p, nil
}

// Start listens and serves; it returns once the listener is open.
func (p *Proxy) Start() error {
	ln, err := net.Listen("tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("docker proxy: listen %s: %w", p.cfg.Addr, err)
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error().Err(err).Msg("docker proxy stopped")
		}
	}()
	p.log.Info().Str("addr", ln.Addr().String()).Str("socket", p.cfg.Socket).Strs("services", p.cfg.Services).Msg("docker proxy listening")
	return nil
}

// Addr is the listening address, valid after Start.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stop stops serving, waiting for requests in flight until ctx ends.
func (p *Proxy) Stop(ctx context.Context) error {
	if p.srv == nil {
		return nil
	}
	return p.srv.Shutdown(ctx)
}

// Flags registers the proxy's settings on s.
func (c *Config) Flags(s *config.Set) {
	s.String(&c.Addr, "addr", "DOCKER_PROXY_ADDR", ":2375", "listen address (on a network only the autoscaler joins)")
	s.String(&c.Socket, "socket", "DOCKER_PROXY_SOCKET", "/var/run/docker.sock", "the Docker Engine's socket (a Swarm manager's)")
	s.List(&c.Services, "services", "DOCKER_PROXY_SERVICES", []string{"batchinfer_worker"}, "services the autoscaler may read and scale (their replica count only)")
}
