package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkContainer runs the checks of one container; fp is its field path,
// init tells an init container (which has no probes and needs no /tmp).
func (c *checker) checkContainer(w *workload, ctr *corev1.Container, fp string, init bool) {
	o := w.obj
	role := imageRole(ctr.Image)
	c.checkImage(o, ctr, fp, role)
	c.checkCommandArgs(o, ctr, fp)
	c.checkContainerSecurity(o, ctr.SecurityContext, fp)
	c.checkResources(o, ctr, fp)
	c.checkPortNames(o, ctr, fp)
	if !init {
		c.checkProbes(o, ctr, fp, role)
	}
	c.checkMounts(w, ctr, fp, role, init)
	env := c.env(w, ctr, fp)
	c.checkListenAddr(o, ctr, fp, role, env)
	c.checkServiceEnv(o, fp, role, env)
}

// ---------------------------------------------------------------- image, command

// checkImage: the image is pinned and never `latest`; NATS runs the version
// of compose.yaml, the project's images carry VERSION; pinned images need no
// pull at every start.
func (c *checker) checkImage(o *Object, ctr *corev1.Container, fp, role string) {
	_, tag, digest := splitImage(ctr.Image)
	switch {
	case tag == "" && digest == "":
		c.fs.add(o, fp+".image", "%q has no tag or digest", ctr.Image)
	case tag == "latest":
		c.fs.add(o, fp+".image", "%q: `latest` is not a version", ctr.Image)
	case role == roleNATS && !c.isComposeNATS(ctr.Image) && digest == "":
		c.fs.add(o, fp+".image", "%q, but compose.yaml runs %s (the server version the Go code embeds)", ctr.Image, c.repo.NATSImage)
	case uidOf[role] != 0 && digest == "" && tag != c.repo.Version:
		c.fs.add(o, fp+".image", "%q: the project's images are tagged with VERSION (%s)", ctr.Image, c.repo.Version)
	}
	if ctr.ImagePullPolicy == corev1.PullAlways {
		c.fs.add(o, fp+".imagePullPolicy", "Always pulls the worker's 530 MB image at every start; use IfNotPresent with pinned tags")
	}
}

// isComposeNATS: image is compose.yaml's NATS image, from any registry.
func (c *checker) isComposeNATS(image string) bool {
	return image == c.repo.NATSImage || strings.HasSuffix(image, "/"+c.repo.NATSImage)
}

var reUnescapedExpansion = regexp.MustCompile(`(^|[^$])\$\(`)

// checkCommandArgs: no `$(` that Kubernetes would expand in command or args.
func (c *checker) checkCommandArgs(o *Object, ctr *corev1.Container, fp string) {
	for i, a := range append(append([]string{}, ctr.Command...), ctr.Args...) {
		if reUnescapedExpansion.MatchString(a) {
			c.fs.add(o, fmt.Sprintf("%s.command/args[%d]", fp, i), "contains `$(`: Kubernetes expands $(VAR) references there; write $$( or avoid it")
		}
	}
}

// ---------------------------------------------------------------- security context

// containerSecurityRules: the container's security context, once it is
// there. What Pod Security `restricted` requires (no privilege escalation,
// capabilities dropped, non-root, RuntimeDefault seccomp) the API server's
// admission checks: make test-k8s applies every overlay under it.
var containerSecurityRules = []rule[*corev1.SecurityContext]{
	{".readOnlyRootFilesystem",
		func(s *corev1.SecurityContext) bool { return !isTrue(s.ReadOnlyRootFilesystem) },
		"must be true"},
}

// checkContainerSecurity: a read-only root file system and no capability
// added (Pod Security `restricted` would allow NET_BIND_SERVICE).
func (c *checker) checkContainerSecurity(o *Object, sc *corev1.SecurityContext, fp string) {
	fp += ".securityContext"
	if sc == nil {
		c.fs.add(o, fp, "missing (readOnlyRootFilesystem)")
		return
	}
	applyRules(c.fs, o, fp, sc, containerSecurityRules)
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		c.fs.add(o, fp+".capabilities.add", "must be empty, got %v", sc.Capabilities.Add)
	}
}

// ---------------------------------------------------------------- resources, ports, probes

