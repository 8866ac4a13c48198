package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

func testRepo(t *testing.T) *Repo {
	t.Helper()
	root, err := FindRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	r, err := LoadRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNginxVariant keeps base/frontend/default.conf equal to
// frontend/nginx/default.conf made Kubernetes-ready; K8S_UPDATE=1 rewrites
// it. (First, so that an update is seen by the overlay tests.)
func TestNginxVariant(t *testing.T) {
	repo := testRepo(t)
	want, err := k8sNginx(repo.Nginx)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo.Root, "deploy", "k8s", "base", "frontend", "default.conf")
	if os.Getenv("K8S_UPDATE") == "1" {
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with frontend/nginx/default.conf: run K8S_UPDATE=1 make test-k8s", p)
	}
	if bytes.Contains(want, []byte("resolver ")) && !bytes.Contains(want, []byte("# ")) {
		t.Error("the variant still has a resolver")
	}
	if ups := nginxUpstreams(string(want)); len(ups) != 1 || ups[0] != "gateway:8000" {
		t.Errorf("upstreams %v, want [gateway:8000]", ups)
	}
}

// TestOverlays: every overlay renders and passes every check.
func TestOverlays(t *testing.T) {
	repo := testRepo(t)
	dirs := Overlays(repo.Root)
	if len(dirs) < 3 {
		t.Fatalf("overlays %v: want at least dev, prod, prod-hpa", dirs)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			fs := CheckDir(d, filepath.Base(d), repo, Options{CommittedSecrets: true})
			for _, s := range fs.Strings() {
				t.Error(s)
			}
		})
	}
}

// TestOverlayShapes: what each overlay is for.
func TestOverlayShapes(t *testing.T) {
	repo := testRepo(t)
	type shape struct {
		gateways          int32
		scaledObject, hpa bool
		kedaMin           int32
		namespace         string
		registryPrefix    string
	}
	want := map[string]shape{
		"dev":      {gateways: 1, scaledObject: true, kedaMin: 1, namespace: "batchinfer-dev"},
		"prod":     {gateways: 2, scaledObject: true, kedaMin: 2, namespace: "batchinfer", registryPrefix: "registry.example.com/batchinfer/"},
		"prod-hpa": {gateways: 2, hpa: true, namespace: "batchinfer", registryPrefix: "registry.example.com/batchinfer/"},
	}
	for name, w := range want {
		objs, err := Objects(filepath.Join(repo.Root, "deploy", "k8s", "overlays", name))
		if err != nil {
			t.Fatal(err)
		}
		var got shape
		for _, o := range objs {
			decode(&Findings{}, o)
			switch v := o.Typed.(type) {
			case *appsv1.Deployment:
				if o.Name == "gateway" && v.Spec.Replicas != nil {
					got.gateways = *v.Spec.Replicas
					got.namespace = o.Namespace
					img := v.Spec.Template.Spec.Containers[0].Image
					got.registryPrefix = strings.TrimSuffix(img, "gateway:"+repo.Version)
				}
			case *ScaledObject:
				got.scaledObject = true
				got.kedaMin = *v.Spec.MinReplicaCount
			}
			if o.Kind == "HorizontalPodAutoscaler" {
				got.hpa = true
			}
		}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
}

// TestRejected: every fixture under testdata/reject is an overlay with a
// defect; it must produce findings containing each line of its want.txt.
func TestRejected(t *testing.T) {
	repo := testRepo(t)
	dirs, _ := filepath.Glob("testdata/reject/*")
	if len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(d, "want.txt"))
			if err != nil {
				t.Fatal(err)
			}
			fs := CheckDir(d, filepath.Base(d), repo, Options{CommittedSecrets: true})
			got := fs.Strings()
			if len(got) == 0 {
				t.Fatal("accepted, want findings")
			}
			for _, w := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				w = strings.TrimSpace(w)
				if w == "" || strings.HasPrefix(w, "#") {
					continue
				}
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("no finding contains %q; got:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if testing.Verbose() {
				for _, g := range got {
					t.Log(g)
				}
			}
		})
	}
}

// TestAccepted: fixtures under testdata/accept (e.g. the README's own-secrets
// overlay) pass.
func TestAccepted(t *testing.T) {
	repo := testRepo(t)
	dirs, _ := filepath.Glob("testdata/accept/*")
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			fs := CheckDir(d, filepath.Base(d), repo, Options{})
			for _, s := range fs.Strings() {
				t.Error(s)
			}
		})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestNATSEntrypoint runs the NATS container's entry point, as rendered,
