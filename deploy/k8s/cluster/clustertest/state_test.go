package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// expect is the state an overlay must reach.
type expect struct {
	overlay, ns       string
	gateway, frontend int32
	workers           int32 // the autoscaler's minimum, with no backlog
	maxWorkers        int32
	natsPerNode       bool // the NATS servers on three different nodes
	keda              bool // a ScaledObject (else the CPU HPA)
	// secrets: Secret name -> key -> file holding its value (from the
	// repository's root)
	secrets map[string]map[string]string
}

var bg = context.Background()

// dumps are what a failed wait in namespace ns prints.
func dumps(ns string, objs ...string) [][]string {
	d := [][]string{
		{"-n", ns, "get", "deploy,rs,sts,pods,pvc,pdb,hpa,scaledobjects,endpointslices", "-o", "wide"},
		{"-n", ns, "get", "pods", "-o", "custom-columns=POD:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase," +
			`READY:.status.conditions[?(@.type=="Ready")].status,SINCE:.status.conditions[?(@.type=="Ready")].lastTransitionTime,` +
			"DELETED:.metadata.deletionTimestamp"},
		{"get", "nodes,leases.coordination.k8s.io", "-A", "-o", "wide"},
		{"-n", ns, "get", "events", "--sort-by=.lastTimestamp"},
	}
	for _, o := range objs {
		d = append(d, []string{"-n", ns, "get", o, "-o", "yaml"})
	}
	return d
}

// converge waits for every part of an applied overlay's expected state.
func (c *cluster) converge(e expect) {
	for name, want := range map[string]int32{"gateway": e.gateway, "frontend": e.frontend, "worker": e.workers} {
		c.deploymentAvailable(e.ns, name, want)
	}
	c.natsReady(e)
	c.pdbsInForce(e)
	c.servicesSelectPods(e)
	c.networkPolicyAccepted(e)
	c.secretsMounted(e)
	c.monitoringApplied(e)
	if e.keda {
		c.kedaScaling(e)
	}
}

