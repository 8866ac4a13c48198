package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtool finds Debian's promtool (package prometheus), which these tests
// need: .ci/run installs it, `apt-get install prometheus` too.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus; .ci/run does)")
	}
	return p
}

// runPromtool runs promtool with args (stdin from in, when not nil) and
// fails the test with its output if it fails.
func runPromtool(t *testing.T, in []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	if in != nil {
		cmd.Stdin = strings.NewReader(string(in))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The rules, the configuration that loads them, and the rules' unit tests.
func TestAlertRules(t *testing.T) {
	runPromtool(t, nil, "check", "rules", "prometheus/alerts.yml")
	runPromtool(t, nil, "check", "config", "prometheus/prometheus.yml")
	out := runPromtool(t, nil, "test", "rules", "prometheus/tests/alerts.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules did not succeed:\n%s", out)
	}
}

// Every alert has a unit test, a severity, the annotations an operator
// reads and a runbook that docs/operations.md has.
func TestEveryAlertIsTestedAndHasARunbook(t *testing.T) {
	tests, err := os.ReadFile("prometheus/tests/alerts.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules := loadRules(t)
	if len(rules) == 0 {
		t.Fatal("no alert rules")
	}
	for _, r := range rules {
		if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
			t.Errorf("alert %s has no unit test in prometheus/tests/alerts.test.yml", r.Alert)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook"} {
			if r.Annotations[a] == "" {
				t.Errorf("alert %s has no %s", r.Alert, a)
			}
		}
		anchor := strings.ToLower(r.Alert)
		if r.Annotations["runbook"] != "docs/operations.md#"+anchor {
			t.Errorf("alert %s: runbook %q, want docs/operations.md#%s", r.Alert, r.Annotations["runbook"], anchor)
		}
		if !strings.Contains(string(doc), "### "+r.Alert+"\n") {
			t.Errorf("docs/operations.md has no runbook heading \"### %s\"", r.Alert)
		}
	}
}

// rule is one alert of prometheus/alerts.yml.
type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}
