package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// natsInfo is what the NATS StatefulSet provides to its clients.
type natsInfo struct {
	w          *workload
	opts       *server.Options
	clientURLs []string // nats://<pod>.<headless service>:<client port>
	password   *mountedFile
	// routePassword is the servers' own: the route credentials.
	routePassword *mountedFile
}

// The password is quoted for the NATS parser by the entry point, so it must
// stay within this set (same rule as compose.yaml).
var reNATSPassword = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)

// The route password also goes into the route URLs as it is: characters a
// URL's user information carries unescaped.
var reRoutePassword = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// reReadSecret finds the entry point's reads of its password files:
// `read -r pw < FILE` (client password), `read -r rpw < FILE` (routes).
var reReadSecret = regexp.MustCompile(`read -r (pw|rpw) < (/\S+)`)

var (
	reConfigArg = regexp.MustCompile(`(?:--config|-c)[= ]+(\S+)`)
	envMu       sync.Mutex
)

// natsOptions parses and checks a configuration with nats-server's own
// code (the server version of go.mod, the one compose runs): unknown fields
// and bad values are errors. $VARS resolve from env, as in the container.
func natsOptions(conf string, env map[string]string) (*server.Options, error) {
	envMu.Lock()
	defer envMu.Unlock()
	saved := map[string]*string{}
	for k, v := range env {
		if old, ok := os.LookupEnv(k); ok {
			saved[k] = &old
		} else {
			saved[k] = nil
		}
		os.Setenv(k, v)
	}
	defer func() {
		for k, v := range saved {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}()
	o := &server.Options{}
	if err := o.ProcessConfigString(conf); err != nil {
		return nil, err
	}
	return o, nil
}

// natsServer is the NATS StatefulSet under check.
type natsServer struct {
	w    *workload
	o    *Object
	sts  *appsv1.StatefulSet
	ctr  *corev1.Container
	fp   string          // the container's field path
	cf   string          // the configuration file in findings: ConfigMap[nats.conf]
	pw   string          // the password the entry point passes (natsPassword)
	rpw  string          // the route password it passes
	opts *server.Options // the parsed configuration
}

// checkNATS: the NATS servers are one StatefulSet of a JetStream cluster:
// the StatefulSet and its headless Service, the entry point, the
// configuration as nats-server parses it, ports, routes, storage and lame
// duck mode. It sets c.nats for the checks of the clients.
func (c *checker) checkNATS() {
	ws := c.byRole(roleNATS)
	if len(ws) != 1 || ws[0].sts == nil {
		c.fs.add(nil, "", "want one NATS StatefulSet, found %d NATS workloads", len(ws))
		return
	}
	w := ws[0]
	ctr := w.mainContainer()
	s := &natsServer{w: w, o: w.obj, sts: w.sts, ctr: ctr, fp: "spec.template.spec.containers[" + ctr.Name + "]"}
	c.checkNATSStatefulSet(s)
	c.checkHeadlessService(s)
	confFile, ok := c.checkNATSEntryPoint(s)
	if !ok {
		return
	}
	if !c.parseNATSConfig(s, confFile) {
		return
	}
	c.checkNATSAuth(s)
	c.checkNATSPorts(s)
	c.checkNATSRoutes(s)
	c.checkJetStream(s)
	c.checkLameDuck(s)
}

// checkNATSStatefulSet: an odd number of servers, at least 3, started in
// parallel.
func (c *checker) checkNATSStatefulSet(s *natsServer) {
	if replicas := s.w.replicaCount(); replicas < 3 || replicas%2 == 0 {
		c.fs.add(s.o, "spec.replicas", "%d: JetStream needs an odd number of servers, at least 3, to keep a quorum through a failure", replicas)
	}
	if s.sts.Spec.PodManagementPolicy != "Parallel" {
		c.fs.add(s.o, "spec.podManagementPolicy", "%q: must be Parallel; with OrderedReady nats-1 waits for nats-0 to become healthy, which needs nats-1", s.sts.Spec.PodManagementPolicy)
	}
}

// checkHeadlessService: the StatefulSet's Service is headless, selects the
// NATS pods and publishes them before they are ready.
func (c *checker) checkHeadlessService(s *natsServer) {
	name := s.sts.Spec.ServiceName
	headless := c.service(s.o.Namespace, name)
	switch {
	case headless == nil:
		c.fs.add(s.o, "spec.serviceName", "no Service %q in the overlay", name)
	case headless.Spec.ClusterIP != corev1.ClusterIPNone:
		c.fs.add(s.o, "spec.serviceName", "Service %q must be headless (clusterIP: None) for per-pod DNS names", name)
	case !labels.SelectorFromSet(headless.Spec.Selector).Matches(s.w.labels()) || len(headless.Spec.Selector) == 0:
		c.fs.add(s.o, "spec.serviceName", "Service %q does not select the NATS pods", name)
	case !headless.Spec.PublishNotReadyAddresses:
		c.fs.add(s.o, "spec.serviceName", "Service %q needs publishNotReadyAddresses: true: the servers must find each other before any is ready", name)
	}
}

// checkNATSEntryPoint: the entry point passes a mounted --config file, reads
// the client and route passwords from mounted Secrets and sets
// NATS_PASSWORD, NATS_ROUTE_PASSWORD and NATS_ROUTES. It returns the
// configuration file, and sets c.nats (with the password files found);
// false where there is no configuration to read further.
func (c *checker) checkNATSEntryPoint(s *natsServer) (*mountedFile, bool) {
	fp := s.fp + ".command"
	script := strings.Join(append(append([]string{}, s.ctr.Command...), s.ctr.Args...), " ")
	m := reConfigArg.FindStringSubmatch(script)
	if m == nil {
		c.fs.add(s.o, fp, "no --config FILE")
		return nil, false
	}
	confFile, err := c.mountedFile(s.w, s.ctr, m[1])
	if err != nil {
		c.fs.add(s.o, fp, "--config %v", err)
		return nil, false
	}
	c.nats = &natsInfo{w: s.w}
	for _, r := range reReadSecret.FindAllStringSubmatch(script, -1) {
		f, err := c.mountedFile(s.w, s.ctr, r[2])
		if err != nil || f.kind != "Secret" {
			c.fs.add(s.o, fp, "reads %s from %s, which is not a mounted Secret (%v)", r[1], r[2], err)
			continue
		}
		if r[1] == "pw" {
			c.nats.password = f
		} else {
			c.nats.routePassword = f
		}
	}
	if c.nats.password == nil {
		c.fs.add(s.o, fp, "the entry point reads no password file from a mounted Secret (read -r pw < FILE)")
	}
	if c.nats.routePassword == nil {
		c.fs.add(s.o, fp, "the entry point reads no route password file from a mounted Secret (read -r rpw < FILE)")
	} else if p := c.nats.password; p != nil && p.name == c.nats.routePassword.name {
		c.fs.add(s.o, fp, "the route password comes from Secret %s, which the clients mount too: give the routes a Secret of their own", p.name)
	}
	for _, v := range []string{"NATS_PASSWORD=", "NATS_ROUTE_PASSWORD=", "NATS_ROUTES="} {
		if !strings.Contains(script, v) {
			c.fs.add(s.o, fp, "the entry point does not set %s", strings.TrimSuffix(v, "="))
		}
	}
	return confFile, true
}

// parseNATSConfig parses the configuration file with nats-server's parser,
// in the server's environment (natsEnv), into s.opts and c.nats.opts;
// false, with a finding, where nats-server rejects it.
func (c *checker) parseNATSConfig(s *natsServer, confFile *mountedFile) bool {
	s.pw = c.natsPassword(s, c.nats.password, reNATSPassword, "A-Z a-z 0-9 . _ ~ + / = -")
	s.rpw = c.natsPassword(s, c.nats.routePassword, reRoutePassword, "A-Z a-z 0-9 . _ ~ -")
	opts, err := natsOptions(string(confFile.data), c.natsEnv(s))
	if err != nil {
		c.fs.add(s.o, s.fp, "nats-server rejects %s %s key %s: %s", confFile.kind, confFile.name, confFile.key, strings.TrimSpace(err.Error()))
		return false
	}
	s.opts, c.nats.opts = opts, opts
	// Findings in the configuration name the file (the ConfigMap's name
	// carries kustomize's hash suffix).
	s.cf = confFile.kind + "[" + confFile.key + "]"
	return true
}

// natsEnv is the server's environment as the entry point leaves it: the
// first pod's name from the downward API, NATS_PASSWORD (s.pw) and
// NATS_ROUTE_PASSWORD (s.rpw) quoted, NATS_ROUTES with one quoted
// nats://$NATS_ROUTE_USER:ROUTE_PASSWORD@HOST per host of NATS_ROUTE_HOSTS.
func (c *checker) natsEnv(s *natsServer) map[string]string {
	env := map[string]string{}
	for k, v := range c.env(s.w, s.ctr, s.fp) {
		if v.from == "fieldRef:metadata.name" {
			env[k] = s.sts.Name + "-0"
		} else {
			env[k] = v.value
		}
	}
	env["NATS_PASSWORD"] = `"` + s.pw + `"`
	env["NATS_ROUTE_PASSWORD"] = `"` + s.rpw + `"`
	var routes []string
	for _, h := range strings.Fields(env["NATS_ROUTE_HOSTS"]) {
		routes = append(routes, fmt.Sprintf(`"nats://%s:%s@%s"`, env["NATS_ROUTE_USER"], s.rpw, h))
	}
	env["NATS_ROUTES"] = "[" + strings.Join(routes, ", ") + "]"
	return env
}

// natsPassword is the password the entry point passes from file f: its
// first line, or "placeholder" where there is no file, the file holds a
// REPLACE-ME placeholder (the server refuses it, as intended), or the
// password has characters outside re, which the entry point refuses (a
// finding).
func (c *checker) natsPassword(s *natsServer, f *mountedFile, re *regexp.Regexp, allowed string) string {
	if f == nil {
		return "placeholder"
	}
	raw := strings.TrimRight(strings.SplitN(string(f.data), "\n", 2)[0], "\r")
	if re.MatchString(raw) {
		return raw
	}
	if !strings.Contains(raw, "REPLACE-ME") {
		c.fs.add(s.o, s.fp+".command", "the password in Secret %s (key %s) uses characters outside %s: the server would refuse to start", f.name, f.key, allowed)
	}
	return "placeholder"
}

// checkNATSAuth: the server authorizes a user with the password of
// $NATS_PASSWORD, and takes its name from its pod.
func (c *checker) checkNATSAuth(s *natsServer) {
	opts := s.opts
	if opts.Password != s.pw {
		c.fs.add(s.o, s.cf, "authorization.password does not come from $NATS_PASSWORD")
	}
	if opts.Username == "" {
		c.fs.add(s.o, s.cf, "authorization.user is not set")
	}
	if opts.ServerName != s.sts.Name+"-0" {
		c.fs.add(s.o, s.cf, "server_name must be $POD_NAME: every server of a cluster needs its own name")
	} else if v, ok := c.env(s.w, s.ctr, "")["POD_NAME"]; !ok || v.from != "fieldRef:metadata.name" {
		c.fs.add(s.o, s.fp+".env[POD_NAME]", "must come from the downward API (fieldRef metadata.name)")
	}
}

// checkNATSPorts: the client, cluster and monitoring ports are set and
// declared on the container; HTTP probes ask the monitoring port.
func (c *checker) checkNATSPorts(s *natsServer) {
	opts := s.opts
	ports := map[string]int{"port": opts.Port, "cluster.port": opts.Cluster.Port, "http_port": opts.HTTPPort}
	for _, k := range []string{"port", "cluster.port", "http_port"} {
		if ports[k] <= 0 {
			c.fs.add(s.o, s.cf, "%s is not set", k)
		} else if _, ok := containerPort(s.ctr, intstr.FromInt(ports[k])); !ok {
			c.fs.add(s.o, s.fp+".ports", "%s %d (nats.conf) is not a container port", k, ports[k])
		}
	}
	for _, pr := range []struct {
		name string
		p    *corev1.Probe
	}{{"livenessProbe", s.ctr.LivenessProbe}, {"readinessProbe", s.ctr.ReadinessProbe}, {"startupProbe", s.ctr.StartupProbe}} {
		if pr.p == nil || pr.p.HTTPGet == nil {
			continue
		}
		if n, ok := containerPort(s.ctr, pr.p.HTTPGet.Port); ok && int(n) != opts.HTTPPort {
			c.fs.add(s.o, s.fp+"."+pr.name+".httpGet.port", "%d, but the monitoring port (http_port) is %d", n, opts.HTTPPort)
		}
	}
}

// podAddrs lists <pod>.<headless service>:port for each pod of the
// StatefulSet, with prefix before each.
func (s *natsServer) podAddrs(prefix string, port int) []string {
	var out []string
	for i := int32(0); i < s.w.replicaCount(); i++ {
		out = append(out, fmt.Sprintf("%s%s-%d.%s:%d", prefix, s.sts.Name, i, s.sts.Spec.ServiceName, port))
	}
	return out
}

// checkNATSRoutes: the cluster has a name, its routes are exactly the
// StatefulSet's pods, through the headless Service, over nats://, and both
// sides authenticate: the cluster authorizes a user with the route password
// and every route presents it. It sets the client URLs in c.nats.
func (c *checker) checkNATSRoutes(s *natsServer) {
	if s.opts.Cluster.Name == "" {
		c.fs.add(s.o, s.cf, "cluster.name is not set")
	}
	cl := s.opts.Cluster
	if cl.Username == "" || cl.Password != s.rpw {
		c.fs.add(s.o, s.cf, "cluster.authorization must be user $NATS_ROUTE_USER with password $NATS_ROUTE_PASSWORD: without it any pod that reaches port %d joins the cluster", cl.Port)
	}
	got := map[string]bool{}
	ns := s.o.Namespace
	for _, u := range s.opts.Routes {
		h := u.Hostname()
		// Short and fully qualified names are the same pod.
		for _, sfx := range []string{"." + ns + ".svc.cluster.local", "." + ns + ".svc", "." + ns} {
			h = strings.TrimSuffix(h, sfx)
		}
		got[h+":"+u.Port()] = true
		if u.Scheme != "nats" && u.Scheme != "nats-route" {
			c.fs.add(s.o, s.cf, "cluster.routes: %s: scheme must be nats://", u.Redacted())
		}
		if pw, _ := u.User.Password(); u.User.Username() != cl.Username || pw != cl.Password {
			c.fs.add(s.o, s.cf, "cluster.routes: %s does not present the cluster's route user and password", u.Redacted())
		}
	}
	if d := diff(set(s.podAddrs("", s.opts.Cluster.Port)), got); d != "" {
		c.fs.add(s.o, s.cf, "cluster.routes must name exactly the %d pods of the StatefulSet through Service %s: %s", s.w.replicaCount(), s.sts.Spec.ServiceName, d)
	}
	c.nats.clientURLs = append(c.nats.clientURLs, s.podAddrs("nats://", s.opts.Port)...)
}

// checkJetStream: JetStream is enabled, stores on a volumeClaimTemplate
// within its size (checkStoreSize), and keeps its memory store below the
// memory limit.
func (c *checker) checkJetStream(s *natsServer) {
	opts := s.opts
	if !opts.JetStream {
		c.fs.add(s.o, s.cf, "jetstream is not enabled")
	}
	if claim := s.storeClaim(); claim == nil {
		c.fs.add(s.o, s.cf, "jetstream.store_dir %q is not on a volumeClaimTemplate: the streams would not survive a restart", opts.StoreDir)
	} else {
		c.checkStoreSize(s, claim)
	}
	if mem, ok := s.ctr.Resources.Limits[corev1.ResourceMemory]; ok && opts.JetStreamMaxMemory >= mem.Value() {
		c.fs.add(s.o, s.fp+".resources.limits.memory", "%s does not exceed jetstream.max_memory_store", mem.String())
	}
}

// storeClaim is the volumeClaimTemplate mounted above jetstream.store_dir,
// or nil.
func (s *natsServer) storeClaim() *corev1.PersistentVolumeClaim {
	var claim *corev1.PersistentVolumeClaim
	for _, mnt := range s.ctr.VolumeMounts {
		if !strings.HasPrefix(s.opts.StoreDir+"/", strings.TrimSuffix(mnt.MountPath, "/")+"/") {
			continue
		}
		for i := range s.w.claims {
			if s.w.claims[i].Name == mnt.Name {
				claim = &s.w.claims[i]
			}
		}
	}
	return claim
}

// checkStoreSize: the claim requests storage, and jetstream.max_file_store
// is set and fits in it.
func (c *checker) checkStoreSize(s *natsServer, claim *corev1.PersistentVolumeClaim) {
	fp := "spec.volumeClaimTemplates[" + claim.Name + "].spec.resources.requests.storage"
	maxStore := s.opts.JetStreamMaxStore
	req, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		c.fs.add(s.o, fp, "missing")
	case maxStore <= 0:
		c.fs.add(s.o, s.cf, "jetstream.max_file_store is not set: JetStream would take all of the volume and more")
	case maxStore > req.Value():
		c.fs.add(s.o, fp, "%s is smaller than jetstream.max_file_store (%s)", req.String(), resource.NewQuantity(maxStore, resource.BinarySI).String())
	}
}

