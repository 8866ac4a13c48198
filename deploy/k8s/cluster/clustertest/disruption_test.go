package clustertest

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// rollout is what a watch saw of a workload's pods during a rolling update.
type rollout struct {
	pods              map[string]*corev1.Pod
	maxLive, minReady int
	created, deleted  int
}

func (r *rollout) observe(ev watch.Event) {
	p, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	if _, seen := r.pods[p.Name]; !seen && ev.Type != watch.Deleted {
		r.created++
	}
	if ev.Type == watch.Deleted {
		delete(r.pods, p.Name)
		r.deleted++
	} else {
		r.pods[p.Name] = p
	}
	live, ready := 0, 0
	for _, q := range r.pods {
		if q.DeletionTimestamp == nil {
			live++
		}
		if podReady(q) {
			ready++
		}
	}
	r.maxLive = max(r.maxLive, live)
	r.minReady = min(r.minReady, ready)
}

// rollingUpdate changes the gateway's pod template and watches every pod
// change until the rollout is complete: never more than replicas + maxSurge
// (1) pods, never fewer than replicas ready (maxUnavailable 0, within the
// PDB's maxUnavailable 1), every pod replaced.
func (c *cluster) rollingUpdate(e expect) {
	c.t.Helper()
	sel := "app.kubernetes.io/name=gateway"
	list, err := c.cs.CoreV1().Pods(e.ns).List(bg, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		c.t.Fatal(err)
	}
	r := &rollout{pods: map[string]*corev1.Pod{}, minReady: int(e.gateway)}
	for i := range list.Items {
		r.pods[list.Items[i].Name] = &list.Items[i]
	}
	ctx, cancel := context.WithTimeout(bg, convergeTimeout)
	defer cancel()
	w, err := c.cs.CoreV1().Pods(e.ns).Watch(ctx, metav1.ListOptions{LabelSelector: sel, ResourceVersion: list.ResourceVersion})
	if err != nil {
		c.t.Fatal(err)
	}
	defer w.Stop()
	c.mustKubectl("-n", e.ns, "patch", "deployment", "gateway", "--type=merge", "-p",
		fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"batchinfer.test/rollout":%q}}}}}`, time.Now().Format(time.RFC3339Nano)))
	gen := c.deploymentGeneration(e.ns, "gateway")
	for !c.rolledOut(e.ns, "gateway", gen, e.gateway) || r.deleted < int(e.gateway) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				c.t.Fatalf("%s: gateway rollout not complete in %s: %+v", e.ns, convergeTimeout, r)
			}
			r.observe(ev)
		case <-time.After(time.Second):
		}
	}
	c.t.Logf("%s: gateway rollout: %d pods created, %d deleted, at most %d live, at least %d ready", e.ns, r.created, r.deleted, r.maxLive, r.minReady)
	if r.maxLive > int(e.gateway)+1 || r.minReady < int(e.gateway) || r.created != int(e.gateway) {
		c.t.Errorf("%s: gateway rollout: %d live pods at most (want <= %d), %d ready at least (want >= %d), %d created (want %d)",
			e.ns, r.maxLive, e.gateway+1, r.minReady, e.gateway, r.created, e.gateway)
	}
}

func (c *cluster) deploymentGeneration(ns, name string) int64 {
	d, err := c.cs.AppsV1().Deployments(ns).Get(bg, name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d.Generation
}

func (c *cluster) rolledOut(ns, name string, gen int64, want int32) bool {
	d, err := c.cs.AppsV1().Deployments(ns).Get(bg, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	s := d.Status
	return s.ObservedGeneration >= gen && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
}

// holdFinalizer keeps an evicted pod terminating (as a slow shutdown would)
// until the test removes it.
const holdFinalizer = "batchinfer.test/hold"

// evictionRespectsPDB evicts one NATS server, which the PDB allows, and
// while it is still terminating tries a second, which the PDB must refuse;
// then lets the first go and waits for the StatefulSet to recover it on
// its volume's node.
func (c *cluster) evictionRespectsPDB(e expect) {
	c.t.Helper()
	pods := c.cs.CoreV1().Pods(e.ns)
	hold := fmt.Sprintf(`{"metadata":{"finalizers":[%q]}}`, holdFinalizer)
	if _, err := pods.Patch(bg, "nats-0", types.MergePatchType, []byte(hold), metav1.PatchOptions{}); err != nil {
		c.t.Fatal(err)
	}
	if err := c.evict(e.ns, "nats-0"); err != nil {
		c.t.Fatalf("%s: evicting nats-0 with all three healthy: %v", e.ns, err)
	}
	c.eventually(convergeTimeout, e.ns+": PDB nats allows no more disruptions while nats-0 terminates", func() (bool, string) {
		p, err := c.cs.PolicyV1().PodDisruptionBudgets(e.ns).Get(bg, "nats", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Status.DisruptionsAllowed == 0 && p.Status.CurrentHealthy == 2, fmt.Sprintf("status %+v", p.Status)
	}, dumps(e.ns, "pdb/nats")...)
	err := c.evict(e.ns, "nats-1")
	if !apierrors.IsTooManyRequests(err) {
		c.t.Errorf("%s: evicting nats-1 while nats-0 terminates: %v, want 429 (the PDB allows one server down)", e.ns, err)
	}
	c.t.Logf("%s: second eviction refused: %v", e.ns, err)
	release := `{"metadata":{"finalizers":null}}`
	if _, err := pods.Patch(bg, "nats-0", types.MergePatchType, []byte(release), metav1.PatchOptions{}); err != nil {
		c.t.Fatal(err)
	}
	c.natsReady(e)
	c.pdbsInForce(e)
}

func (c *cluster) evict(ns, pod string) error {
	return c.cs.PolicyV1().Evictions(ns).Evict(bg, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: ns},
	})
}
