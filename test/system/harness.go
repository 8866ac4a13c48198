package system

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/gateway/ws"
	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natsembed"
	"batchinfer/model"
	"batchinfer/model/litert"
	"batchinfer/model/loader"
	"batchinfer/model/tfmodel"
	"batchinfer/worker"

	"batchinfer/gateway/auth"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	regOnce sync.Once
	reg     *tfmodel.Registry
	regErr  error
)

// Registry loads the committed models once per test binary (and the
// benchmark model when it has been generated).
func Registry(tb testing.TB) *tfmodel.Registry {
	tb.Helper()
	regOnce.Do(func() {
		only := []string{"digits", "breast_cancer"}
		if _, err := os.Stat(filepath.Join(RepoRoot(), "model", "models", "mobilenet_bench", "1", "saved_model.pb")); err == nil {
			only = append(only, "mobilenet_bench")
		}
		reg, regErr = tfmodel.LoadDir(filepath.Join(RepoRoot(), "model", "models"),
			tfmodel.Options{IntraOpThreads: runtime.NumCPU(), InterOpThreads: -1}, only...)
	})
	if regErr != nil {
		tb.Fatalf("load models: %v", regErr)
	}
	return reg
}

// Runtimes are the model runtimes of a worker: TensorFlow (when tf) then
// LiteRT, as cmd/worker (tf) and cmd/worker-lite have them.
func Runtimes(tf bool) []loader.Runtime {
	lite := loader.Runtime{Name: "litert", File: model.TFLiteFile, Load: func(dir string) (loader.Model, error) {
		return litert.Load(dir, litert.Options{Threads: 1})
	}}
	if !tf {
		return []loader.Runtime{lite}
	}
	return []loader.Runtime{{Name: "tensorflow", File: model.SavedModelFile, Load: func(dir string) (loader.Model, error) {
		return tfmodel.Load(dir, tfmodel.Options{IntraOpThreads: 1, InterOpThreads: -1}) // as the workers run
	}}, lite}
}

// Test tenants and their API keys: A's is an operator key, B's a user's.
const (
	TenantA, KeyA = "tenant-a", "bik_test_key_of_tenant_a"
	TenantB, KeyB = "tenant-b", "bik_test_key_of_tenant_b"
)

// Options shape a System.
type Options struct {
	Workers  int
	Gateway  func(*gateway.Config)
	Worker   func(*worker.Config)
	Models   func([]worker.Predictor) []worker.Predictor
	StoreDir string
	// NATSUser and NATSPassword make the server require credentials.
	NATSUser, NATSPassword string
	// Keys are the lines of the gateway's API keys file (default: KeyA as
	// an operator of TenantA, KeyB as a user of TenantB).
	Keys []string
	// GatewayLog, when set, receives the gateways' logs (JSON lines).
	GatewayLog io.Writer
	// Registry, when set, makes every worker serve the model registry too
	// (TensorFlow and LiteRT runtimes), warming versions up with it, and
	// check pushed versions with Check (nil: in the worker's process).
	Registry *model.Warmup
	Check    worker.Checker
}

// System is a running in-process deployment.
type System struct {
	tb testing.TB
	// Key is sent as the Bearer credentials of Do, PostJSON, GetJSON and
	// DialWS (default KeyA).
	Key      string
	KeysFile string
	NATS     *server.Server
	NATSURL  string
	Gateway  *gateway.Gateway
	BaseURL  string
	Workers  []*worker.Worker
	opts     Options
	storeDir string
}

