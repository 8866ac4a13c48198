package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Added to every overlay the test applies, as kustomize resources or
// components (paths from the repository root). Objects that need CRDs of
// their own (e.g. a ServiceMonitor) also need those CRDs in extraCRDs.
var (
	extraResources []string
	// deploy/monitoring: the alert rules and dashboard ConfigMaps, the
	// gateway's ops listener, scrape annotations (monitoring_test.go).
	extraComponents = []string{"deploy/monitoring"}
	extraCRDs       []string
)

// repoRoot is the repository's root folder (go test runs in the package's
// folder, deploy/k8s/cluster/clustertest).
func repoRoot() string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		panic(err)
	}
	return dir
}

// overlayDir is deploy/k8s/overlays/name.
func overlayDir(name string) string {
	return filepath.Join(repoRoot(), "deploy", "k8s", "overlays", name)
}

// testKustomization is the overlay plus the extras, with one change: KEDA
// runs on this machine, not in the cluster, so its NATS monitoring
// endpoint (checked first to be the overlay's own Service
// nats-headless.NAMESPACE.svc.cluster.local:8222) becomes the test's
// nats-server, and scaling down is not delayed (the overlays wait 300 s and
// remove one worker a minute).
func testKustomization(dir, overlay, ns, monitor string) string {
	// kustomize takes other kustomizations by relative path only.
	rel := func(p string) string {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return p
		}
		return r
	}
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	// The extras' objects go where the overlay's do (in a site overlay the
	// component sits under the overlay's own namespace).
	fmt.Fprintf(&b, "namespace: %s\nresources:\n", ns)
	fmt.Fprintf(&b, "  - %s\n", rel(overlayDir(overlay)))
	for _, r := range extraResources {
		fmt.Fprintf(&b, "  - %s\n", rel(filepath.Join(repoRoot(), r)))
	}
	if len(extraComponents) > 0 {
		b.WriteString("components:\n")
		for _, r := range extraComponents {
			fmt.Fprintf(&b, "  - %s\n", rel(filepath.Join(repoRoot(), r)))
		}
	}
	want := fmt.Sprintf("nats-headless.%s.svc.cluster.local:8222", ns)
	b.WriteString("patches:\n  - target: {group: keda.sh, kind: ScaledObject, name: worker}\n    patch: |-\n")
	for i := 0; i < 2; i++ {
		p := fmt.Sprintf("/spec/triggers/%d/metadata/natsServerMonitoringEndpoint", i)
		fmt.Fprintf(&b, "      - {op: test, path: %s, value: %q}\n", p, want)
		fmt.Fprintf(&b, "      - {op: replace, path: %s, value: %q}\n", p, monitor)
	}
	b.WriteString("      - op: replace\n        path: /spec/advanced/horizontalPodAutoscalerConfig/behavior/scaleDown\n")
	b.WriteString("        value: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 5}]}\n")
	return b.String()
}

// apply applies an overlay server-side, as `kubectl apply --server-side -k`
// does, and fails on any warning (Pod Security `restricted` warns before
// it refuses).
func (c *cluster) apply(overlay, ns, monitor string) {
	c.t.Helper()
	dir := c.path("apply-" + overlay)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	writeFile(c.t, filepath.Join(dir, "kustomization.yaml"), []byte(testKustomization(dir, overlay, ns, monitor)))
	out, stderr, err := c.kubectl("apply", "--server-side", "--field-manager=batchinfer-test", "-k", dir)
	if err != nil {
		c.t.Fatalf("apply %s: %v\n%s", overlay, err, out)
	}
	if strings.Contains(stderr, "Warning") {
		c.t.Fatalf("apply %s warned:\n%s", overlay, stderr)
	}
	c.t.Logf("applied %s:\n%s", overlay, out)
}

// installExtraCRDs applies extraCRDs (before any overlay).
func (c *cluster) installExtraCRDs() {
	for _, f := range extraCRDs {
		c.mustKubectl("apply", "--server-side", "-f", filepath.Join(repoRoot(), f))
	}
}
