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

// registerAdapter points the APIService at the adapter's port and waits
// until the aggregator reports it Available.
func (c *cluster) registerAdapter(port int) {
	objs := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: keda-metrics-apiserver, namespace: %[1]s}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{name: https, port: %[2]d}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.external.metrics.k8s.io}
spec:
  service: {name: keda-metrics-apiserver, namespace: %[1]s, port: %[2]d}
  group: external.metrics.k8s.io
  version: v1beta1
  caBundle: %[3]s
  groupPriorityMinimum: 100
  versionPriority: 100
`, kedaNamespace, port, base64.StdEncoding.EncodeToString(c.ca.pem))
	writeFile(c.t, c.path("keda-apiservice.yaml"), []byte(objs))
	c.mustKubectl("apply", "--server-side", "-f", c.path("keda-apiservice.yaml"))
	c.eventually(startTimeout, "KEDA's external metrics APIService Available", func() (bool, string) {
		out, _, err := c.kubectl("get", "apiservice", "v1beta1.external.metrics.k8s.io",
			"-o", `jsonpath={range .status.conditions[*]}{.type}={.status} {.message}{"\n"}{end}`)
		if err != nil {
			return false, err.Error()
		}
		_, err = c.cs.Discovery().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1").DoRaw(context.Background())
		return err == nil, out + errOrEmpty(err)
	}, []string{"get", "apiservice", "v1beta1.external.metrics.k8s.io", "-o", "yaml"})
}
