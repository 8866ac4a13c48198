package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/freeport"
	"batchinfer/internal/store"
)

// The batchinfer CLI as its users run it: a subprocess, against the real
// system; the gateway it talks to is a process of its own, killed
// (SIGKILL) and started again in the middle of the upload, the job and the
// download.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds cmd/batchinfer and cmd/gateway once per test binary.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir = filepath.Join(RepoRoot(), ".cache", "test-bin")
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/batchinfer", "./cmd/gateway")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

// gatewayProc is a gateway process on a fixed address.
type gatewayProc struct {
	t    *testing.T
	s    *System
	addr string
	cmd  *exec.Cmd
	log  *os.File
}

func startGatewayProc(t *testing.T, s *System) *gatewayProc {
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.Port(t)) // the process binds it
	g := &gatewayProc{t: t, s: s, addr: addr}
	var err error
	g.log, err = os.Create(filepath.Join(t.TempDir(), "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.kill()
		if t.Failed() { // what the gateway said, for the failure's reader
			if b, err := os.ReadFile(g.log.Name()); err == nil {
				t.Logf("gateway log (last 4 kB):\n%s", b[max(0, len(b)-4096):])
			}
		}
		g.log.Close()
	})
	g.start()
	return g
}

func (g *gatewayProc) url() string { return "http://" + g.addr }

func (g *gatewayProc) start() {
	g.t.Helper()
	g.cmd = exec.Command(filepath.Join(binaries(g.t), "gateway"))
	// Small stream bounds: JetStream reserves them, and the defaults (about
	// 25 GiB together) do not fit the test server's store on a machine with
	// little free disk (insufficient storage resources).
	g.cmd.Env = append(os.Environ(), "GATEWAY_ADDR="+g.addr, "NATS_URL="+g.s.NATSURL,
		"GATEWAY_API_KEYS_FILE="+g.s.KeysFile, "GATEWAY_HEARTBEAT=2s",
		"QUEUE_MAX_BYTES=268435456", "RESULT_MAX_BYTES=268435456", "UPLOAD_MAX_BYTES=536870912", "REGISTRY_MAX_BYTES=67108864")
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	// a minute: a busy CI machine starts it slowly
	Eventually(g.t, time.Minute, func() error {
		resp, err := http.Get(g.url() + "/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("ready: %d", resp.StatusCode)
		}
		return nil
	})
}

// kill ends the gateway at once, as a crash would.
func (g *gatewayProc) kill() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGKILL)
		_ = g.cmd.Wait()
		g.cmd = nil
	}
}

// restart kills the gateway and starts it again after a pause.
func (g *gatewayProc) restart() {
	g.kill()
	time.Sleep(300 * time.Millisecond)
	g.start()
}

// cli is the environment the CLI runs in: its own home (config, cache).
type cli struct {
	t    *testing.T
	home string
	env  []string
}

func newCLI(t *testing.T, url, key string) *cli {
	home := t.TempDir()
	return &cli{t: t, home: home, env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
		"XDG_CACHE_HOME=" + home + "/.cache", "PATH=" + os.Getenv("PATH"), "BATCHINFER_URL=" + url, "BATCHINFER_API_KEY=" + key}}
}

// command is the CLI with args, stdin from in.
func (c *cli) command(ctx context.Context, in string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(binaries(c.t), "batchinfer"), args...)
	cmd.Env, cmd.Dir = c.env, c.home
	cmd.Stdin = strings.NewReader(in)
	return cmd
}

