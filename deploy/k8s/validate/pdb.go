package main

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// pdbRoles: the services whose pods must each be covered by a
// PodDisruptionBudget.
var pdbRoles = []string{roleGateway, roleNATS}

// checkPDBs: every PodDisruptionBudget selects one workload and lets a node
// drain evict its pods; the gateway and NATS have one.
func (c *checker) checkPDBs() {
	covered := map[*workload]bool{}
	for _, o := range c.objs {
		p, ok := o.Typed.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		if w := c.checkPDB(o, p); w != nil {
			covered[w] = true
		}
	}
	for _, role := range pdbRoles {
		for _, w := range c.byRole(role) {
			if !covered[w] {
				c.fs.add(w.obj, "", "no PodDisruptionBudget selects its pods")
			}
		}
	}
}

// checkPDB checks one PodDisruptionBudget and returns the workload it
// covers, nil if it does not select exactly one.
func (c *checker) checkPDB(o *Object, p *policyv1.PodDisruptionBudget) *workload {
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || p.Spec.Selector == nil {
		c.fs.add(o, "spec.selector", "missing or invalid: %v", err)
		return nil
	}
	ws := c.selected(o.Namespace, sel)
	if len(ws) != 1 {
		c.fs.add(o, "spec.selector", "matches %d workloads, want exactly 1", len(ws))
		return nil
	}
	w := ws[0]
	replicas := w.replicaCount()
	if minA := p.Spec.MinAvailable; minA != nil && minA.Type == intstr.Int && minA.IntVal >= replicas {
		c.fs.add(o, "spec.minAvailable", "%d with %d replicas of %s: no pod could ever be evicted (node drains hang)", minA.IntVal, replicas, w.obj.ID())
	}
	if maxU := p.Spec.MaxUnavailable; maxU != nil && maxU.Type == intstr.Int && maxU.IntVal < 1 {
		c.fs.add(o, "spec.maxUnavailable", "must be at least 1 (node drains hang)")
	}
	return w
}
