package clustertest

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
)

// kedaNamespace is where KEDA lives: the NATS NetworkPolicy admits it.
const kedaNamespace = "keda"

// startKEDA installs KEDA's CRDs and its RBAC for the HPA controller (from
// the KEDA module the programs were built from), runs the operator and the
// metrics adapter on this machine and registers the adapter as the
// external.metrics.k8s.io APIService: a Service of type ExternalName leads
// the API server's aggregator to the adapter's loopback port, and the
// adapter reads KEDA's metrics from the operator over mutual TLS.
func (c *cluster) startKEDA() {
	kedaDir := c.path("keda")
	kca := newAuthority(c.t, kedaDir, "ca")
	kca.issue(c.t, kedaDir, "tls", certSpec{
		cn: "keda-operator", server: true, client: true,
		dns: []string{"localhost", "keda-operator.keda.svc"}, ips: []string{"127.0.0.1"},
	})
	c.ca.issue(c.t, c.dir, "keda-adapter", certSpec{
		cn: "keda-metrics-apiserver", server: true,
		dns: []string{"keda-metrics-apiserver.keda.svc", "localhost"}, ips: []string{"127.0.0.1"},
	})
	c.mustKubectl("create", "namespace", kedaNamespace)
	c.mustKubectl("apply", "--server-side", "-f", filepath.Join(c.bin, "keda", "crds"))
	c.mustKubectl("apply", "--server-side", "-f", filepath.Join(c.bin, "keda", "rbac"))
	c.eventually(startTimeout, "KEDA's CRDs served", func() (bool, string) {
		_, _, err := c.kubectl("get", "scaledobjects.keda.sh", "-A")
		return err == nil, errOrEmpty(err)
	})
	grpc := fmt.Sprintf("127.0.0.1:%d", freePort(c.t))
	env := []string{"KUBECONFIG=" + c.kubeconfig, "WATCH_NAMESPACE=", "POD_NAMESPACE=" + kedaNamespace,
		"KEDA_CLUSTER_OBJECT_NAMESPACE=" + kedaNamespace, "POD_NAME=keda-operator"}
	c.start("keda-operator", filepath.Join(c.bin, "keda-operator"), []string{
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", freePort(c.t)),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", freePort(c.t)),
		"--metrics-service-bind-address=" + grpc, "--cert-dir=" + kedaDir,
		"--enable-cert-rotation=false", "--enable-webhook-patching=false", "--enable-apiservice-patching=false",
		"--leader-elect=false", "--zap-log-level=info",
	}, env...)
	port := freePort(c.t)
	kc := c.kubeconfig
	c.start("keda-adapter", filepath.Join(c.bin, "keda-adapter"), []string{
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file=" + c.path("keda-adapter.crt"), "--tls-private-key-file=" + c.path("keda-adapter.key"),
		"--cert-dir=" + kedaDir, "--metrics-service-address=" + grpc,
		fmt.Sprintf("--port=%d", freePort(c.t)),
		"--kubeconfig=" + kc, "--lister-kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--zap-log-level=info",
	}, env...)
	c.registerAdapter(port)
}

// registerAdapter points the APIService of external metrics at the
// adapter's port.
func (c *cluster) registerAdapter(port int) {
	c.registerAPIService("external.metrics.k8s.io", kedaNamespace, "keda-metrics-apiserver", port)
}

// registerAPIService registers an aggregated API served on this machine's
// loopback port: a Service of type ExternalName (localhost) that the API
// server's aggregator follows, and the APIService v1beta1.GROUP; then waits
// until the aggregator reports it Available.
func (c *cluster) registerAPIService(group, ns, svc string, port int) {
	name := "v1beta1." + group
	objs := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{name: https, port: %[3]d}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: %[5]s}
spec:
  service: {name: %[2]s, namespace: %[1]s, port: %[3]d}
  group: %[6]s
  version: v1beta1
  caBundle: %[4]s
  groupPriorityMinimum: 100
  versionPriority: 100
`, ns, svc, port, base64.StdEncoding.EncodeToString(c.ca.pem), name, group)
	file := c.path(name + ".yaml")
	writeFile(c.t, file, []byte(objs))
	c.mustKubectl("apply", "--server-side", "-f", file)
	c.eventually(startTimeout, "APIService "+name+" Available", func() (bool, string) {
		out, _, err := c.kubectl("get", "apiservice", name,
			"-o", `jsonpath={range .status.conditions[*]}{.type}={.status} {.message}{"\n"}{end}`)
		if err != nil {
			return false, err.Error()
		}
		_, err = c.cs.Discovery().RESTClient().Get().AbsPath("/apis/" + group + "/v1beta1").DoRaw(context.Background())
		return err == nil, out + errOrEmpty(err)
	}, []string{"get", "apiservice", name, "-o", "yaml"})
}

// startMetricsServer runs metrics-server on this machine, reading the
// nodes' kubelet metrics from kwok, and registers it as the
// metrics.k8s.io APIService, which the HPA controller reads CPU from.
func (c *cluster) startMetricsServer() {
	c.ca.issue(c.t, c.dir, "metrics-server", certSpec{
		cn: "metrics-server", server: true,
		dns: []string{"metrics-server.kube-system.svc", "localhost"}, ips: []string{"127.0.0.1"},
	})
	port := freePort(c.t)
	kc := c.kubeconfig
	c.start("metrics-server", c.k8s, []string{"metrics-server",
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file=" + c.path("metrics-server.crt"), "--tls-private-key-file=" + c.path("metrics-server.key"),
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--kubelet-preferred-address-types=InternalIP", "--kubelet-use-node-status-port",
		"--kubelet-certificate-authority=" + c.path("ca.crt"),
		"--metric-resolution=10s", "--kubelet-request-timeout=5s",
	})
	c.registerAPIService("metrics.k8s.io", "kube-system", "metrics-server", port)
}
