package monitoring

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/test/system"
	"batchinfer/worker"
)

// Series Prometheus makes itself, which no target exports.
var prometheusMade = []string{"up", "ALERTS"}

// A real gateway and worker run a batch job (held in the scheduler's queue
// a while, so that the backlog series exist) and a synchronous prediction;
// their /metrics then pass promtool's lint, and every metric the alert
// rules and the dashboard query is one of theirs. With
// MONITORING_METRICS_DIR set, the scrapes are written there.
func TestLiveMetrics(t *testing.T) {
	promtool(t)
	g := &gate{}
	s := system.Start(t, system.Options{
		Worker: func(c *worker.Config) { c.HealthAddr = "127.0.0.1:0" },
		// Chunks of 10 digits (272 bytes each): a 400-item job has 40.
		Gateway: func(c *gateway.Config) { c.Service.MaxChunkBytes = 2720 },
		Models:  g.wrap,
	})
	g.close()
	inputs, _ := system.DigitInputs(t, 400)
	var sub struct{ Job struct{ ID string } }
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs, "priority": "high"}, &sub); code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	var held string
	system.Eventually(t, 30*time.Second, func() error {
		held = scrape(t, s.BaseURL+"/metrics", s.Key)
		if !strings.Contains(held, "scheduler_pending_items{") {
			return fmt.Errorf("no backlog yet")
		}
		return nil
	})
	g.release()
	waitCompleted(t, s, sub.Job.ID)
	if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": inputs[:3]}, nil); code != http.StatusOK {
		t.Fatalf("predict: %d", code)
	}
	var gw string
	system.Eventually(t, 30*time.Second, func() error {
		gw = scrape(t, s.BaseURL+"/metrics", s.Key)
		if !strings.Contains(gw, `scheduler_jobs_finished_total{model="digits:1",state="completed",tenant="tenant-a"} 1`) {
			return fmt.Errorf("the job's end is not counted yet")
		}
		return nil
	})
	wk := scrape(t, "http://"+s.Workers[0].Addr()+"/metrics", "")
	saveScrapes(t, map[string]string{"gateway-held.txt": held, "gateway.txt": gw, "worker.txt": wk})

	for name, text := range map[string]string{"gateway with a backlog": held, "gateway": gw, "worker": wk} {
		t.Run("promtool check metrics/"+name, func(t *testing.T) {
			runPromtool(t, []byte(text), "check", "metrics")
		})
	}
	exported := map[string]bool{}
	for _, n := range slices.Concat(seriesNames(held), seriesNames(gw), seriesNames(wk), prometheusMade) {
		exported[n] = true
	}
	t.Run("alert rules use exported metrics", func(t *testing.T) {
		for _, r := range loadRules(t) {
			checkNames(t, "alert "+r.Alert, r.Expr, exported)
		}
	})
	t.Run("dashboard queries use exported metrics", func(t *testing.T) {
		for _, q := range loadDashboard(t).queries() {
			checkNames(t, "dashboard", q, exported)
		}
	})
}

func checkNames(t *testing.T, what, expr string, exported map[string]bool) {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric", what, expr)
	}
	for _, n := range names {
		if !exported[n] {
			t.Errorf("%s: %q uses %s, which neither the gateway nor the worker exports", what, expr, n)
		}
	}
}

// scrape GETs a /metrics page (with an operator's key, when given).
func scrape(t *testing.T, url, key string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// seriesNames are the metric names of a text exposition's samples.
func seriesNames(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.IndexAny(l, "{ "); i > 0 {
			out = append(out, l[:i])
		}
	}
	return out
}

func saveScrapes(t *testing.T, files map[string]string) {
	dir := os.Getenv("MONITORING_METRICS_DIR")
	if dir == "" {
		return
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitCompleted waits until the job has completed.
func waitCompleted(t *testing.T, s *system.System, id string) {
	t.Helper()
	system.Eventually(t, 60*time.Second, func() error {
		var st struct {
			State string `json:"state"`
		}
		s.GetJSON("/v1/jobs/"+id, &st)
		if st.State != "completed" {
			return fmt.Errorf("job %s is %s", id, st.State)
		}
		return nil
	})
}

// gate holds the models' predictions while closed (it starts open).
type gate struct {
	mu   sync.Mutex
	shut chan struct{} // nil: open
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.shut)
	g.shut = nil
}

func (g *gate) wait() {
	g.mu.Lock()
	c := g.shut
	g.mu.Unlock()
	if c != nil {
		<-c
	}
}

func (g *gate) wrap(ps []worker.Predictor) []worker.Predictor {
	out := make([]worker.Predictor, len(ps))
	for i, p := range ps {
		out[i] = gated{p, g}
	}
	return out
}

type gated struct {
	worker.Predictor
	g *gate
}

func (p gated) Predict(in []float32, n int) ([]float32, error) {
	p.g.wait()
	return p.Predictor.Predict(in, n)
}
