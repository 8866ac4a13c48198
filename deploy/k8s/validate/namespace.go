package main

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// checkNamespace: every object is in one namespace, set by the overlay, and
// the overlay carries that Namespace under the restricted Pod Security
// Standard. It sets c.namespace.
func (c *checker) checkNamespace() {
	nss := map[string]bool{}
	var namespaces []*Object
	for _, o := range c.objs {
		if o.Kind == "Namespace" {
			namespaces = append(namespaces, o)
			continue
		}
		if o.Namespace == "" {
			c.fs.add(o, "metadata.namespace", "not set: the overlay must set `namespace:`")
		}
		nss[o.Namespace] = true
	}
	if len(nss) > 1 {
		var l []string
		for n := range nss {
			l = append(l, n)
		}
		sort.Strings(l)
		c.fs.add(nil, "metadata.namespace", "objects in several namespaces %v: an overlay deploys into one", l)
		return
	}
	for n := range nss {
		c.namespace = n
	}
	c.checkNamespaceObject(namespaces)
}

// checkNamespaceObject: the Namespace c.namespace is among namespaces and
// enforces the restricted Pod Security Standard.
func (c *checker) checkNamespaceObject(namespaces []*Object) {
	found := false
	for _, o := range namespaces {
		ns := o.Typed.(*corev1.Namespace)
		if o.Name != c.namespace {
			continue
		}
		found = true
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			c.fs.add(o, "metadata.labels[pod-security.kubernetes.io/enforce]", "must be `restricted`: every pod is built to meet that Pod Security Standard")
		}
	}
	if !found && c.namespace != "" {
		c.fs.add(nil, "", "no Namespace %q in the overlay (with the label pod-security.kubernetes.io/enforce: restricted)", c.namespace)
	}
}