// Logger is quiet unless SYSTEMTEST_LOG=1.
func Logger() zerolog.Logger {
	if os.Getenv("SYSTEMTEST_LOG") == "1" {
		return zerolog.New(os.Stderr).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

// Start runs NATS, opts.Workers workers (default 1) and a gateway; all are
// stopped when the test ends.
func Start(tb testing.TB, opts Options) *System {
	tb.Helper()
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	s := &System{tb: tb, opts: opts, storeDir: opts.StoreDir, Key: KeyA}
	if s.storeDir == "" {
		s.storeDir = tb.TempDir()
	}
	s.writeKeys(opts.Keys)
	s.startNATS()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.Gateway != nil {
			_ = s.Gateway.Stop(ctx)
		}
		for _, w := range s.Workers {
			_ = w.Stop(ctx)
		}
		s.NATS.Shutdown()
		s.NATS.WaitForShutdown()
	})
	for i := 0; i < opts.Workers; i++ {
		s.AddWorker()
	}
	s.Gateway = s.NewGateway()
	s.BaseURL = "http://" + s.Gateway.Addr()
	s.WaitReady()
	return s
}

func (s *System) startNATS() {
	ns, err := natsembed.Run(natsx.EmbeddedConfig{Port: -1, StoreDir: s.storeDir, User: s.opts.NATSUser, Password: s.opts.NATSPassword})
	if err != nil {
		s.tb.Fatalf("nats: %v", err)
	}
	s.NATS, s.NATSURL = ns, ns.ClientURL()
}

// RestartNATS stops the NATS server and starts a new one on the same port
// and store, as a crash and restart would.
func (s *System) RestartNATS() {
	s.tb.Helper()
	u, err := url.Parse(s.NATSURL)
	if err != nil {
		s.tb.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	s.NATS.Shutdown()
	s.NATS.WaitForShutdown()
	ns, err := natsembed.Run(natsx.EmbeddedConfig{Port: p, StoreDir: s.storeDir, User: s.opts.NATSUser, Password: s.opts.NATSPassword})
	if err != nil {
		s.tb.Fatalf("restart nats: %v", err)
	}
	s.NATS = ns
}

func (s *System) conn() natsx.ConnConfig {
	return natsx.ConnConfig{URL: s.NATSURL, User: s.opts.NATSUser, Password: s.opts.NATSPassword}
}

func (s *System) models() []worker.Predictor {
	var ps []worker.Predictor
	for _, m := range Registry(s.tb).Models() {
		ps = append(ps, m)
	}
	if s.opts.Models != nil {
		ps = s.opts.Models(ps)
	}
	return ps
}

// AddWorker starts one more worker.
func (s *System) AddWorker() *worker.Worker {
	s.tb.Helper()
	cfg := worker.Config{
		NATS: s.conn(), ID: fmt.Sprintf("w%d", len(s.Workers)),
		HeartbeatInterval: 500 * time.Millisecond,
	}
	if s.opts.Worker != nil {
		s.opts.Worker(&cfg)
	}
	var opts []worker.Option
	if s.opts.Registry != nil {
		opts = append(opts, worker.WithRegistry(worker.RegistrySource{Runtimes: Runtimes(true), Warmup: *s.opts.Registry, Dir: s.tb.TempDir(), Check: s.opts.Check}))
	}
	w, err := worker.New(cfg, s.models(), Logger(), opts...)
	if err != nil {
		s.tb.Fatalf("worker: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		s.tb.Fatalf("worker start: %v", err)
	}
	s.Workers = append(s.Workers, w)
	return w
}

// NewGateway starts another gateway on the same NATS (stopped at cleanup).
func (s *System) NewGateway() *gateway.Gateway {
	s.tb.Helper()
	return s.NewGatewayWith(nil)
}

// NewGatewayWith is NewGateway with more configuration.
func (s *System) NewGatewayWith(more func(*gateway.Config)) *gateway.Gateway {
	s.tb.Helper()
	cfg := gateway.Config{Addr: "127.0.0.1:0", NATS: s.conn(), WS: ws.Config{Heartbeat: 2 * time.Second},
		Auth: gateway.AuthConfig{KeysFile: s.KeysFile}}
	if s.opts.Gateway != nil {
		s.opts.Gateway(&cfg)
	}
	if more != nil {
		more(&cfg)
	}
	log := Logger()
	if s.opts.GatewayLog != nil {
		log = zerolog.New(s.opts.GatewayLog).Level(zerolog.InfoLevel)
	}
	g, err := gateway.New(cfg, log)
	if err != nil {
		s.tb.Fatalf("gateway: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.Start(ctx); err != nil {
		s.tb.Fatalf("gateway start: %v", err)
	}
	s.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Stop(ctx)
	})
	return g
}

// WaitReady waits until the gateway is ready and lists a served digits model.
func (s *System) WaitReady() {
	s.tb.Helper()
	Eventually(s.tb, 20*time.Second, func() error {
		var out struct {
			Models []struct {
				Name  string `json:"name"`
				Ready bool   `json:"ready"`
			} `json:"models"`
		}
		if code := s.GetJSON("/ready", nil); code != 200 {
			return fmt.Errorf("ready: %d", code)
		}
		s.GetJSON("/v1/models", &out)
		for _, m := range out.Models {
			if m.Name == "digits" && m.Ready {
				return nil
			}
		}
		return fmt.Errorf("digits not served yet: %+v", out.Models)
	})
}

// Eventually retries f until it returns nil or the timeout passes.
func Eventually(tb testing.TB, timeout time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not true after %s: %v", timeout, err)
		}
		time.Sleep(wait)
		wait = min(wait*2, 200*time.Millisecond)
	}
}

