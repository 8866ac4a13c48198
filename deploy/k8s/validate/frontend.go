package main

import (
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// checkFrontend: the frontend mounts the Kubernetes variant of its nginx
// configuration (nginx.go), and nginx proxies to a Service of the gateway.
func (c *checker) checkFrontend() {
	want, err := k8sNginx(c.repo.Nginx)
	if err != nil {
		c.fs.add(nil, "", "%v", err)
		return
	}
	for _, w := range c.byRole(roleFrontend) {
		ctr := w.mainContainer()
		fp := "spec.template.spec.containers[" + ctr.Name + "]"
		f, err := c.mountedFile(w, ctr, "/etc/nginx/conf.d/default.conf")
		if err != nil {
			c.fs.add(w.obj, fp+".volumeMounts", "the nginx configuration: %v (the image's own resolves the gateway through Docker's DNS, which a pod lacks)", err)
			continue
		}
		if string(f.data) != string(want) {
			c.fs.add(w.obj, fp+".volumeMounts[/etc/nginx/conf.d]", "%s %s key %s differs from frontend/nginx/default.conf made Kubernetes-ready (nginx.go): run K8S_UPDATE=1 make test-k8s", f.kind, f.name, f.key)
		}
		for _, up := range nginxUpstreams(string(f.data)) {
			c.checkUpstream(w, fp, up)
		}
	}
}

// checkUpstream: an nginx upstream HOST:PORT is a port of a Service that
// selects the gateway pods.
func (c *checker) checkUpstream(w *workload, fp, up string) {
	host, port, err := net.SplitHostPort(up)
	if err != nil {
		c.fs.add(w.obj, fp, "nginx proxies to %q: %v", up, err)
		return
	}
	svc := c.service(w.obj.Namespace, host)
	if svc == nil {
		c.fs.add(w.obj, fp, "nginx proxies /v1 to %s, but there is no Service %q", up, host)
		return
	}
	if !hasPort(svc, port) || !c.selectsRole(w.obj.Namespace, svc, roleGateway) {
		c.fs.add(w.obj, fp, "nginx proxies /v1 to %s, but Service %q has no port %s selecting the gateway pods", up, host, port)
	}
}

// hasPort: the Service has the port (a decimal number).
func hasPort(svc *corev1.Service, port string) bool {
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return true
		}
	}
	return false
}

// selectsRole: the Service in ns selects pods of a workload of role.
func (c *checker) selectsRole(ns string, svc *corev1.Service, role string) bool {
	for _, w := range c.selected(ns, labels.SelectorFromSet(svc.Spec.Selector)) {
		if w.role == role {
			return true
		}
	}
	return false
}