// under sh with a stand-in nats-server: it must pass the Secrets' passwords
// quoted in $NATS_PASSWORD and $NATS_ROUTE_PASSWORD, the routes with the
// route credentials in $NATS_ROUTES, and refuse the prod placeholders and
// passwords the NATS parser (or a route URL) cannot take as they are.
func TestNATSEntrypoint(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script, env, placeholder := prodEntryPoint(t)
	dir := t.TempDir()
	fake := "#!/bin/sh\nprintf '%s|%s|%s|%s' \"$*\" \"$NATS_PASSWORD\" \"$NATS_ROUTE_PASSWORD\" \"$NATS_ROUTES\"\n"
	if err := os.WriteFile(filepath.Join(dir, "nats-server"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	pwFile, routeFile := filepath.Join(dir, "password"), filepath.Join(dir, "route_password")
	for from, to := range map[string]string{"/etc/nats-auth/password": pwFile, "/etc/nats-route-auth/password": routeFile} {
		if !strings.Contains(script, from) {
			t.Fatalf("the entry point does not read %s", from)
		}
		script = strings.ReplaceAll(script, from, to)
	}
	good := "dev-only-not-a-secret-change-me"
	for _, tc := range []struct {
		password, route string
		ok              bool
	}{
		{good, "dev-only-route-password-not-a-secret", true},
		{"aB3+/=~._-x\n", "aB3~._-x\n", true},
		{placeholder, good, false},
		{good, placeholder, false},
		{"", good, false},
		{good, "", false},
		{`with"quote`, good, false},
		{"two words", good, false},
		{good, "with/slash", false},
		{good, "with:colon", false},
		{good, "with+plus", false},
	} {
		write(t, pwFile, tc.password)
		write(t, routeFile, tc.route)
		cmd := exec.Command(sh, "-ec", script)
		cmd.Env = append(append(os.Environ(), env...), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.Output()
		if !tc.ok {
			if err == nil {
				t.Errorf("passwords %q, %q accepted: %s", tc.password, tc.route, out)
			}
			continue
		}
		pw, rpw := strings.TrimSuffix(tc.password, "\n"), strings.TrimSuffix(tc.route, "\n")
		routes := fmt.Sprintf(`["nats://route:%[1]s@nats-0.nats-headless:6222", "nats://route:%[1]s@nats-1.nats-headless:6222", "nats://route:%[1]s@nats-2.nats-headless:6222"]`, rpw)
		want := fmt.Sprintf("--config /etc/nats/nats.conf|%q|%q|%s", pw, rpw, routes)
		if err != nil || string(out) != want {
			t.Errorf("passwords %q, %q: got %q, %v; want %q", tc.password, tc.route, out, err, want)
		}
	}
}

// prodEntryPoint is the NATS StatefulSet's script in prod, the plain
// variables of its environment (NAME=value) and prod's placeholder password.
func prodEntryPoint(t *testing.T) (string, []string, string) {
	t.Helper()
	repo := testRepo(t)
	objs, err := Objects(filepath.Join(repo.Root, "deploy", "k8s", "overlays", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	var script, placeholder string
	var env []string
	for _, o := range objs {
		decode(&Findings{}, o)
		switch v := o.Typed.(type) {
		case *appsv1.StatefulSet:
			ctr := v.Spec.Template.Spec.Containers[0]
			if len(ctr.Command) != 3 || ctr.Command[0] != "/bin/sh" || ctr.Command[1] != "-ec" {
				t.Fatalf("command %q: want /bin/sh -ec SCRIPT", ctr.Command)
			}
			script = ctr.Command[2]
			for _, e := range ctr.Env {
				if e.ValueFrom == nil {
					env = append(env, e.Name+"="+e.Value)
				}
			}
		case *corev1.Secret:
			if p, ok := v.Data["password"]; ok && v.Name[:len("nats-auth")] == "nats-auth" {
				placeholder = string(p)
			}
		}
	}
	return script, env, placeholder
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKubectlKustomizeAgrees: where kubectl is installed, its own kustomize
// renders every overlay to the same objects as the kustomize API here (an
// older kustomize must not, say, change the immutable volumeClaimTemplates).
func TestKubectlKustomizeAgrees(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl")
	}
	if err := exec.Command(kubectl, "version", "--client").Run(); err != nil {
		t.Skipf("kubectl does not run: %v", err)
	}
	repo := testRepo(t)
	for _, d := range Overlays(repo.Root) {
		out, err := exec.Command(kubectl, "kustomize", d).Output()
		if err != nil {
			// kubectl apply -k would fail the same way.
			t.Fatalf("kubectl kustomize %s: %v", d, err)
		}
		mine, err := RenderYAML(d)
		if err != nil {
			t.Fatal(err)
		}
		a, b := normalizedDocs(t, out), normalizedDocs(t, mine)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			for _, x := range a {
				if !contains(b, x) {
					t.Errorf("%s: only kubectl kustomize renders %.300s", filepath.Base(d), x)
				}
			}
			for _, x := range b {
				if !contains(a, x) {
					t.Errorf("%s: only the kustomize API renders %.300s", filepath.Base(d), x)
				}
			}
		}
	}
}

func normalizedDocs(t *testing.T, stream []byte) []string {
	var out []string
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(j, &v); err != nil {
			t.Fatal(err)
		}
		n, _ := json.Marshal(v) // sorted keys
		out = append(out, string(n))
	}
	sort.Strings(out)
	return out
}