// checkResources: CPU and memory have a request and a limit (a request above
// its limit the API server refuses).
func (c *checker) checkResources(o *Object, ctr *corev1.Container, fp string) {
	for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		_, hasReq := ctr.Resources.Requests[kind]
		_, hasLim := ctr.Resources.Limits[kind]
		if !hasReq {
			c.fs.add(o, fp+".resources.requests."+string(kind), "missing")
		}
		if !hasLim {
			c.fs.add(o, fp+".resources.limits."+string(kind), "missing")
		}
	}
}

// checkPortNames: named ports have valid names (probes and Services refer
// to them).
func (c *checker) checkPortNames(o *Object, ctr *corev1.Container, fp string) {
	for _, p := range ctr.Ports {
		if p.Name == "" {
			continue
		}
		if errs := validation.IsValidPortName(p.Name); len(errs) > 0 {
			c.fs.add(o, fp+".ports["+p.Name+"].name", "%s", strings.Join(errs, "; "))
		}
	}
}

// checkProbes: a liveness and a readiness probe; for the project's images,
// HTTP GETs of the service's health paths (wantProbes). A startup probe's
// port is a port of the container.
func (c *checker) checkProbes(o *Object, ctr *corev1.Container, fp, role string) {
	want := wantProbes[role]
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"livenessProbe", ctr.LivenessProbe, want.liveness}, {"readinessProbe", ctr.ReadinessProbe, want.readiness}} {
		if pr.probe == nil {
			c.fs.add(o, fp+"."+pr.name, "missing")
			continue
		}
		c.checkHTTPProbe(o, ctr, fp+"."+pr.name, pr.probe.HTTPGet, role, pr.path)
	}
	if ctr.StartupProbe != nil && ctr.StartupProbe.HTTPGet != nil {
		if _, ok := containerPort(ctr, ctr.StartupProbe.HTTPGet.Port); !ok {
			c.fs.add(o, fp+".startupProbe.httpGet.port", "%s is not a port of the container", ctr.StartupProbe.HTTPGet.Port.String())
		}
	}
}

// checkHTTPProbe: the probe at fp is an HTTP GET of wantPath on a port of the
// container (for the images of wantProbes: on the service's port).
func (c *checker) checkHTTPProbe(o *Object, ctr *corev1.Container, fp string, g *corev1.HTTPGetAction, role, wantPath string) {
	want, known := wantProbes[role]
	if g == nil {
		if known {
			c.fs.add(o, fp+".httpGet", "missing: the %s image is probed over HTTP", role)
		}
		return
	}
	port, ok := containerPort(ctr, g.Port)
	if !ok {
		c.fs.add(o, fp+".httpGet.port", "%s is not a port of the container", g.Port.String())
	}
	if !known {
		return
	}
	if g.Path != wantPath {
		c.fs.add(o, fp+".httpGet.path", "%q, want %q", g.Path, wantPath)
	}
	if want.port != "" && ok && strconv.Itoa(int(port)) != want.port {
		c.fs.add(o, fp+".httpGet.port", "%d, want %s", port, want.port)
	}
}

// containerPort resolves a probe's or Service's target port on a container.
func containerPort(ctr *corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range ctr.Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal && p.StrVal != "" {
			return cp.ContainerPort, true
		}
		if p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// podPort resolves a target port on any container of a pod template.
func podPort(t *corev1.PodTemplateSpec, p intstr.IntOrString) (int32, bool) {
	for i := range t.Spec.Containers {
		if n, ok := containerPort(&t.Spec.Containers[i], p); ok {
			return n, true
		}
	}
	return 0, false
}

// ---------------------------------------------------------------- mounts

// podVolumes indexes the pod's volumes, and the StatefulSet's
// volumeClaimTemplates, by name.
func podVolumes(w *workload) map[string]*corev1.Volume {
	vols := map[string]*corev1.Volume{}
	for i := range w.tmpl.Spec.Volumes {
		vols[w.tmpl.Spec.Volumes[i].Name] = &w.tmpl.Spec.Volumes[i]
	}
	for _, cl := range w.claims {
		vols[cl.Name] = &corev1.Volume{Name: cl.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cl.Name}}}
	}
	return vols
}

