package clustertest

import (
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// monitoringApplied checks what the deploy/monitoring component adds to
// an overlay: the rules and dashboard ConfigMaps with the repository's
// files, the gateway pods' ops listener, and the scrape annotations of the
// gateway and worker pods.
func (c *cluster) monitoringApplied(e expect) {
	c.t.Helper()
	for name, file := range map[string][2]string{
		"batchinfer-prometheus-rules":  {"batchinfer.rules.yml", "deploy/monitoring/prometheus/alerts.yml"},
		"batchinfer-grafana-dashboard": {"batchinfer.json", "deploy/monitoring/grafana/batchinfer.json"},
	} {
		cm, err := c.cs.CoreV1().ConfigMaps(e.ns).Get(bg, name, metav1.GetOptions{})
		if err != nil {
			c.t.Fatalf("%s: ConfigMap %s: %v", e.ns, name, err)
		}
		want, err := os.ReadFile(filepath.Join(repoRoot(), file[1]))
		if err != nil {
			c.t.Fatal(err)
		}
		if cm.Data[file[0]] != string(want) {
			c.t.Errorf("%s: ConfigMap %s key %s is not %s", e.ns, name, file[0], file[1])
		}
	}
	if cm, err := c.cs.CoreV1().ConfigMaps(e.ns).Get(bg, "batchinfer-grafana-dashboard", metav1.GetOptions{}); err == nil && cm.Labels["grafana_dashboard"] != "1" {
		c.t.Errorf("%s: the dashboard ConfigMap lacks the label grafana_dashboard=1 (labels %v)", e.ns, cm.Labels)
	}
	for app, port := range map[string]string{"gateway": "8002", "worker": "8001"} {
		pods, err := c.cs.CoreV1().Pods(e.ns).List(bg, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + app})
		if err != nil || len(pods.Items) == 0 {
			c.t.Fatalf("%s: pods of %s: %v", e.ns, app, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if a := p.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" {
				c.t.Errorf("%s: pod %s: scrape annotations %v, want port %s", e.ns, p.Name, a, port)
			}
			if app == "gateway" && !opsListener(p) {
				c.t.Errorf("%s: gateway pod %s has no GATEWAY_OPS_ADDR=:8002 with container port ops", e.ns, p.Name)
			}
		}
	}
}

// opsListener reports whether the gateway container serves the operators'
// listener on :8002 and declares it.
func opsListener(p *corev1.Pod) bool {
	ctr := p.Spec.Containers[0]
	env := slices.ContainsFunc(ctr.Env, func(v corev1.EnvVar) bool { return v.Name == "GATEWAY_OPS_ADDR" && v.Value == ":8002" })
	port := slices.ContainsFunc(ctr.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == "ops" && cp.ContainerPort == 8002 })
	return env && port
}
