package main

import (
	"path"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The checks are grouped by concept, a file each:
//
//	namespace.go    one namespace, under the restricted Pod Security Standard
//	workload.go     pod-level settings of each Deployment and StatefulSet
//	container.go    each container: image, security context, resources,
//	                probes, mounts, environment
//	env.go          resolving a container's environment and mounted files
//	services.go     Services and NetworkPolicies reach real pods and ports
//	pdb.go          PodDisruptionBudgets
//	nats.go         the NATS StatefulSet and its configuration
//	natsclients.go  the gateway and the workers as NATS clients
//	autoscaling.go  HPAs and KEDA ScaledObjects
//	frontend.go     the frontend's nginx configuration
//	secrets.go      Secrets and the gateway's API keys
//
// Every check reports through c.fs.add: the object, the field path, what is
// wrong.

// Options tunes Check.
type Options struct {
	// CommittedSecrets: the overlay's Secrets come from files in this
	// repository, so each value must be marked as public (dev-only) or as a
	// placeholder (REPLACE-ME): a real secret must never be committed.
	CommittedSecrets bool
}

// Roles: the project's images, known by the last element of their name.
const (
	roleGateway  = "gateway"
	roleWorker   = "worker"
	roleFrontend = "frontend"
	roleNATS     = "nats"
)

// uidOf is the user each image is built to run as.
var uidOf = map[string]int64{roleGateway: 65532, roleWorker: 65532, roleFrontend: 101}

// defaultShutdown is each service's SHUTDOWN_TIMEOUT default (cmd/*/main.go).
var defaultShutdown = map[string]time.Duration{roleGateway: 20 * time.Second, roleWorker: 25 * time.Second}

// needsTmp: images that write to /tmp (nginx pid and temp files, TensorFlow,
// NATS's pid file).
var needsTmp = map[string]bool{roleWorker: true, roleFrontend: true, roleNATS: true}

// probeSpec is what a service's probes ask for.
type probeSpec struct {
	liveness, readiness string // HTTP paths
	port                string // the container port; "" for any
}

// wantProbes: liveness and readiness path, and the port, of each service.
var wantProbes = map[string]probeSpec{
	roleGateway:  {"/health", "/ready", "8000"},
	roleWorker:   {"/health", "/ready", "8001"},
	roleFrontend: {"/healthz", "/healthz", "8080"},
	roleNATS:     {"/healthz?js-enabled-only=true", "/healthz?js-enabled-only=true", ""},
}

// workload is a Deployment or a StatefulSet, with what the checks read.
type workload struct {
	obj      *Object
	replicas *int32
	selector *metav1.LabelSelector
	tmpl     *corev1.PodTemplateSpec
	claims   []corev1.PersistentVolumeClaim
	role     string
	sts      *appsv1.StatefulSet
	dep      *appsv1.Deployment
}

func (w *workload) labels() labels.Set { return labels.Set(w.tmpl.Labels) }

// replicaCount is spec.replicas, 1 where unset (the API server's default).
func (w *workload) replicaCount() int32 {
	if w.replicas != nil {
		return *w.replicas
	}
	return 1
}

// gracePeriod is terminationGracePeriodSeconds, 30 where unset.
func (w *workload) gracePeriod() int64 {
	if g := w.tmpl.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return 30
}

// mainContainer is the pod's first container: the one that runs the image
// the workload's role comes from.
func (w *workload) mainContainer() *corev1.Container { return &w.tmpl.Spec.Containers[0] }

type checker struct {
	fs        *Findings
	repo      *Repo
	opt       Options
	objs      []*Object
	workloads []*workload
	cms       map[string]*corev1.ConfigMap
	secrets   map[string]*corev1.Secret
	services  []*Object
	namespace string
	nats      *natsInfo
}

func nsKey(ns, name string) string { return ns + "/" + name }

// isTrue: a *bool set to true.
func isTrue(b *bool) bool { return b != nil && *b }

// isFalse: a *bool set to false.
func isFalse(b *bool) bool { return b != nil && !*b }

// CheckDir renders the kustomization in dir and checks it; name labels the
// findings.
func CheckDir(dir, name string, repo *Repo, opt Options) *Findings {
	fs := &Findings{Overlay: name}
	objs, err := Objects(dir)
	if err != nil {
		fs.add(nil, "", "%v", err)
		return fs
	}
	return Check(name, objs, repo, opt)
}

// Check runs every check on the rendered objects of one overlay.
func Check(name string, objs []*Object, repo *Repo, opt Options) *Findings {
	c := &checker{fs: &Findings{Overlay: name}, repo: repo, opt: opt, objs: objs,
		cms: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, o := range objs {
		decode(c.fs, o)
	}
	c.index()
	c.checkNamespace()
	for _, w := range c.workloads {
		c.checkWorkload(w)
	}
	c.checkServices()
	c.checkPDBs()
	c.checkNetworkPolicies()
	c.checkNATS() // before the checks that read c.nats
	c.checkNATSClients()
	c.checkAutoscalers()
	c.checkFrontend()
	c.checkSecrets()
	return c.fs
}

// index sorts the decoded objects into workloads, ConfigMaps, Secrets and
// Services, and gives each workload its role.
func (c *checker) index() {
	for _, o := range c.objs {
		switch v := o.Typed.(type) {
		case *appsv1.Deployment:
			c.workloads = append(c.workloads, &workload{obj: o, replicas: v.Spec.Replicas, selector: v.Spec.Selector, tmpl: &v.Spec.Template, dep: v})
		case *appsv1.StatefulSet:
			c.workloads = append(c.workloads, &workload{obj: o, replicas: v.Spec.Replicas, selector: v.Spec.Selector, tmpl: &v.Spec.Template, claims: v.Spec.VolumeClaimTemplates, sts: v})
		case *corev1.ConfigMap:
			c.cms[nsKey(o.Namespace, o.Name)] = v
		case *corev1.Secret:
			c.secrets[nsKey(o.Namespace, o.Name)] = v
		case *corev1.Service:
			c.services = append(c.services, o)
		}
	}
	for _, w := range c.workloads {
		if cs := w.tmpl.Spec.Containers; len(cs) > 0 {
			w.role = imageRole(cs[0].Image)
		}
	}
}

// imageRole is the last element of an image name, without tag or digest.
func imageRole(image string) string {
	name, _, _ := splitImage(image)
	return path.Base(name)
}

// splitImage splits NAME[:TAG][@DIGEST].
func splitImage(image string) (name, tag, digest string) {
	if i := strings.Index(image, "@"); i >= 0 {
		image, digest = image[:i], image[i+1:]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image, tag = image[:i], image[i+1:]
	}
	return image, tag, digest
}

// byRole returns the workloads that run the image of role.
func (c *checker) byRole(role string) []*workload {
	var out []*workload
	for _, w := range c.workloads {
		if w.role == role {
			out = append(out, w)
		}
	}
	return out
}

// selected returns the workloads whose pods a selector in ns matches.
func (c *checker) selected(ns string, sel labels.Selector) []*workload {
	var out []*workload
	for _, w := range c.workloads {
		if w.obj.Namespace == ns && sel.Matches(w.labels()) {
			out = append(out, w)
		}
	}
	return out
}

// service returns the Service ns/name, or nil.
func (c *checker) service(ns, name string) *corev1.Service {
	for _, o := range c.services {
		if o.Namespace == ns && o.Name == name {
			return o.Typed.(*corev1.Service)
		}
	}
	return nil
}

// rule is one table-driven check of a value of type T: where bad(v), the
// field (appended to the caller's path) gets the finding msg.
type rule[T any] struct {
	field string
	bad   func(T) bool
	msg   string
}

// applyRules reports, on o at prefix+field, every rule that v breaks.
func applyRules[T any](fs *Findings, o *Object, prefix string, v T, rules []rule[T]) {
	for _, r := range rules {
		if r.bad(v) {
			fs.add(o, prefix+r.field, "%s", r.msg)
		}
	}
}
