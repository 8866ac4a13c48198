package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkServices: every Service selects the pods of a workload, and each of
// its target ports is a container port of those pods.
func (c *checker) checkServices() {
	for _, o := range c.services {
		s := o.Typed.(*corev1.Service)
		if len(s.Spec.Selector) == 0 {
			c.fs.add(o, "spec.selector", "empty: the Service would have no endpoints")
			continue
		}
		ws := c.selected(o.Namespace, labels.SelectorFromSet(s.Spec.Selector))
		if len(ws) == 0 {
			c.fs.add(o, "spec.selector", "%v matches the pods of no Deployment or StatefulSet", s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			c.checkTargetPort(o, p, ws)
		}
	}
}

// checkTargetPort: the target port of a Service port (the port itself
// where unset) is a container port of every selected workload.
func (c *checker) checkTargetPort(o *Object, p corev1.ServicePort, ws []*workload) {
	tp := p.TargetPort
	if tp.Type == intstr.Int && tp.IntVal == 0 {
		tp = intstr.FromInt32(p.Port)
	}
	for _, w := range ws {
		if _, ok := podPort(w.tmpl, tp); !ok {
			c.fs.add(o, "spec.ports["+p.Name+"].targetPort", "%s is not a container port of %s", tp.String(), w.obj.ID())
		}
	}
}

// checkNetworkPolicies: every NetworkPolicy applies to some pods, its
// ingress ports are ports of those pods, and its pod peers exist.
func (c *checker) checkNetworkPolicies() {
	for _, o := range c.objs {
		np, ok := o.Typed.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			c.fs.add(o, "spec.podSelector", "%v", err)
			continue
		}
		targets := c.selected(o.Namespace, sel)
		if len(targets) == 0 {
			c.fs.add(o, "spec.podSelector", "matches no pods")
		}
		for i, r := range np.Spec.Ingress {
			fp := fmt.Sprintf("spec.ingress[%d]", i)
			c.checkIngressPorts(o, fp, r.Ports, targets)
			c.checkIngressPeers(o, fp, r.From)
		}
	}
}

// checkIngressPorts: each port of an ingress rule is a container port of
// the policy's targets.
func (c *checker) checkIngressPorts(o *Object, fp string, ports []networkingv1.NetworkPolicyPort, targets []*workload) {
	for _, p := range ports {
		if p.Port == nil {
			continue
		}
		for _, w := range targets {
			if _, ok := podPort(w.tmpl, *p.Port); !ok {
				c.fs.add(o, fp+".ports", "%s is not a container port of %s", p.Port.String(), w.obj.ID())
			}
		}
	}
}

// checkIngressPeers: a peer that selects pods in the policy's own
// namespace selects some.
func (c *checker) checkIngressPeers(o *Object, fp string, from []networkingv1.NetworkPolicyPeer) {
	for j, peer := range from {
		if peer.PodSelector == nil || peer.NamespaceSelector != nil {
			continue
		}
		pfp := fmt.Sprintf("%s.from[%d].podSelector", fp, j)
		ps, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
		if err != nil {
			c.fs.add(o, pfp, "%v", err)
		} else if len(c.selected(o.Namespace, ps)) == 0 {
			c.fs.add(o, pfp, "matches no pods")
		}
	}
}
