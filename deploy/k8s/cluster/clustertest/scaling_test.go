package clustertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// backlog drives deploy/k8s/backlog: a real nats-server with the system's
// streams and the workers' consumers (the backlog consumers on JOBIN that
// KEDA reads, the batch queues on INFER).
type backlog struct {
	in      io.WriteCloser
	out     *bufio.Scanner
	monitor string
}

// startBacklog runs $BACKLOG_BIN and reads its monitoring address.
func startBacklog(t *testing.T, dir string) *backlog {
	t.Helper()
	bin := os.Getenv("BACKLOG_BIN")
	if bin == "" {
		t.Fatal("BACKLOG_BIN is not set (go build ./deploy/k8s/backlog; scripts/k8s-test.sh does)")
	}
	cmd := exec.Command(bin, "-store", dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("backlog: %v", err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	b := &backlog{in: in, out: bufio.NewScanner(stdout)}
	if !b.out.Scan() || !strings.HasPrefix(b.out.Text(), "monitor ") {
		t.Fatalf("backlog: first line %q, want monitor HOST:PORT", b.out.Text())
	}
	b.monitor = strings.TrimPrefix(b.out.Text(), "monitor ")
	return b
}

// do sends one command and returns the answer.
func (b *backlog) do(t *testing.T, cmd string) string {
	t.Helper()
	if _, err := fmt.Fprintln(b.in, cmd); err != nil {
		t.Fatalf("backlog %s: %v", cmd, err)
	}
	if !b.out.Scan() {
		t.Fatalf("backlog %s: no answer (%v)", cmd, b.out.Err())
	}
	if ans := b.out.Text(); !strings.HasPrefix(ans, "error") {
		return ans
	}
	t.Fatalf("backlog %s: %s", cmd, b.out.Text())
	return ""
}

// kedaHPA is the HPA KEDA makes for ScaledObject worker.
const kedaHPA = "keda-hpa-worker"

// kedaScaling: the ScaledObject is Ready, KEDA made its HPA with the
// overlay's bounds, and the HPA controller reads its external metrics
// (through the aggregator, KEDA's adapter and operator, from NATS's /jsz).
func (c *cluster) kedaScaling(e expect) {
	c.t.Helper()
	c.eventually(convergeTimeout, e.ns+": ScaledObject worker Ready", func() (bool, string) {
		out, _, err := c.kubectl("-n", e.ns, "get", "scaledobject", "worker", "-o",
			`jsonpath={range .status.conditions[*]}{.type}={.status} {end}`)
		return err == nil && strings.Contains(out, "Ready=True"), out + errOrEmpty(err)
	}, dumps(e.ns, "scaledobject/worker")...)
	c.hpaActive(e, kedaHPA, "External")
}

// hpaActive waits for an HPA with the overlay's bounds whose controller
// computes replicas from its metrics (condition ScalingActive).
func (c *cluster) hpaActive(e expect, name, kind string) *autoscalingv2.HorizontalPodAutoscaler {
	c.t.Helper()
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	c.eventually(convergeTimeout, fmt.Sprintf("%s: HPA %s (%d-%d workers) reading its %s metrics", e.ns, name, e.workers, e.maxWorkers, kind),
		func() (bool, string) {
			var err error
			hpa, err = c.cs.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(bg, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if deref(hpa.Spec.MinReplicas) != e.workers || hpa.Spec.MaxReplicas != e.maxWorkers ||
				hpa.Spec.ScaleTargetRef.Name != "worker" || len(hpa.Spec.Metrics) == 0 || string(hpa.Spec.Metrics[0].Type) != kind {
				return false, fmt.Sprintf("spec %+v", hpa.Spec)
			}
			return condition(hpa, autoscalingv2.ScalingActive) == "True", conditions(hpa)
		}, dumps(e.ns, "hpa/"+name)...)
	return hpa
}

func condition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return string(c.Status)
		}
	}
	return ""
}