// checkMounts: every mount has its volume; Secret and ConfigMap mounts are
// read-only and readable by the non-root user; an image that writes to /tmp
// has a writable volume there (the root file system is read-only).
func (c *checker) checkMounts(w *workload, ctr *corev1.Container, fp, role string, init bool) {
	o := w.obj
	vols := podVolumes(w)
	tmpOK := false
	for _, m := range ctr.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			c.fs.add(o, fp+".volumeMounts["+m.Name+"]", "no volume %q", m.Name)
			continue
		}
		if c.checkTmpMount(o, fp, m, v) {
			tmpOK = true
		}
		if (v.Secret != nil || v.ConfigMap != nil) && !m.ReadOnly {
			c.fs.add(o, fp+".volumeMounts["+m.Name+"].readOnly", "must be true for a Secret or ConfigMap")
		}
		c.checkReadable(w, v, fp+".volumeMounts["+m.Name+"]")
	}
	if !init && needsTmp[role] && !tmpOK {
		c.fs.add(o, fp+".volumeMounts", "no writable emptyDir at /tmp: the %s image writes there and the root file system is read-only", role)
	}
}

// checkTmpMount tells whether m mounts a writable emptyDir or
// PersistentVolume at /tmp; such an emptyDir needs a size limit.
func (c *checker) checkTmpMount(o *Object, fp string, m corev1.VolumeMount, v *corev1.Volume) bool {
	if m.MountPath != "/tmp" || m.ReadOnly || (v.EmptyDir == nil && v.PersistentVolumeClaim == nil) {
		return false
	}
	if v.EmptyDir != nil && v.EmptyDir.SizeLimit == nil {
		c.fs.add(o, fp+".volumes["+v.Name+"].emptyDir.sizeLimit", "missing: a full /tmp must not fill the node's disk")
	}
	return true
}

// checkReadable: Secret and ConfigMap files are owned by root; one that is
// not world-readable is readable by the non-root user only through the pod's
// fsGroup (the kubelet gives the files that group, and the process has it).
func (c *checker) checkReadable(w *workload, v *corev1.Volume, fp string) {
	var def *int32
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		def, items = v.Secret.DefaultMode, v.Secret.Items
	case v.ConfigMap != nil:
		def, items = v.ConfigMap.DefaultMode, v.ConfigMap.Items
	default:
		return
	}
	modes := []int32{0o644}
	if def != nil {
		modes[0] = *def
	}
	for _, it := range items {
		if it.Mode != nil {
			modes = append(modes, *it.Mode)
		}
	}
	psc := w.tmpl.Spec.SecurityContext
	for _, m := range modes {
		if m&0o004 != 0 {
			continue
		}
		if psc == nil || psc.FSGroup == nil || m&0o040 == 0 {
			c.fs.add(w.obj, fp, "volume %s has mode %#o: without fsGroup and group read the non-root user cannot read it", v.Name, m)
			return
		}
	}
}

// ---------------------------------------------------------------- environment

// listenAddr names the setting each service's listen address is read from.
var listenAddr = map[string]string{roleGateway: "GATEWAY_ADDR", roleWorker: "WORKER_HEALTH_ADDR"}

// checkListenAddr: the service listens on a port of the container.
func (c *checker) checkListenAddr(o *Object, ctr *corev1.Container, fp, role string, env map[string]envVal) {
	key, ok := listenAddr[role]
	if !ok {
		return
	}
	v, ok := env[key]
	if !ok {
		return
	}
	_, port, err := net.SplitHostPort(v.value)
	if err != nil {
		c.fs.add(o, fp+".env["+key+"]", "%q: %v", v.value, err)
		return
	}
	if _, ok := containerPort(ctr, intstr.Parse(port)); !ok {
		c.fs.add(o, fp+".env["+key+"]", "listens on %s, which is not a port of the container", port)
	}
}

// checkServiceEnv: the worker reads the models its image carries; the
// gateway and the workers get their NATS credentials as files.
func (c *checker) checkServiceEnv(o *Object, fp, role string, env map[string]envVal) {
	if role == roleWorker {
		if v := env["WORKER_MODELS_DIR"]; v.value != "/models" {
			c.fs.add(o, fp+".env[WORKER_MODELS_DIR]", "%q: the worker image has its models in /models", v.value)
		}
	}
	if role != roleGateway && role != roleWorker {
		return
	}
	for _, k := range []string{"NATS_PASSWORD", "NATS_TOKEN"} {
		if v, ok := env[k]; ok && v.from != "file" {
			c.fs.add(o, fp+".env["+k+"]", "pass secrets as files (%s_FILE), not in the environment", k)
		}
	}
}
