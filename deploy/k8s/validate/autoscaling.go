package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Consumer names: <priority>_<model>_<version> (internal/wire.ConsumerName).
var reConsumer = regexp.MustCompile(`^(backlog|sync|batch)_(.+)_([^_]+)$`)

// The nats-jetstream scaler's metadata keys (KEDA pkg/scalers).
var natsScalerKeys = map[string]bool{
	"natsServerMonitoringEndpoint": true, "account": true, "accountID": true, "stream": true,
	"consumer": true, "lagThreshold": true, "activationLagThreshold": true, "useHttps": true,
}

// scaleTargets records, for each workload, the autoscalers that target it
// (by object ID).
type scaleTargets map[*workload][]string

// checkAutoscalers: each HPA and ScaledObject targets a workload of the
// overlay and is sound; an overlay uses one kind of autoscaler, each
// workload has at most one, and the workers have one.
func (c *checker) checkAutoscalers() {
	targets := scaleTargets{}
	for _, o := range c.objs {
		switch v := o.Typed.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			c.checkHPA(o, v, targets)
		case *ScaledObject:
			c.checkScaledObject(o, v, targets)
		}
	}
	c.checkAutoscalerKinds()
	c.checkReplicaOwners(targets)
	for _, w := range c.byRole(roleWorker) {
		if len(targets[w]) == 0 {
			c.fs.add(w.obj, "", "no autoscaler (KEDA ScaledObject or HPA) targets the workers")
		}
	}
}

// scaleTarget resolves the scaleTargetRef at fp of the autoscaler o (an
// apps/v1 Deployment where apiVersion and kind are unset) in o's namespace,
// and records in targets that o scales it. Nil, and a finding, if the
// overlay lacks it.
func (c *checker) scaleTarget(targets scaleTargets, o *Object, fp, apiVersion, kind, name string) *workload {
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	if kind == "" {
		kind = "Deployment"
	}
	for _, w := range c.workloads {
		if w.obj.Kind == kind && w.obj.APIVersion == apiVersion && w.obj.Name == name && w.obj.Namespace == o.Namespace {
			targets[w] = append(targets[w], o.ID())
			return w
		}
	}
	c.fs.add(o, fp, "no %s %s %q in the overlay", apiVersion, kind, name)
	return nil
}

// checkHPA: a HorizontalPodAutoscaler's replica bounds are sound, and every
// container of its target requests the resources it scales on (utilisation
// is relative to the request).
func (c *checker) checkHPA(o *Object, h *autoscalingv2.HorizontalPodAutoscaler, targets scaleTargets) {
	ref := h.Spec.ScaleTargetRef
	w := c.scaleTarget(targets, o, "spec.scaleTargetRef", ref.APIVersion, ref.Kind, ref.Name)
	min := int32(1)
	if h.Spec.MinReplicas != nil {
		min = *h.Spec.MinReplicas
	}
	if min < 1 || h.Spec.MaxReplicas < min {
		c.fs.add(o, "spec.maxReplicas", "min %d, max %d", min, h.Spec.MaxReplicas)
	}
	if w == nil {
		return
	}
	for i, m := range h.Spec.Metrics {
		if m.Resource == nil {
			continue
		}
		for _, ctr := range w.tmpl.Spec.Containers {
			if _, ok := ctr.Resources.Requests[m.Resource.Name]; !ok {
				c.fs.add(o, fmt.Sprintf("spec.metrics[%d].resource", i), "container %s of %s has no %s request: utilisation is relative to it", ctr.Name, w.obj.ID(), m.Resource.Name)
			}
		}
	}
}

// checkAutoscalerKinds: HPAs or ScaledObjects, not both.
func (c *checker) checkAutoscalerKinds() {
	var hpas, sos []string
	for _, o := range c.objs {
		switch o.Kind {
		case "HorizontalPodAutoscaler":
			hpas = append(hpas, o.ID())
		case "ScaledObject":
			sos = append(sos, o.ID())
		}
	}
	if len(hpas) > 0 && len(sos) > 0 {
		c.fs.add(nil, "", "both HorizontalPodAutoscalers %v and KEDA ScaledObjects %v: an overlay uses one or the other (components/keda or components/hpa)", hpas, sos)
	}
}

// checkReplicaOwners: spec.replicas has one owner: at most one autoscaler,
// and then the manifest leaves it unset; a Deployment without an autoscaler
// sets it.
func (c *checker) checkReplicaOwners(targets scaleTargets) {
	for _, w := range c.workloads {
		by := targets[w]
		if len(by) > 1 {
			c.fs.add(w.obj, "", "targeted by several autoscalers %v (KEDA creates an HPA of its own): they would fight over spec.replicas", by)
		}
		if len(by) > 0 && w.replicas != nil {
			c.fs.add(w.obj, "spec.replicas", "set, but %v owns it: every apply would reset the scale", by)
		}
		if len(by) == 0 && w.replicas == nil && w.obj.Kind == "Deployment" {
			c.fs.add(w.obj, "spec.replicas", "unset and no autoscaler targets it: it would run one pod")
		}
	}
}

