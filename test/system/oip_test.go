package system

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"batchinfer/internal/wire"
)

// oipPython returns the python of a venv with tritonclient[http] and
// KServe's SDK, made by scripts/oip-venv.sh under .cache/ (PyPI the first
// time, about 500 MB; then nothing).
func oipPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(RepoRoot(), "scripts", "oip-venv.sh")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("oip venv: %v %s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// allDigits reads model/testdata/digits_all.txt: the 1,797 scikit-learn
// digits, "label pixels" with the 64 pixels (0..16) as base-17 digits.
func allDigits(t *testing.T) [][]float32 {
	t.Helper()
	path := filepath.Join(RepoRoot(), "model", "testdata", "digits_all.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]float32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, px, _ := strings.Cut(sc.Text(), " ")
		item := make([]float32, 0, 64)
		for _, c := range px {
			v, err := strconv.ParseInt(string(c), 17, 8)
			if err != nil {
				t.Fatalf("%s: %q", path, sc.Text())
			}
			item = append(item, float32(v))
		}
		out = append(out, item)
	}
	if len(out) != 1797 {
		t.Fatalf("%s: %d digits", path, len(out))
	}
	return out
}

// predictV1 predicts every item with /v1 predict, batch items a request.
func predictV1(t *testing.T, s *System, items [][]float32, batch int) []wire.ItemResult {
	t.Helper()
	var all []wire.ItemResult
	for i := 0; i < len(items); i += batch {
		var resp struct{ Items []wire.ItemResult }
		if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": items[i:min(i+batch, len(items))]}, &resp); code != 200 {
			t.Fatalf("/v1 predict: %d", code)
		}
		all = append(all, resp.Items...)
	}
	return all
}

// oipResults is what clients.py saw of an inference of every digit.
type oipResults struct {
	Probabilities [][]float32 `json:"probabilities"`
	Label         []string    `json:"label"`
	Class         []int       `json:"class"`
}

type clientError struct {
	Status  any    `json:"status"` // tritonclient: a string; KServe: a number
	Message string `json:"message"`
}

type oipRun struct {
	TritonMeta struct {
		Live         bool           `json:"live"`
		Ready        bool           `json:"ready"`
		ModelReady   bool           `json:"model_ready"`
		VersionReady bool           `json:"version_ready"`
		UnknownReady bool           `json:"unknown_ready"`
		Server       map[string]any `json:"server"`
		Model        map[string]any `json:"model"`
		Version      map[string]any `json:"version"`
	} `json:"triton_meta"`
	TritonClassification struct {
		Shape []int      `json:"shape"`
		Top   [][]string `json:"top"`
	} `json:"triton_classification"`
	TritonErrors map[string]clientError `json:"triton_errors"`
	KServeHealth map[string]bool        `json:"kserve_health"`
	KServeErrors map[string]clientError `json:"kserve_errors"`
	Inferences   map[string]oipResults  `json:"-"`
}