func (c *cluster) deploymentAvailable(ns, name string, want int32) {
	c.t.Helper()
	c.eventually(convergeTimeout, fmt.Sprintf("%s: Deployment %s with %d replicas, all updated and available", ns, name, want),
		func() (bool, string) {
			d, err := c.cs.AppsV1().Deployments(ns).Get(bg, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			s := d.Status
			ok := d.Spec.Replicas != nil && *d.Spec.Replicas == want && s.ObservedGeneration >= d.Generation &&
				s.Replicas == want && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.ReadyReplicas == want
			return ok, fmt.Sprintf("spec.replicas %d, status %+v", deref(d.Spec.Replicas), s)
		}, dumps(ns, "deployment/"+name)...)
}

func deref(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

// natsReady: three servers ready, each on the node of its own bound volume,
// spread one per node where the overlay asks for it.
func (c *cluster) natsReady(e expect) {
	c.t.Helper()
	c.eventually(convergeTimeout, e.ns+": StatefulSet nats with 3 ready servers on bound volumes", func() (bool, string) {
		s, err := c.cs.AppsV1().StatefulSets(e.ns).Get(bg, "nats", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		st := s.Status
		if st.ObservedGeneration < s.Generation || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 ||
			st.UpdatedReplicas != 3 || st.CurrentRevision != st.UpdateRevision {
			return false, fmt.Sprintf("status %+v", st)
		}
		return c.natsPlacement(e)
	}, dumps(e.ns, "statefulset/nats")...)
}

// natsPlacement checks each server's node against its volume and the
// others'.
func (c *cluster) natsPlacement(e expect) (bool, string) {
	nodes := map[string]bool{}
	for i := 0; i < 3; i++ {
		pod, err := c.cs.CoreV1().Pods(e.ns).Get(bg, fmt.Sprintf("nats-%d", i), metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if !podReady(pod) {
			return false, pod.Name + " not ready"
		}
		pvc, err := c.cs.CoreV1().PersistentVolumeClaims(e.ns).Get(bg, fmt.Sprintf("data-nats-%d", i), metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if pvc.Status.Phase != corev1.ClaimBound {
			return false, fmt.Sprintf("%s %s", pvc.Name, pvc.Status.Phase)
		}
		pv, err := c.cs.CoreV1().PersistentVolumes().Get(bg, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if host := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0]; host != pod.Spec.NodeName {
			return false, fmt.Sprintf("%s on %s, its volume %s on %s", pod.Name, pod.Spec.NodeName, pv.Name, host)
		}
		nodes[pod.Spec.NodeName] = true
	}
	if e.natsPerNode && len(nodes) != 3 {
		return false, fmt.Sprintf("the servers share nodes: %v", nodes)
	}
	return true, ""
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pdbsInForce: each budget sees its workload's pods, all healthy, and
// allows one disruption.
func (c *cluster) pdbsInForce(e expect) {
	c.t.Helper()
	for name, pods := range map[string]int32{"gateway": e.gateway, "frontend": e.frontend, "nats": 3} {
		c.eventually(convergeTimeout, fmt.Sprintf("%s: PodDisruptionBudget %s covering %d healthy pods, 1 disruption allowed", e.ns, name, pods),
			func() (bool, string) {
				p, err := c.cs.PolicyV1().PodDisruptionBudgets(e.ns).Get(bg, name, metav1.GetOptions{})
				if err != nil {
					return false, err.Error()
				}
				s := p.Status
				ok := s.ObservedGeneration >= p.Generation && s.ExpectedPods == pods && s.CurrentHealthy == pods &&
					s.DesiredHealthy == pods-1 && s.DisruptionsAllowed == 1
				return ok, fmt.Sprintf("status %+v", s)
			}, dumps(e.ns, "pdb/"+name)...)
	}
}

// servicesSelectPods: each Service's endpoints are its workload's pods on
// the named ports (nats-headless lists them ready or not).
func (c *cluster) servicesSelectPods(e expect) {
	c.t.Helper()
	want := map[string]struct {
		n     int32
		ports string
	}{
		"gateway": {e.gateway, "http:8000"}, "frontend": {e.frontend, "http:8080"},
		"nats": {3, "client:4222"}, "nats-headless": {3, "client:4222 cluster:6222 monitor:8222"},
	}
	for svc, w := range want {
		c.eventually(convergeTimeout, fmt.Sprintf("%s: Service %s with %d endpoints on %s", e.ns, svc, w.n, w.ports), func() (bool, string) {
			got, ports, err := c.endpoints(e.ns, svc)
			if err != nil {
				return false, err.Error()
			}
			return got == w.n && ports == w.ports, fmt.Sprintf("%d endpoints, ports %q", got, ports)
		}, dumps(e.ns, "service/"+svc)...)
	}
}

// endpoints counts the ready endpoints of a Service's EndpointSlices and
// lists their ports (name:port, sorted by name).
func (c *cluster) endpoints(ns, svc string) (int32, string, error) {
	list, err := c.cs.DiscoveryV1().EndpointSlices(ns).List(bg, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
	if err != nil {
		return 0, "", err
	}
	var n int32
	ports := map[string]bool{}
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				n++
			}
		}
		for _, p := range s.Ports {
			ports[fmt.Sprintf("%s:%d", *p.Name, *p.Port)] = true
		}
	}
	return n, strings.Join(sortedKeys(ports), " "), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// networkPolicyAccepted: the API server stored the NATS policy as written
// (three ingress rules on the named ports) and the namespace it admits to
// the monitoring port exists with the label it selects on.
func (c *cluster) networkPolicyAccepted(e expect) {
	c.t.Helper()
	np, err := c.cs.NetworkingV1().NetworkPolicies(e.ns).Get(bg, "nats", metav1.GetOptions{})
	if err != nil {
		c.t.Fatalf("%s: NetworkPolicy nats: %v", e.ns, err)
	}
	var ports []string
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			ports = append(ports, p.Port.String())
		}
	}
	if got := strings.Join(ports, " "); got != "client cluster monitor" {
		c.t.Errorf("%s: NetworkPolicy nats admits ports %q, want client cluster monitor", e.ns, got)
	}
	ns, err := c.cs.CoreV1().Namespaces().Get(bg, kedaNamespace, metav1.GetOptions{})
	if err != nil || ns.Labels["kubernetes.io/metadata.name"] != kedaNamespace {
		c.t.Errorf("namespace %s (admitted to NATS monitoring): %v %v", kedaNamespace, err, ns.Labels)
	}
}

// secretFiles are the files each workload reads from its Secrets: the
// *_FILE settings and the NATS entry point's password.
var secretFiles = map[string][]string{
	"gateway": {"NATS_PASSWORD_FILE", "GATEWAY_API_KEYS_FILE"},
	"worker":  {"NATS_PASSWORD_FILE"},
	"nats":    {"/etc/nats-auth/password", "/etc/nats-route-auth/password"},
}

// secretsMounted: every pod of a workload mounts Secrets that exist, each
// file it reads is a key of one of them, with the overlay's value, and the
// NATS servers and their clients mount the same nats-auth Secret.
func (c *cluster) secretsMounted(e expect) {
	c.t.Helper()
	natsAuth := map[string]bool{}
	for app, files := range secretFiles {
		pods, err := c.cs.CoreV1().Pods(e.ns).List(bg, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + app})
		if err != nil || len(pods.Items) == 0 {
			c.t.Fatalf("%s: pods of %s: %v (%d)", e.ns, app, err, len(pods.Items))
		}
		for i := range pods.Items {
			for _, f := range files {
				if secret := c.secretFile(e, &pods.Items[i], f); strings.HasPrefix(secret, "nats-auth-") {
					natsAuth[secret] = true
				}
			}
		}
	}
	if len(natsAuth) != 1 {
		c.t.Errorf("%s: the NATS servers and clients mount different nats-auth Secrets: %v", e.ns, natsAuth)
	}
	c.routeSecretServersOnly(e)
}

// routeSecretServersOnly: no pod but the NATS servers mounts the route
// password.
func (c *cluster) routeSecretServersOnly(e expect) {
	pods, err := c.cs.CoreV1().Pods(e.ns).List(bg, metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, v := range p.Spec.Volumes {
			if v.Secret != nil && strings.HasPrefix(v.Secret.SecretName, "nats-route-auth-") && p.Labels["app.kubernetes.io/name"] != "nats" {
				c.t.Errorf("%s: pod %s mounts the NATS route password (%s)", e.ns, p.Name, v.Secret.SecretName)
			}
		}
	}
}

// secretFile resolves a file a pod reads (a path, or the *_FILE variable
// naming it) to the Secret and key mounted there, and checks the value.
func (c *cluster) secretFile(e expect, pod *corev1.Pod, file string) string {
	ctr := pod.Spec.Containers[0]
	path := file
	if !strings.HasPrefix(file, "/") {
		path = ""
		for _, v := range ctr.Env {
			if v.Name == file {
				path = v.Value
			}
		}
	}
	for _, m := range ctr.VolumeMounts {
		if !strings.HasPrefix(path, m.MountPath+"/") {
			continue
		}
		key := strings.TrimPrefix(path, m.MountPath+"/")
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				c.checkSecretKey(e, pod.Name, v.Secret.SecretName, key)
				return v.Secret.SecretName
			}
		}
	}
	c.t.Errorf("%s: pod %s reads %s (%s), which no Secret volume provides", e.ns, pod.Name, file, path)
	return ""
}

func (c *cluster) checkSecretKey(e expect, pod, name, key string) {
	s, err := c.cs.CoreV1().Secrets(e.ns).Get(bg, name, metav1.GetOptions{})
	if err != nil {
		c.t.Errorf("%s: pod %s mounts Secret %s: %v", e.ns, pod, name, err)
		return
	}
	got, ok := s.Data[key]
	if !ok {
		c.t.Errorf("%s: pod %s reads key %s of Secret %s, which has none", e.ns, pod, key, name)
		return
	}
	base := name[:strings.LastIndex(name, "-")] // the generator's hash suffix
	file, ok := e.secrets[base][key]
	if !ok {
		c.t.Errorf("%s: Secret %s key %s is not one the overlay makes", e.ns, name, key)
		return
	}
	want, err := os.ReadFile(filepath.Join(repoRoot(), file))
	if err != nil {
		c.t.Fatal(err)
	}
	if string(got) != string(want) {
		c.t.Errorf("%s: Secret %s key %s holds %q, want the overlay's %s", e.ns, name, key, got, file)
	}
}