// checkLameDuck: a stopping server gets lame_duck_duration and
// lame_duck_grace_period (nats-server's defaults: 2m and 10s) within the
// grace period, and the preStop hook starts lame duck mode through
// pid_file.
func (c *checker) checkLameDuck(s *natsServer) {
	grace := s.w.gracePeriod()
	ld, ldg := s.opts.LameDuckDuration, s.opts.LameDuckGracePeriod
	if ld == 0 {
		ld = 2 * time.Minute
	}
	if ldg == 0 {
		ldg = 10 * time.Second
	}
	if need := ld + ldg + 5*time.Second; time.Duration(grace)*time.Second < need {
		c.fs.add(s.o, "spec.template.spec.terminationGracePeriodSeconds", "%d s is shorter than lame_duck_duration %s + lame_duck_grace_period %s + 5s", grace, ld, ldg)
	}
	pid := s.opts.PidFile
	cmd, ok := preStopExec(s.ctr)
	switch {
	case !ok || !strings.Contains(cmd, "ldm"):
		c.fs.add(s.o, s.fp+".lifecycle.preStop", "should put the server into lame duck mode (nats-server --signal ldm=PIDFILE)")
	case !strings.Contains(cmd, "ldm="+pid) || pid == "":
		c.fs.add(s.o, s.fp+".lifecycle.preStop", "signals ldm through a pid file other than pid_file (%q)", pid)
	}
}

// preStopExec is the command line of the container's preStop exec hook;
// false if it has none.
func preStopExec(ctr *corev1.Container) (string, bool) {
	l := ctr.Lifecycle
	if l == nil || l.PreStop == nil || l.PreStop.Exec == nil {
		return "", false
	}
	return strings.Join(l.PreStop.Exec.Command, " "), true
}

func set(l []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range l {
		m[s] = true
	}
	return m
}

// diff describes what got lacks and has extra.
func diff(want, got map[string]bool) string {
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "unexpected "+strings.Join(extra, ", "))
	}
	return strings.Join(parts, "; ")
}
