package main

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var reAPIKeyLine = regexp.MustCompile(`^[A-Za-z0-9._-]+\s+[0-9a-f]{64}(\s.*)?$`)

// checkSecrets: the values of every Secret (checkSecretData), and the
// gateway reading its API keys from a mounted Secret.
func (c *checker) checkSecrets() {
	for _, o := range c.objs {
		if s, ok := o.Typed.(*corev1.Secret); ok {
			c.checkSecretData(o, s)
		}
	}
	for _, w := range c.byRole(roleGateway) {
		c.checkAPIKeysFile(w)
	}
}

// checkSecretData: with committed Secrets, each value is marked dev-only or
// REPLACE-ME; an api_keys value that is not a placeholder holds API keys
// (checkAPIKeys).
func (c *checker) checkSecretData(o *Object, s *corev1.Secret) {
	for k, v := range s.Data {
		val := string(v)
		placeholder := strings.Contains(val, "REPLACE-ME")
		if c.opt.CommittedSecrets && !placeholder && !strings.Contains(val, "dev-only") {
			c.fs.add(o, "data."+k, "comes from a file in this repository but is marked neither dev-only nor REPLACE-ME: never commit a real secret")
		}
		if k == "api_keys" && !placeholder {
			c.checkAPIKeys(o, k, val)
		}
	}
}

// checkAPIKeys: the gateway's API key file (key k) has at least one key, a
// line `TENANT SHA256HEX [settings]` each; blank lines are skipped.
func (c *checker) checkAPIKeys(o *Object, k, val string) {
	n := 0
	for i, line := range strings.Split(val, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n++
		if !reAPIKeyLine.MatchString(line) {
			c.fs.add(o, fmt.Sprintf("data.%s line %d", k, i+1), "not `TENANT SHA256HEX [settings]`")
		}
	}
	if n == 0 {
		c.fs.add(o, "data."+k, "no API key")
	}
}

// checkAPIKeysFile: the gateway's GATEWAY_API_KEYS_FILE is a file of a
// mounted Secret.
func (c *checker) checkAPIKeysFile(w *workload) {
	ctr := w.mainContainer()
	fp := "spec.template.spec.containers[" + ctr.Name + "].env[GATEWAY_API_KEYS_FILE]"
	v, ok := c.env(w, ctr, "")["GATEWAY_API_KEYS_FILE"]
	if !ok {
		c.fs.add(w.obj, fp, "missing: the gateway reads its API keys from a mounted Secret")
		return
	}
	f, err := c.mountedFile(w, ctr, v.value)
	if err != nil {
		c.fs.add(w.obj, fp, "%v", err)
	} else if f.kind != "Secret" {
		c.fs.add(w.obj, fp, "%s is in %s %s, not a Secret", v.value, f.kind, f.name)
	}
}