// ---------------------------------------------------------------- KEDA

// checkScaledObject: a ScaledObject scales the workers within sound bounds,
// on nats-jetstream triggers (checkTrigger).
func (c *checker) checkScaledObject(o *Object, so *ScaledObject, targets scaleTargets) {
	s := &so.Spec
	w := c.scaleTarget(targets, o, "spec.scaleTargetRef", s.ScaleTargetRef.APIVersion, s.ScaleTargetRef.Kind, s.ScaleTargetRef.Name)
	if w != nil && w.role != roleWorker {
		c.fs.add(o, "spec.scaleTargetRef.name", "%s runs %s, not the worker", w.obj.ID(), w.role)
	}
	c.checkReplicaCounts(o, so)
	if len(s.Triggers) == 0 {
		c.fs.add(o, "spec.triggers", "none")
	}
	served := c.servedModels(w)
	for i, t := range s.Triggers {
		fp := fmt.Sprintf("spec.triggers[%d]", i)
		if t.Type != "nats-jetstream" {
			c.fs.add(o, fp+".type", "%q: the workers are scaled on their NATS JetStream consumers (nats-jetstream)", t.Type)
			continue
		}
		c.checkTrigger(o, fp+".metadata", t.Metadata, served)
	}
}

// checkReplicaCounts: minReplicaCount (KEDA's default 0) is at least 1,
// maxReplicaCount (default 100) not below it, and the fallback between
// them.
func (c *checker) checkReplicaCounts(o *Object, so *ScaledObject) {
	s := &so.Spec
	min, max := int32(0), int32(100)
	if s.MinReplicaCount != nil {
		min = *s.MinReplicaCount
	}
	if s.MaxReplicaCount != nil {
		max = *s.MaxReplicaCount
	}
	if min < 1 {
		c.fs.add(o, "spec.minReplicaCount", "%d: at least 1, since the workers create the consumers KEDA reads (and serve synchronous predictions)", min)
	}
	if max < min {
		c.fs.add(o, "spec.maxReplicaCount", "%d is below minReplicaCount %d", max, min)
	}
	if f := s.Fallback; f != nil && (f.Replicas < min || f.Replicas > max) {
		c.fs.add(o, "spec.fallback.replicas", "%d is outside [%d, %d]", f.Replicas, min, max)
	}
}

// servedModels is the set of WORKER_MODELS entries (NAME or NAME:VERSION)
// of the workload w; nil where w is nil or serves every model.
func (c *checker) servedModels(w *workload) map[string]bool {
	if w == nil || len(w.tmpl.Spec.Containers) == 0 {
		return nil // a workload without containers is reported by its own checks
	}
	v, ok := c.env(w, w.mainContainer(), "")["WORKER_MODELS"]
	if !ok || v.value == "" {
		return nil
	}
	served := map[string]bool{}
	for _, m := range strings.Split(v.value, ",") {
		served[strings.TrimSpace(m)] = true
	}
	return served
}

// isIntAtLeast: v is a decimal integer of at least min.
func isIntAtLeast(v string, min int64) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n >= min
}

// triggerRules: the nats-jetstream trigger's metadata, key by key. bad gets
// the value and whether the key is set; the finding quotes the value before
// msg, unless plain.
var triggerRules = []struct {
	key   string
	bad   func(v string, set bool) bool
	msg   string
	plain bool
}{
	{"stream", func(v string, _ bool) bool { return v != "JOBIN" },
		"the batch backlog is the input stream JOBIN's (INFER holds only the scheduler's few tickets)", false},
	{"account", func(v string, _ bool) bool { return v != "$G" },
		"with user/password authorization every client is in the global account $G", false},
	{"useHttps", func(v string, _ bool) bool { return v == "true" },
		"the NATS monitoring port serves plain HTTP", true},
	{"lagThreshold", func(v string, _ bool) bool { return !isIntAtLeast(v, 1) },
		"a positive integer", false},
	{"activationLagThreshold", func(v string, set bool) bool { return set && !isIntAtLeast(v, 0) },
		"a non-negative integer", false},
}

// checkTrigger: the metadata (at fp) of a nats-jetstream trigger has only
// the scaler's keys, sound values (triggerRules), a consumer of a served
// model and the monitoring endpoint of the NATS servers.
func (c *checker) checkTrigger(o *Object, fp string, md map[string]string, served map[string]bool) {
	for k := range md {
		if !natsScalerKeys[k] {
			c.fs.add(o, fp+"."+k, "not a parameter of KEDA's nats-jetstream scaler")
		}
	}
	for _, r := range triggerRules {
		v, set := md[r.key]
		if !r.bad(v, set) {
			continue
		}
		if r.plain {
			c.fs.add(o, fp+"."+r.key, "%s", r.msg)
		} else {
			c.fs.add(o, fp+"."+r.key, "%q: %s", v, r.msg)
		}
	}
	c.checkConsumer(o, fp+".consumer", md["consumer"], served)
	c.checkMonitoringEndpoint(o, fp+".natsServerMonitoringEndpoint", md["natsServerMonitoringEndpoint"])
}