func conditions(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var b strings.Builder
	for _, c := range h.Status.Conditions {
		fmt.Fprintf(&b, "%s=%s (%s: %s); ", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// followBacklog raises and drains the JOBIN backlog of the models (chunks
// written as the gateway writes a job's items, with the scheduler's few
// tickets beside them; deleted as workers do once their results are
// stored) and waits each time for the workers KEDA asks for: one per 20 chunks
// (lagThreshold) of the busier consumer, within the overlay's bounds.
func (c *cluster) followBacklog(e expect, b *backlog) {
	steps := []struct {
		cmd  string
		lags [2]int64 // digits, breast_cancer after the command
		want int32
	}{
		{"publish digits 100", [2]int64{100, 0}, 5},
		{"publish digits 60", [2]int64{160, 0}, 8},
		{"publish breast_cancer 250", [2]int64{160, 250}, e.maxWorkers}, // 13, capped
		{"drain digits", [2]int64{0, 250}, e.maxWorkers},
		{"drain breast_cancer", [2]int64{0, 0}, e.workers},
	}
	for _, s := range steps {
		b.do(c.t, s.cmd)
		start := time.Now()
		c.eventually(convergeTimeout, fmt.Sprintf("%s: after %q (lags %v), %d workers", e.ns, s.cmd, s.lags, s.want), func() (bool, string) {
			lags, err := c.externalMetrics(e.ns)
			if err != nil || lags != s.lags {
				return false, fmt.Sprintf("external metrics %v, want %v: %v", lags, s.lags, err)
			}
			hpa, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(bg, kedaHPA, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if hpa.Status.DesiredReplicas != s.want {
				return false, fmt.Sprintf("HPA desires %d: %s", hpa.Status.DesiredReplicas, conditions(hpa))
			}
			d, err := c.cs.AppsV1().Deployments(e.ns).Get(bg, "worker", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return deref(d.Spec.Replicas) == s.want && d.Status.AvailableReplicas == s.want,
				fmt.Sprintf("worker Deployment %d replicas, %d available", deref(d.Spec.Replicas), d.Status.AvailableReplicas)
		}, dumps(e.ns, "hpa/"+kedaHPA, "scaledobject/worker")...)
		c.t.Logf("%s: %q: %d workers after %s", e.ns, s.cmd, s.want, time.Since(start).Round(100*time.Millisecond))
	}
}

// externalMetrics reads the two triggers' metrics (s0-..., s1-...) from the
// external metrics API, as the HPA controller does.
func (c *cluster) externalMetrics(ns string) ([2]int64, error) {
	var out [2]int64
	hpa, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(bg, kedaHPA, metav1.GetOptions{})
	if err != nil {
		return out, err
	}
	if len(hpa.Spec.Metrics) != 2 {
		return out, fmt.Errorf("HPA has %d metrics, want the 2 triggers'", len(hpa.Spec.Metrics))
	}
	for i, m := range hpa.Spec.Metrics {
		raw, err := c.cs.Discovery().RESTClient().Get().
			AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", ns, m.External.Metric.Name).
			Param("labelSelector", metav1.FormatLabelSelector(m.External.Metric.Selector)).DoRaw(bg)
		if err != nil {
			return out, fmt.Errorf("%s: %w", m.External.Metric.Name, err)
		}
		var list struct {
			Items []struct {
				Value resource.Quantity `json:"value"`
			} `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) != 1 {
			return out, fmt.Errorf("%s: %s: %v", m.External.Metric.Name, raw, err)
		}
		out[i] = list.Items[0].Value.Value()
	}
	return out, nil
}

// hpaAccepted: prod-hpa's HPA is stored as written (2-10 workers at 70 %
// of their CPU request) and the HPA controller computes replicas from the
// workers' CPU, read from the resource metrics API (metrics-server, from
// kwok's kubelet metrics).
func (c *cluster) hpaAccepted(e expect) *autoscalingv2.HorizontalPodAutoscaler {
	c.t.Helper()
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	c.eventually(convergeTimeout, e.ns+": HPA worker reading the workers' CPU", func() (bool, string) {
		var err error
		hpa, err = c.cs.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(bg, "worker", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		m := hpa.Spec.Metrics
		if deref(hpa.Spec.MinReplicas) != e.workers || hpa.Spec.MaxReplicas != e.maxWorkers || len(m) != 1 ||
			m[0].Resource == nil || m[0].Resource.Name != "cpu" || deref(m[0].Resource.Target.AverageUtilization) != 70 {
			return false, fmt.Sprintf("spec %+v", hpa.Spec)
		}
		cur := hpa.Status.CurrentMetrics
		return condition(hpa, autoscalingv2.ScalingActive) == "True" && len(cur) == 1 && cur[0].Resource != nil &&
			cur[0].Resource.Current.AverageUtilization != nil, conditions(hpa)
	}, dumps(e.ns, "hpa/worker")...)
	return hpa
}

// cpuScaling makes the two workers use 1.4 CPUs each (kwok's usage
// annotation on the pods; 140 % of the request) and waits for the HPA to
// ask for, and get, 4 workers: ceil(2 x 140 / 70). The two new ones use
// next to nothing, which keeps the average at 70 %: 4 it stays.
func (c *cluster) cpuScaling(e expect) {
	c.t.Helper()
	c.mustKubectl("-n", e.ns, "annotate", "pods", "-l", "app.kubernetes.io/name=worker", "kwok.x-k8s.io/usage-cpu=1400m")
	c.eventually(convergeTimeout, e.ns+": 4 workers for 140 % CPU", func() (bool, string) {
		hpa, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(bg, "worker", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		d, err := c.cs.AppsV1().Deployments(e.ns).Get(bg, "worker", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		util := int32(-1)
		if cur := hpa.Status.CurrentMetrics; len(cur) == 1 && cur[0].Resource != nil {
			util = deref(cur[0].Resource.Current.AverageUtilization)
		}
		return hpa.Status.DesiredReplicas == 4 && deref(d.Spec.Replicas) == 4 && d.Status.AvailableReplicas == 4,
			fmt.Sprintf("CPU %d %%, HPA desires %d, Deployment %d available (%s)", util, hpa.Status.DesiredReplicas, d.Status.AvailableReplicas, conditions(hpa))
	}, dumps(e.ns, "hpa/worker")...)
}
