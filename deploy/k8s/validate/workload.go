package main

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podPath is the field path of a workload's pod spec.
const podPath = "spec.template.spec"

// checkWorkload runs the checks of one Deployment or StatefulSet: its
// selector, the pod's settings and security context, its volumes, each
// container, and the grace period.
func (c *checker) checkWorkload(w *workload) {
	if w.role == "" {
		c.fs.add(w.obj, podPath+".containers", "no containers")
		return
	}
	applyRules(c.fs, w.obj, podPath, &w.tmpl.Spec, podRules)
	psc := c.checkPodSecurityContext(w)
	c.checkPodVolumes(w, psc)
	c.checkContainers(w)
	c.checkVolumesExist(w)
	c.checkGrace(w)
}

// podRules: the pod's own settings.
var podRules = []rule[*corev1.PodSpec]{
	{".automountServiceAccountToken",
		func(s *corev1.PodSpec) bool { return !isFalse(s.AutomountServiceAccountToken) },
		"must be false: no service talks to the Kubernetes API"},
	{".enableServiceLinks",
		func(s *corev1.PodSpec) bool { return !isFalse(s.EnableServiceLinks) },
		"must be false: service links put GATEWAY_*, NATS_* ... variables into the environment the settings are read from"},
}

// podSecurityRules: the pod's security context, once it is there: explicit
// ids (those the images are built for). What Pod Security `restricted`
// requires (runAsNonRoot, RuntimeDefault seccomp, no host namespaces) the API
// server's admission checks: make test-k8s applies every overlay under it.
var podSecurityRules = []rule[*corev1.PodSecurityContext]{
	{".runAsUser",
		func(s *corev1.PodSecurityContext) bool { return s.RunAsUser == nil || *s.RunAsUser == 0 },
		"must be an explicit non-root uid"},
	{".runAsGroup",
		func(s *corev1.PodSecurityContext) bool { return s.RunAsGroup == nil || *s.RunAsGroup == 0 },
		"must be an explicit non-root gid"},
}

// checkPodSecurityContext: the pod runs as the non-root user its image is
// built for, under the runtime's seccomp profile. It returns the security
// context, an empty one where there is none.
func (c *checker) checkPodSecurityContext(w *workload) *corev1.PodSecurityContext {
	fp := podPath + ".securityContext"
	psc := w.tmpl.Spec.SecurityContext
	if psc == nil {
		c.fs.add(w.obj, fp, "missing (runAsUser, runAsGroup)")
		return &corev1.PodSecurityContext{}
	}
	applyRules(c.fs, w.obj, fp, psc, podSecurityRules)
	if psc.RunAsUser != nil && *psc.RunAsUser != 0 {
		if want, ok := uidOf[w.role]; ok && *psc.RunAsUser != want {
			c.fs.add(w.obj, fp+".runAsUser", "%d, but the %s image runs as %d", *psc.RunAsUser, w.role, want)
		}
	}
	return psc
}

// checkPodVolumes: no hostPath volumes; with a PersistentVolume, an fsGroup
// that lets the non-root user write to it.
func (c *checker) checkPodVolumes(w *workload, psc *corev1.PodSecurityContext) {
	hasPVC := len(w.claims) > 0
	for _, v := range w.tmpl.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			hasPVC = true
		}
		if v.HostPath != nil {
			c.fs.add(w.obj, podPath+".volumes["+v.Name+"].hostPath", "not allowed")
		}
	}
	if hasPVC && psc.FSGroup == nil {
		c.fs.add(w.obj, podPath+".securityContext.fsGroup", "must be set: the non-root user has to write to its PersistentVolume")
	}
}

// checkContainers runs checkContainer on the init containers and the
// containers of the pod.
func (c *checker) checkContainers(w *workload) {
	spec := &w.tmpl.Spec
	for i := range spec.InitContainers {
		c.checkContainer(w, &spec.InitContainers[i], fmt.Sprintf("%s.initContainers[%s]", podPath, spec.InitContainers[i].Name), true)
	}
	for i := range spec.Containers {
		c.checkContainer(w, &spec.Containers[i], fmt.Sprintf("%s.containers[%s]", podPath, spec.Containers[i].Name), false)
	}
}

// checkVolumesExist: the Secrets and ConfigMaps that volumes mount are in
// the overlay (unless optional), with the keys their items name.
func (c *checker) checkVolumesExist(w *workload) {
	for _, v := range w.tmpl.Spec.Volumes {
		fp := podPath + ".volumes[" + v.Name + "]"
		switch {
		case v.Secret != nil:
			c.checkSecretVolume(w.obj, fp+".secret", v.Secret)
		case v.ConfigMap != nil:
			c.checkConfigMapVolume(w.obj, fp+".configMap", v.ConfigMap)
		}
	}
}

// checkSecretVolume: the Secret of a volume exists and has its items' keys.
func (c *checker) checkSecretVolume(o *Object, fp string, src *corev1.SecretVolumeSource) {
	s, ok := c.secrets[nsKey(o.Namespace, src.SecretName)]
	if !ok {
		if !isTrue(src.Optional) {
			c.fs.add(o, fp+".secretName", "no Secret %q in the overlay (the pod would not start)", src.SecretName)
		}
		return
	}
	for _, it := range src.Items {
		if _, has := s.Data[it.Key]; !has {
			c.fs.add(o, fp+".items", "Secret %q has no key %q", src.SecretName, it.Key)
		}
	}
}

// checkConfigMapVolume: the ConfigMap of a volume exists and has its items'
// keys.
func (c *checker) checkConfigMapVolume(o *Object, fp string, src *corev1.ConfigMapVolumeSource) {
	cm, ok := c.cms[nsKey(o.Namespace, src.Name)]
	if !ok {
		if !isTrue(src.Optional) {
			c.fs.add(o, fp+".name", "no ConfigMap %q in the overlay (the pod would not start)", src.Name)
		}
		return
	}
	for _, it := range src.Items {
		if _, has := cm.Data[it.Key]; !has {
			c.fs.add(o, fp+".items", "ConfigMap %q has no key %q", src.Name, it.Key)
		}
	}
}

// checkGrace: the pod gets long enough to stop gracefully.
func (c *checker) checkGrace(w *workload) {
	grace := w.gracePeriod()
	var need time.Duration
	var why string
	switch w.role {
	case roleGateway, roleWorker:
		ctr := w.mainContainer()
		d := defaultShutdown[w.role]
		if v, ok := c.env(w, ctr, "")["SHUTDOWN_TIMEOUT"]; ok {
			var err error
			if d, err = time.ParseDuration(v.value); err != nil {
				c.fs.add(w.obj, "spec.template.spec.containers["+ctr.Name+"].env[SHUTDOWN_TIMEOUT]", "%v", err)
				return
			}
		}
		need = d + preStopSleep(ctr) + 5*time.Second
		why = fmt.Sprintf("preStop sleep %s + SHUTDOWN_TIMEOUT %s + 5s", preStopSleep(ctr), d)
	default:
		return // NATS: checkNATS (lame duck)
	}
	if time.Duration(grace)*time.Second < need {
		c.fs.add(w.obj, "spec.template.spec.terminationGracePeriodSeconds", "%d s is shorter than %s = %s: the kubelet would kill a draining %s", grace, why, need, w.role)
	}
}

// preStopSleep is the container's preStop sleep, 0 if none.
func preStopSleep(ctr *corev1.Container) time.Duration {
	if l := ctr.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
		return time.Duration(l.PreStop.Sleep.Seconds) * time.Second
	}
	return 0
}