var client = &http.Client{Timeout: 60 * time.Second}

// Do sends a request and decodes a JSON answer into out (when not nil).
func (s *System) Do(method, path, contentType string, body []byte, out any, hdr ...string) (int, http.Header, []byte) {
	s.tb.Helper()
	req, err := http.NewRequest(method, s.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		s.tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.Key != "" {
		req.Header.Set("Authorization", "Bearer "+s.Key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		s.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			s.tb.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, resp.Header, b
}

// GetJSON GETs path into out and returns the status.
func (s *System) GetJSON(path string, out any) int {
	s.tb.Helper()
	code, _, _ := s.Do(http.MethodGet, path, "", nil, out)
	return code
}

// PostJSON POSTs v as JSON into out and returns the status.
func (s *System) PostJSON(path string, v any, out any, hdr ...string) int {
	s.tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.tb.Fatal(err)
	}
	code, _, _ := s.Do(http.MethodPost, path, "application/json", b, out, hdr...)
	return code
}

// natsConn is a NATS connection of the test's own to the system's server,
// which the caller closes.
func (s *System) natsConn(tb testing.TB) *nats.Conn {
	tb.Helper()
	nc, err := natsx.Connect(context.Background(), s.conn(), zerolog.Nop())
	if err != nil {
		tb.Fatalf("connect to NATS: %v", err)
	}
	return nc
}

// Consumers is the number of JetStream consumers on the server, of every
// stream: the state a leak of per-subscription consumers would grow.
func (s *System) Consumers() int {
	s.tb.Helper()
	nc := s.natsConn(s.tb)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		s.tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := js.AccountInfo(ctx)
	if err != nil {
		s.tb.Fatalf("account info: %v", err)
	}
	return info.Consumers
}

// writeKeys writes the API keys file the gateways use.
func (s *System) writeKeys(lines []string) {
	if lines == nil {
		lines = []string{
			// High request rates: the system tests are not about rate limits
			// (tenants_test.go, which is, brings its own keys).
			TenantA + " " + auth.HashKey(KeyA) + " role=operator id=key-a rate=100000 burst=100000",
			TenantB + " " + auth.HashKey(KeyB) + " id=key-b rate=100000 burst=100000",
		}
	}
	s.KeysFile = filepath.Join(s.storeDir, "api-keys")
	if err := os.WriteFile(s.KeysFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.tb.Fatal(err)
	}
}

// As returns a copy of the system's client side that sends key (""
// sends none).
func (s *System) As(key string) *System {
	c := *s
	c.Key = key
	return &c
}
