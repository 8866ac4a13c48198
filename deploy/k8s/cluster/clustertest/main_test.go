package clustertest

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	devSecrets  = "deploy/k8s/overlays/dev/secrets/"
	prodSecrets = "deploy/k8s/overlays/prod/secrets/"
)

var (
	dev = expect{
		overlay: "dev", ns: "batchinfer-dev", gateway: 1, frontend: 1, workers: 1, maxWorkers: 3, keda: true,
		secrets: map[string]map[string]string{
			"nats-auth":        {"password": devSecrets + "nats_password.dev"},
			"nats-route-auth":  {"password": devSecrets + "nats_route_password.dev"},
			"gateway-api-keys": {"api_keys": devSecrets + "api_keys.dev"},
		},
	}
	prod = expect{
		overlay: "prod", ns: "batchinfer", gateway: 2, frontend: 2, workers: 2, maxWorkers: 10, keda: true, natsPerNode: true,
		secrets: map[string]map[string]string{
			"nats-auth":        {"password": prodSecrets + "nats_password"},
			"nats-route-auth":  {"password": prodSecrets + "nats_route_password"},
			"gateway-api-keys": {"api_keys": prodSecrets + "api_keys"},
		},
	}
)

// TestOverlays applies every overlay to a real control plane and checks
// the state each reaches, then scales the workers with KEDA on a real NATS
// backlog, rolls the gateway, evicts NATS servers against their PDB, and
// moves prod from KEDA to the CPU HPA of prod-hpa.
func TestOverlays(t *testing.T) {
	c := startCluster(t)
	nats := startBacklog(t, c.path("nats"))
	c.startKEDA()
	c.startMetricsServer()
	c.installExtraCRDs()
	step := func(name string, f func()) {
		t.Run(name, func(st *testing.T) {
			outer := c.t
			c.t = st
			defer func() { c.t = outer }()
			f()
		})
		if t.Failed() {
			t.FailNow()
		}
	}
	step("dev", func() { c.apply("dev", dev.ns, nats.monitor); c.converge(dev) })
	step("prod", func() { c.apply("prod", prod.ns, nats.monitor); c.converge(prod) })
	step("prod/keda-follows-backlog", func() { c.followBacklog(prod, nats) })
	step("prod/rolling-update", func() { c.rollingUpdate(prod) })
	step("prod/pdb-eviction", func() { c.evictionRespectsPDB(prod) })
	step("prod-hpa", func() { c.switchToHPA(nats.monitor) })
}

// switchToHPA moves prod to prod-hpa as an operator would: the
// ScaledObject is deleted first (KEDA removes its HPA; two autoscalers must
// never share the Deployment), then prod-hpa is applied; its HPA reads the
// CPU of the workers from the resource metrics API and scales on it.
func (c *cluster) switchToHPA(monitor string) {
	e := prod
	e.overlay, e.keda = "prod-hpa", false
	c.mustKubectl("-n", e.ns, "delete", "scaledobject", "worker", "--wait=true", "--timeout=3m")
	c.eventually(convergeTimeout, e.ns+": KEDA's HPA removed with its ScaledObject", func() (bool, string) {
		_, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(bg, kedaHPA, metav1.GetOptions{})
		return err != nil && strings.Contains(err.Error(), "not found"), fmt.Sprint(err)
	}, dumps(e.ns)...)
	c.apply(e.overlay, e.ns, monitor)
	c.converge(e)
	hpa := c.hpaAccepted(e)
	c.t.Logf("%s: HPA worker: %s", e.ns, conditions(hpa))
	c.cpuScaling(e)
}