// run runs the CLI to its end: stdout, stderr and the exit code.
func (c *cli) run(in string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, in, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("batchinfer %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// datasetFile writes n digit items as NDJSON, the lines in bad invalid.
func datasetFile(t *testing.T, dir string, n int, bad ...int) string {
	in, _ := DigitInputs(t, n)
	var b bytes.Buffer
	for i, px := range in {
		if containsInt(bad, i+1) {
			b.WriteString("[1,2]\n")
			continue
		}
		raw, _ := json.Marshal(px)
		b.Write(raw)
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, "rows.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// progressEvent is one line of the CLI's --json progress on stderr.
type progressEvent struct {
	Event string `json:"event"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Note  string `json:"note"`
}

// killer kills and restarts the gateway once in each step of a run, when
// its progress passes a quarter. The CLI talks to the gateway through a
// proxy that cuts its connections at the kill (what the gateway's kernel
// had buffered goes too, as in a crash of its machine) and carries its
// answers at a bounded rate (so that a download is cut in its middle).
type killer struct {
	g      *gatewayProc
	p      *Proxy
	killed map[string]bool
	notes  []string
}

func (k *killer) see(e progressEvent) {
	if e.Note != "" {
		k.notes = append(k.notes, e.Event+": "+e.Note)
		return
	}
	if k.killed[e.Event] || e.Total <= 0 || e.Done < e.Total/4 || e.Done >= e.Total {
		return
	}
	k.killed[e.Event] = true
	k.p.Down()
	k.g.restart()
	k.p.Up()
}

func TestCLIRunResumesAcrossGatewayKills(t *testing.T) {
	s := Start(t, Options{Models: SlowModels(60 * time.Millisecond)})
	g := startGatewayProc(t, s)
	p := StartProxy(t, g.addr)
	p.Rate.Store(1 << 20)
	c := newCLI(t, p.URL, KeyA)
	file := datasetFile(t, c.home, 12000, 3, 9000)
	out := filepath.Join(c.home, "out.csv")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := c.command(ctx, "", "run", file, "-m", "digits", "-o", out, "--max-invalid", "5", "--json",
		"--chunk-size", "131072", "--limit-rate", "1500000")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k := &killer{g: g, p: p, killed: map[string]bool{}}
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var e progressEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event != "" {
			k.see(e)
		}
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3 (two items failed)\nstderr:\n%s\nstdout:\n%s", err, strings.Join(lines, "\n"), stdout.String())
	}
	for _, step := range []string{"upload", "job", "download"} {
		if !k.killed[step] {
			t.Errorf("the gateway was not killed during the %s", step)
		}
	}
	checkRunReport(t, s, stdout.Bytes(), out)
	t.Logf("notes: %q", k.notes)
}

// checkRunReport checks run's JSON report and files against the gateway's
// own files.
func checkRunReport(t *testing.T, s *System, report []byte, out string) {
	t.Helper()
	var rep struct {
		Upload struct{ Resumes int } `json:"upload"`
		Job    jobStatus             `json:"job"`
		Output struct {
			Path    string
			Resumes int
		} `json:"output"`
		Errors *struct{ Path string } `json:"errors"`
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatalf("report %s: %v", report, err)
	}
	if rep.Upload.Resumes == 0 || rep.Output.Resumes == 0 || rep.Job.State != "completed" || rep.Job.Failed != 2 || rep.Job.Done != 11998 {
		t.Fatalf("report %s", report)
	}
	got, _ := os.ReadFile(out)
	code, _, want := s.Do("GET", "/v1/jobs/"+rep.Job.ID+"/output?format=csv", "", nil, nil)
	if code != 200 || !bytes.Equal(got, want) || rep.Output.Path != out {
		t.Fatalf("output: %d bytes, the gateway's %d (%d)", len(got), len(want), code)
	}
	errs, _ := os.ReadFile(strings.TrimSuffix(out, ".csv") + ".errors.csv")
	if rep.Errors == nil || strings.Count(string(errs), "\n") != 3 || !strings.Contains(string(errs), ",9000,") {
		t.Fatalf("errors file %+v:\n%s", rep.Errors, errs)
	}
}

func TestCLICommandsOutputsAndExitCodes(t *testing.T) {
	s := Start(t, Options{})
	c := newCLI(t, s.BaseURL, KeyA)
	sample := filepath.Join(RepoRoot(), "model", "testdata", "digits_sample.ndjson")

	out, _, code := c.run("", "submit", sample, "-m", "digits", "--json")
	var sub struct {
		Job jobStatus `json:"job"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sub) != nil || sub.Job.Total != 50 {
		t.Fatalf("submit: %d %s", code, out)
	}
	id := sub.Job.ID
	if out, _, code := c.run("", "watch", id, "--json"); code != 0 || !strings.Contains(out, `"state": "completed"`) {
		t.Fatalf("watch: %d %s", code, out)
	}
	if out, _, code := c.run("", "status", id); code != 0 || !strings.Contains(out, "completed") || !strings.Contains(out, "50 total, 50 done") {
		t.Fatalf("status: %d %s", code, out)
	}
	if _, _, code := c.run("", "results", id, "-o", "out.ndjson"); code != 0 {
		t.Fatalf("results: %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(c.home, "out.ndjson")); strings.Count(string(b), "\n") != 50 {
		t.Fatalf("results file:\n%s", b)
	}
	if out, _, code := c.run("", "jobs", "--model", "digits", "--json"); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("jobs: %d %s", code, out)
	}
	if out, _, code := c.run("", "models"); code != 0 || !strings.Contains(out, "digits") || !strings.Contains(out, "breast_cancer") {
		t.Fatalf("models: %d %s", code, out)
	}
	items := "[0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0]\n"
	if out, _, code := c.run(items+items, "predict", "-m", "digits"); code != 0 || strings.Count(out, "\n") != 2 || !strings.HasPrefix(out, `{"index":0,"label":"0"`) {
		t.Fatalf("predict: %d %s", code, out)
	}
	checkExitCodes(t, s, c, id)
}

// checkExitCodes runs what each exit code stands for.
func checkExitCodes(t *testing.T, s *System, c *cli, done string) {
	t.Helper()
	wrong := newCLI(t, s.BaseURL, "bik_wrong")
	down := newCLI(t, "http://127.0.0.1:1", KeyA)
	for _, tc := range []struct {
		name string
		c    *cli
		args []string
		code int
		say  string
	}{
		{"no model", c, []string{"run", "x.csv"}, 2, "--model is required"},
		{"unknown flag", c, []string{"jobs", "--bogus"}, 2, "unknown flag"},
		{"unknown command", c, []string{"bogus"}, 2, "unknown command"},
		{"cancel a completed job", c, []string{"cancel", done}, 4, "already completed"},
		{"unknown job", c, []string{"status", "nope"}, 4, "unknown_job"},
		{"unknown model", c, []string{"predict", "-m", "nope", "-"}, 4, "unknown_model"},
		{"wrong key", wrong, []string{"jobs"}, 5, "unauthorized"},
		{"no gateway", down, []string{"--retry-for", "0", "models"}, 6, "connection refused"},
	} {
		_, stderr, code := tc.c.run("[1]\n", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.say) {
			t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, code, tc.code, stderr)
		}
	}
}

func TestCLIConfigFileKeysAndCompletion(t *testing.T) {
	s := Start(t, Options{})
	c := newCLI(t, "", "")
	c.env = c.env[:len(c.env)-2] // neither BATCHINFER_URL nor BATCHINFER_API_KEY
	cfg := filepath.Join(c.home, ".config", "batchinfer", "config.yaml")
	_ = os.MkdirAll(filepath.Dir(cfg), 0o700)
	if err := os.WriteFile(cfg, []byte("url: "+s.BaseURL+"\napi_key: "+KeyA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := c.run("", "models", "--json"); code != 0 || !strings.Contains(out, `"name": "digits"`) {
		t.Fatalf("models from the config file: %d %s %s", code, out, stderr)
	}
	_ = os.WriteFile(cfg, []byte("url: "+s.BaseURL+"\nkey: typo\n"), 0o600)
	if _, stderr, code := c.run("", "models"); code != 2 || !strings.Contains(stderr, "key") {
		t.Fatalf("a config file with an unknown field: %d %s", code, stderr)
	}
	out, _, code := c.run("", "keys", "new", "--tenant", "acme", "--role", "operator", "--id", "ci", "--json")
	var k struct{ Key, Line string }
	if code != 0 || json.Unmarshal([]byte(out), &k) != nil || k.Line != "acme "+auth.HashKey(k.Key)+" role=operator id=ci" {
		t.Fatalf("keys new: %d %s", code, out)
	}
	if out, _, code := c.run("", "completion", "bash"); code != 0 || !strings.Contains(out, "batchinfer") {
		t.Fatalf("completion: %d", code)
	}
}

// models push from the CLI: a version directory goes to the registry,
// --wait returns once a worker serves it, and the version predicts; a
// second push of it is a conflict (exit code 4).
func TestCLIModelsPush(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry})
	s.registryWorker(t, "registry-worker", Runtimes(true), nil, nil)
	c := newCLI(t, s.BaseURL, KeyA)
	dir := versionDir(t, "digits", "7", keep)
	out, stderr, code := c.run("", "models", "push", dir, "--name", "digits", "--version", "7", "--wait", "--json")
	var v struct{ Name, Version, State, Source string }
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.State != "ready" || v.Source != "registry" {
		t.Fatalf("push: %d %s %s", code, out, stderr)
	}
	items := "[0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0]\n"
	if out, _, code := c.run(items, "predict", "-m", "digits", "--version", "7", "--json"); code != 0 || !strings.Contains(out, `"version": "7"`) {
		t.Fatalf("predict digits:7: %d %s", code, out)
	}
	if _, stderr, code := c.run("", "models", "push", dir, "--name", "digits", "--version", "7"); code != 4 || !strings.Contains(stderr, "conflict") {
		t.Fatalf("push again: %d %s", code, stderr)
	}
	if _, stderr, code := newCLI(t, s.BaseURL, KeyB).run("", "models", "push", dir, "--name", "digits", "--version", "8"); code != 5 {
		t.Fatalf("push with a user's key: %d %s", code, stderr)
	}
}

// batchinfer dlq lists, shows and deletes the caller's dead letters, as
// the API has them.
func TestCLIDeadLetters(t *testing.T) {
	s := Start(t, Options{})
	putLetters(t, store.NewDeadLetters(s.infra(t)), TenantA, "j0000000000clidlq0000000", 3)
	c := newCLI(t, s.BaseURL, KeyA)
	var list api.DeadLetterList
	out, _, code := c.run("", "dlq", "list", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Letters) != 3 || list.Letters[2].Chunk != 2 {
		t.Fatalf("dlq list: %d %s", code, out)
	}
	var d api.DeadLetterDetail
	out, _, code = c.run("", "dlq", "show", list.Letters[0].ID, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d.ID != list.Letters[0].ID || len(d.Items) != 1 || d.Items[0].Kind != api.ItemKindTensor {
		t.Fatalf("dlq show: %d %s", code, out)
	}
	if out, _, code := c.run("", "dlq", "list"); code != 0 || !strings.Contains(out, "j0000000000clidlq0000000") {
		t.Fatalf("dlq list (table): %d %s", code, out)
	}
	if _, errOut, code := c.run("", "dlq", "delete", list.Letters[0].ID); code != 0 {
		t.Fatalf("dlq delete: %d %s", code, errOut)
	}
	if _, _, code := c.run("", "dlq", "show", list.Letters[0].ID); code == 0 {
		t.Fatal("dlq show of a deleted letter succeeded")
	}
	out, _, _ = c.run("", "dlq", "list", "--json")
	if json.Unmarshal([]byte(out), &list) != nil || len(list.Letters) != 2 {
		t.Fatalf("dlq list after delete: %s", out)
	}
}