// runOIPClients runs clients.py against s and reads what it saw.
func runOIPClients(t *testing.T, s *System, batch int) oipRun {
	t.Helper()
	py := oipPython(t)
	dir := t.TempDir()
	cfg, _ := json.Marshal(map[string]any{
		"host": s.Gateway.Addr(), "key": KeyA, "batch": batch, "out": filepath.Join(dir, "out.json"),
		"digits": filepath.Join(RepoRoot(), "model", "testdata", "digits_all.txt"),
	})
	if err := os.WriteFile(filepath.Join(dir, "cfg.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(RepoRoot(), "test", "system", "testdata", "oip", "clients.py"), filepath.Join(dir, "cfg.json"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("clients.py: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		t.Logf("clients.py: %s", line)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run oipRun
	var inferences map[string]json.RawMessage
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &inferences); err != nil {
		t.Fatal(err)
	}
	run.Inferences = map[string]oipResults{}
	for _, name := range []string{"triton_json", "triton_binary", "triton_uint8_gzip", "kserve_json", "kserve_binary"} {
		var r oipResults
		if err := json.Unmarshal(inferences[name], &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		run.Inferences[name] = r
	}
	return run
}

// The real tritonclient[http] and KServe's InferenceRESTClient, from
// PyPI, against the running system: server and model metadata, health,
// inference of all 1,797 scikit-learn digits in JSON, in binary, as UINT8
// gzipped, agreeing with /v1 predict, the classification extension, and
// the errors each client parses.
func TestOIPClients(t *testing.T) {
	s := Start(t, Options{})
	digits := allDigits(t)
	want := predictV1(t, s, digits, 64)
	run := runOIPClients(t, s, 64)

	checkOIPMetadata(t, run)
	for name, got := range run.Inferences {
		checkAgrees(t, name, got, want)
	}
	checkClassification(t, run, want)
	checkClientErrors(t, run)
}

func checkOIPMetadata(t *testing.T, run oipRun) {
	t.Helper()
	m := run.TritonMeta
	if !m.Live || !m.Ready || !m.ModelReady || !m.VersionReady || m.UnknownReady {
		t.Errorf("tritonclient health: %+v", m)
	}
	if m.Server["name"] != "batchinfer" || fmt.Sprint(m.Server["extensions"]) != "[binary_tensor_data classification]" {
		t.Errorf("server metadata: %v", m.Server)
	}
	wantModel := `{"inputs":[{"datatype":"FP32","name":"pixels","shape":[-1,8,8,1]}],"name":"digits",` +
		`"outputs":[{"datatype":"FP32","name":"probabilities","shape":[-1,10]},{"datatype":"BYTES","name":"label","shape":[-1]},{"datatype":"INT64","name":"class","shape":[-1]}],` +
		`"platform":"batchinfer","versions":["1"]}`
	for _, got := range []map[string]any{m.Model, m.Version} {
		if b, _ := json.Marshal(got); string(b) != wantModel {
			t.Errorf("model metadata\n%s\nwant\n%s", b, wantModel)
		}
	}
	if h := run.KServeHealth; !h["live"] || !h["ready"] || !h["model_ready"] || h["unknown_ready"] {
		t.Errorf("KServe health: %v", h)
	}
}

// checkAgrees: the label and class of every item are /v1's, and its
// probabilities /v1's within float32 rounding of a differently batched run.
func checkAgrees(t *testing.T, name string, got oipResults, want []wire.ItemResult) {
	t.Helper()
	if len(got.Probabilities) != len(want) || len(got.Label) != len(want) || len(got.Class) != len(want) {
		t.Fatalf("%s: %d probabilities, %d labels, %d classes for %d digits", name, len(got.Probabilities), len(got.Label), len(got.Class), len(want))
	}
	worst := 0.0
	for i, w := range want {
		if got.Label[i] != w.Label || got.Class[i] != *w.Class || len(got.Probabilities[i]) != 10 {
			t.Fatalf("%s: digit %d: label %q class %d, /v1 says %q %d", name, i, got.Label[i], got.Class[i], w.Label, *w.Class)
		}
		for c, p := range got.Probabilities[i] {
			worst = max(worst, math.Abs(float64(p-w.Probabilities[c])))
		}
	}
	if worst > 1e-5 {
		t.Fatalf("%s: a probability differs from /v1's by %g", name, worst)
	}
	t.Logf("%s: 1,797 digits agree with /v1 predict (largest probability difference %g)", name, worst)
}

func checkClassification(t *testing.T, run oipRun, want []wire.ItemResult) {
	t.Helper()
	c := run.TritonClassification
	if !slices.Equal(c.Shape, []int{5, 3}) || len(c.Top) != 5 {
		t.Fatalf("classification: %+v", c)
	}
	for i, row := range c.Top {
		for j, s := range row {
			parts := strings.Split(s, ":")
			w := want[i].Top[j]
			score, err := strconv.ParseFloat(parts[0], 32)
			if len(parts) != 3 || err != nil || parts[1] != strconv.Itoa(w.Class) || parts[2] != w.Label || math.Abs(score-float64(w.Score)) > 1e-5 {
				t.Fatalf("digit %d's top %d is %q, /v1 says %+v", i, j, s, w)
			}
		}
	}
}

func checkClientErrors(t *testing.T, run oipRun) {
	t.Helper()
	for name, want := range map[string]clientError{
		"wrong_shape":            {"400", `input "pixels" has shape [2 8 8]: model digits:1 takes [n, 8, 8, 1] (or [n, 64])`},
		"unknown_model":          {"404", "unknown model nope"},
		"unknown_model_metadata": {"404", "unknown model nope"},
		"unknown_version":        {"404", "unknown model digits version 9"},
		"too_many_items":         {"413", "65 items, the limit is 64 (GATEWAY_MAX_SYNC_ITEMS)"},
		"bytes_input":            {"400", "datatype BYTES is not supported"},
		"out_of_range":           {"400", "value 0 is 17, above the maximum 16"},
		"unknown_output":         {"400", `unknown output "logits"`},
		"no_key":                 {"401", "credentials required"},
	} {
		got := run.TritonErrors[name]
		if got.Status != want.Status || !strings.Contains(got.Message, want.Message) {
			t.Errorf("tritonclient %s: %v %q, want %v %q", name, got.Status, got.Message, want.Status, want.Message)
		}
	}
	for name, want := range map[string]clientError{
		"wrong_shape":   {float64(400), `input "pixels" has shape [1 63]`},
		"unknown_model": {float64(404), "unknown model nope"},
	} {
		got := run.KServeErrors[name]
		if got.Status != want.Status || !strings.Contains(got.Message, want.Message) {
			t.Errorf("KServe %s: %v %q, want %v %q", name, got.Status, got.Message, want.Status, want.Message)
		}
	}
}