// checkConsumer: the consumer exists once a worker serves the model, by the
// naming rule backlog_<model>_<version> (the backlog consumer each worker
// declares on JOBIN).
func (c *checker) checkConsumer(o *Object, fp, name string, served map[string]bool) {
	m := reConsumer.FindStringSubmatch(name)
	if m == nil {
		c.fs.add(o, fp, "%q is not backlog_<model>_<version>", name)
		return
	}
	if !c.hasModel(m[2], m[3]) {
		var l []string
		for _, mod := range c.repo.Models {
			l = append(l, "backlog_"+mod.Name+"_"+mod.Version)
		}
		c.fs.add(o, fp, "%q names no model in model/models (the worker image's models): consumers are %s", name, strings.Join(l, ", "))
		return
	}
	if served != nil && !served[m[2]] && !served[m[2]+":"+m[3]] {
		c.fs.add(o, fp, "%q: the workers do not serve %s:%s (WORKER_MODELS)", name, m[2], m[3])
	}
	if m[1] != "backlog" {
		c.fs.add(o, fp, "%q: scale on the batch backlog, backlog_%s_%s (the batch queue holds only a few tickets; synchronous predictions are short and served first)", name, m[2], m[3])
	}
}

// hasModel: the worker image carries the model name at version.
func (c *checker) hasModel(name, version string) bool {
	for _, mod := range c.repo.Models {
		if mod.Name == name && mod.Version == version {
			return true
		}
	}
	return false
}

// endpoint is a natsServerMonitoringEndpoint: as written, and the Service
// name and port it names.
type endpoint struct{ raw, service, port string }

// checkMonitoringEndpoint: KEDA resolves the name from its own namespace, so
// it must be the full name of a Service here that reaches NATS's monitoring
// port.
func (c *checker) checkMonitoringEndpoint(o *Object, fp, raw string) {
	ep, ok := c.parseEndpoint(o, fp, raw)
	if !ok {
		return
	}
	svc := c.service(o.Namespace, ep.service)
	if svc == nil {
		c.fs.add(o, fp, "%q: no Service %q in the overlay", raw, ep.service)
		return
	}
	var nats *workload
	for _, w := range c.selected(o.Namespace, labels.SelectorFromSet(svc.Spec.Selector)) {
		if w.role == roleNATS {
			nats = w
		}
	}
	if nats == nil {
		c.fs.add(o, fp, "%q: Service %q does not select the NATS pods", raw, ep.service)
		return
	}
	c.checkMonitoringPort(o, fp, ep, svc.Spec.Ports, nats)
}

// parseEndpoint splits raw, which must be SERVICE.NAMESPACE[.svc[.cluster.local]]:PORT
// with o's namespace; false, and a finding at fp, if it is not.
func (c *checker) parseEndpoint(o *Object, fp, raw string) (endpoint, bool) {
	host, port, err := net.SplitHostPort(raw)
	if err != nil {
		c.fs.add(o, fp, "%q: want SERVICE.NAMESPACE.svc.cluster.local:PORT (%v)", raw, err)
		return endpoint{}, false
	}
	parts := strings.Split(host, ".")
	if len(parts) < 2 || parts[1] != o.Namespace || (len(parts) > 2 && !isServiceDomain(strings.Join(parts[2:], "."))) {
		c.fs.add(o, fp, "%q: want %s.%s.svc.cluster.local:%s (KEDA resolves it from its own namespace)", raw, parts[0], o.Namespace, port)
		return endpoint{}, false
	}
	return endpoint{raw, parts[0], port}, true
}

// isServiceDomain: the domain that follows SERVICE.NAMESPACE of a Service.
func isServiceDomain(d string) bool { return d == "svc" || d == "svc.cluster.local" }

// checkMonitoringPort: the endpoint's port is a port of the Service (ports)
// that leads to the monitoring port (http_port) of the NATS pods.
func (c *checker) checkMonitoringPort(o *Object, fp string, ep endpoint, ports []corev1.ServicePort, nats *workload) {
	pn, _ := strconv.Atoi(ep.port)
	for _, p := range ports {
		if int(p.Port) != pn {
			continue
		}
		target, ok := podPort(nats.tmpl, p.TargetPort)
		if c.nats == nil || c.nats.opts == nil {
			return // the NATS configuration has findings of its own
		}
		if !ok || int(target) != c.nats.opts.HTTPPort {
			c.fs.add(o, fp, "%q: port %d of Service %q does not lead to NATS's monitoring port", ep.raw, pn, ep.service)
		}
		return
	}
	c.fs.add(o, fp, "%q: Service %q has no port %s", ep.raw, ep.service, ep.port)
}
