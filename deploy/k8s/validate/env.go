package main

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ---------------------------------------------------------------- environment

type envVal struct {
	value string
	from  string // "", "configMap", "secret", "fieldRef:<path>", "file"
}

// env resolves a container's environment from env and envFrom, with the
// rendered ConfigMaps and Secrets. With a field path fp, a missing source is
// a finding there; with "", env only reads.
func (c *checker) env(w *workload, ctr *corev1.Container, fp string) map[string]envVal {
	out := map[string]envVal{}
	for _, ef := range ctr.EnvFrom {
		c.addEnvFrom(out, w.obj, ef, fp)
	}
	for _, e := range ctr.Env {
		if v, ok := c.envVar(w.obj, e, fp); ok {
			out[e.Name] = v
		}
	}
	return out
}

// addEnvFrom adds to out the keys of one envFrom source.
func (c *checker) addEnvFrom(out map[string]envVal, o *Object, ef corev1.EnvFromSource, fp string) {
	ns := o.Namespace
	switch {
	case ef.ConfigMapRef != nil:
		cm, ok := c.cms[nsKey(ns, ef.ConfigMapRef.Name)]
		if !ok {
			if fp != "" && !isTrue(ef.ConfigMapRef.Optional) {
				c.fs.add(o, fp+".envFrom.configMapRef", "no ConfigMap %q in the overlay", ef.ConfigMapRef.Name)
			}
			return
		}
		for k, v := range cm.Data {
			out[ef.Prefix+k] = envVal{v, "configMap"}
		}
	case ef.SecretRef != nil:
		s, ok := c.secrets[nsKey(ns, ef.SecretRef.Name)]
		if !ok {
			if fp != "" {
				c.fs.add(o, fp+".envFrom.secretRef", "no Secret %q in the overlay", ef.SecretRef.Name)
			}
			return
		}
		for k, v := range s.Data {
			out[ef.Prefix+k] = envVal{string(v), "secret"}
		}
	}
}

// envVar resolves one env entry; false where its ConfigMap or Secret is not
// in the overlay (the entry then leaves the variable as envFrom set it).
func (c *checker) envVar(o *Object, e corev1.EnvVar, fp string) (envVal, bool) {
	ns := o.Namespace
	switch {
	case e.ValueFrom == nil:
		return envVal{e.Value, ""}, true
	case e.ValueFrom.FieldRef != nil:
		return envVal{"", "fieldRef:" + e.ValueFrom.FieldRef.FieldPath}, true
	case e.ValueFrom.ConfigMapKeyRef != nil:
		r := e.ValueFrom.ConfigMapKeyRef
		if cm, ok := c.cms[nsKey(ns, r.Name)]; ok {
			return envVal{cm.Data[r.Key], "configMap"}, true
		}
		if fp != "" {
			c.fs.add(o, fp+".env["+e.Name+"]", "no ConfigMap %q in the overlay", r.Name)
		}
		return envVal{}, false
	case e.ValueFrom.SecretKeyRef != nil:
		r := e.ValueFrom.SecretKeyRef
		if s, ok := c.secrets[nsKey(ns, r.Name)]; ok {
			return envVal{string(s.Data[r.Key]), "secret"}, true
		}
		if fp != "" {
			c.fs.add(o, fp+".env["+e.Name+"]", "no Secret %q in the overlay", r.Name)
		}
		return envVal{}, false
	}
	return envVal{"", "other"}, true
}

// ---------------------------------------------------------------- mounted files

// mountedFile is a Secret or ConfigMap key that a container sees as a file.
type mountedFile struct {
	kind, name, key string
	data            []byte
}

// mountedFile finds the Secret or ConfigMap key that a container sees at the
// absolute path p.
func (c *checker) mountedFile(w *workload, ctr *corev1.Container, p string) (*mountedFile, error) {
	m := mountAt(ctr, p)
	if m == nil {
		return nil, fmt.Errorf("%s is on no volume mount", p)
	}
	rel := strings.TrimPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/")
	if m.SubPath != "" {
		rel = m.SubPath
	}
	vol := volumeNamed(w, m.Name)
	if vol == nil {
		return nil, fmt.Errorf("%s: mount %s has no volume", p, m.Name)
	}
	switch {
	case vol.Secret != nil:
		return c.secretFile(w.obj.Namespace, p, vol.Secret, rel)
	case vol.ConfigMap != nil:
		return c.configMapFile(w.obj.Namespace, p, vol.ConfigMap, rel)
	}
	return nil, fmt.Errorf("%s: volume %s is neither a Secret nor a ConfigMap", p, vol.Name)
}

// mountAt is the mount that holds the path p: a subPath mount of p itself,
// or the mount with the longest path above p.
func mountAt(ctr *corev1.Container, p string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i, m := range ctr.VolumeMounts {
		mp := strings.TrimSuffix(m.MountPath, "/")
		if m.SubPath != "" {
			if p == mp {
				best = &ctr.VolumeMounts[i]
			}
			continue
		}
		if strings.HasPrefix(p, mp+"/") && (best == nil || len(mp) > len(best.MountPath)) {
			best = &ctr.VolumeMounts[i]
		}
	}
	return best
}

// volumeNamed is the pod's volume called name (the last, if several), or
// nil.
func volumeNamed(w *workload, name string) *corev1.Volume {
	var vol *corev1.Volume
	for i := range w.tmpl.Spec.Volumes {
		if w.tmpl.Spec.Volumes[i].Name == name {
			vol = &w.tmpl.Spec.Volumes[i]
		}
	}
	return vol
}

// itemKey is the key projected at the relative path rel: rel itself without
// items, "" if no item has that path.
func itemKey(items []corev1.KeyToPath, rel string) string {
	if len(items) == 0 {
		return rel
	}
	for _, it := range items {
		if it.Path == rel {
			return it.Key
		}
	}
	return ""
}

// secretFile is the key of a Secret volume at rel; p names the file in
// errors.
func (c *checker) secretFile(ns, p string, src *corev1.SecretVolumeSource, rel string) (*mountedFile, error) {
	k := itemKey(src.Items, rel)
	s, ok := c.secrets[nsKey(ns, src.SecretName)]
	if !ok {
		return nil, fmt.Errorf("%s: no Secret %q", p, src.SecretName)
	}
	d, ok := s.Data[k]
	if !ok {
		return nil, fmt.Errorf("%s: Secret %q has no key %q", p, src.SecretName, k)
	}
	return &mountedFile{"Secret", src.SecretName, k, d}, nil
}

// configMapFile is the key of a ConfigMap volume at rel; p names the file
// in errors.
func (c *checker) configMapFile(ns, p string, src *corev1.ConfigMapVolumeSource, rel string) (*mountedFile, error) {
	k := itemKey(src.Items, rel)
	cm, ok := c.cms[nsKey(ns, src.Name)]
	if !ok {
		return nil, fmt.Errorf("%s: no ConfigMap %q", p, src.Name)
	}
	d, ok := cm.Data[k]
	if !ok {
		return nil, fmt.Errorf("%s: ConfigMap %q has no key %q", p, src.Name, k)
	}
	return &mountedFile{"ConfigMap", src.Name, k, []byte(d)}, nil
}
