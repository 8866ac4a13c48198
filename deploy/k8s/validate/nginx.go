package main

import (
	"fmt"
	"regexp"
	"strings"
)

// The frontend image's nginx configuration (frontend/nginx/default.conf)
// resolves the gateway at request time through Docker's embedded DNS,
// `resolver 127.0.0.11`, which does not exist in a Kubernetes pod. The base
// mounts a variant (base/frontend/default.conf) that is that file with exactly
// these changes, made by k8sNginx and checked byte for byte:
//
//   - the `resolver` and `resolver_timeout` directives are removed, with the
//     comment block right above them;
//   - `set $gateway HOST:PORT;` + `proxy_pass http://$gateway;` become
//     `proxy_pass http://HOST:PORT;` (comment block above `set` removed):
//     nginx resolves the Service name once at start, through the pod's
//     /etc/resolv.conf (so short names and the namespace search path work),
//     and a Service keeps its virtual IP for its whole life;
//   - a header says so.
//
// K8S_UPDATE=1 make test-k8s rewrites the variant after a change to the
// original.
const nginxHeader = `# GENERATED from frontend/nginx/default.conf for Kubernetes by
# deploy/k8s/validate (K8S_UPDATE=1 make test-k8s); do not edit by hand.
#
# The only change: no ` + "`resolver`" + `. Docker's DNS (127.0.0.11) does not exist in
# a pod, and nginx's own resolver ignores the DNS search path. ` + "`gateway`" + ` is a
# Service: nginx resolves it once at start through /etc/resolv.conf, its
# virtual IP never changes, and kube-proxy spreads connections over the ready
# gateway pods (rolling updates and scaling need no re-resolution).

`

var (
	reResolver  = regexp.MustCompile(`^\s*resolver(_timeout)?\s`)
	reSetGW     = regexp.MustCompile(`^(\s*)set \$gateway ([^;\s]+);\s*$`)
	reProxyVar  = regexp.MustCompile(`^\s*proxy_pass http://\$gateway;\s*$`)
	reComment   = regexp.MustCompile(`^\s*#`)
	reProxyPass = regexp.MustCompile(`(?m)^\s*proxy_pass\s+http://([^;/\s$]+)[^;]*;`)
)

// k8sNginx derives the Kubernetes variant from the original configuration.
func k8sNginx(orig []byte) ([]byte, error) {
	lines := strings.SplitAfter(string(orig), "\n")
	var out []string
	dropComments := func() {
		for len(out) > 0 && reComment.MatchString(out[len(out)-1]) {
			out = out[:len(out)-1]
		}
	}
	var resolvers, sets int
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case reResolver.MatchString(l):
			dropComments()
			resolvers++
		case reSetGW.MatchString(l):
			m := reSetGW.FindStringSubmatch(l)
			if i+1 >= len(lines) || !reProxyVar.MatchString(lines[i+1]) {
				return nil, fmt.Errorf("frontend/nginx/default.conf: `set $gateway` is not followed by `proxy_pass http://$gateway;`")
			}
			dropComments()
			out = append(out, m[1]+"proxy_pass http://"+m[2]+";\n")
			i++
			sets++
		default:
			out = append(out, l)
		}
	}
	if resolvers == 0 || sets != 1 {
		return nil, fmt.Errorf("frontend/nginx/default.conf: expected `resolver` directives and one `set $gateway ...; proxy_pass http://$gateway;` (found %d, %d): update k8sNginx in deploy/k8s/validate/nginx.go", resolvers, sets)
	}
	// A blank line left doubled where a block went.
	s := strings.Join(out, "")
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return []byte(nginxHeader + s), nil
}

// nginxUpstreams returns the HOST:PORT of every proxy_pass.
func nginxUpstreams(conf string) []string {
	var out []string
	for _, m := range reProxyPass.FindAllStringSubmatch(conf, -1) {
		out = append(out, m[1])
	}
	return out
}
