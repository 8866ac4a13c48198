package clustertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// cluster is a control plane started for one test: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, as processes of this
// machine on free loopback ports, with files in dir.
type cluster struct {
	t          *testing.T
	dir        string
	k8s        string // the multi-call binary (kubectl, kube-apiserver, ...)
	bin        string // the folder of the built programs
	kubeconfig string
	server     string
	ca         *authority
	cs         kubernetes.Interface
	procs      []*proc
	kwokPort   int // kwok's server: the nodes' kubelet endpoint
}

// Bounds of the waits: generous, since CI shares two cores with the build.
const (
	startTimeout    = 3 * time.Minute
	convergeTimeout = 3 * time.Minute
)

// startCluster starts the control plane from the programs in $K8S_BIN (see
// scripts/k8s-build.sh) and etcd from $ETCD (default: etcd on the PATH).
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := os.Getenv("K8S_BIN")
	if bin == "" {
		if os.Getenv("K8S_TEST_REQUIRED") != "" {
			t.Fatal("K8S_BIN is not set: run make test-k8s (scripts/k8s-test.sh)")
		}
		t.Skip("K8S_BIN is not set: run make test-k8s (scripts/k8s-test.sh), which builds the control plane")
	}
	c := &cluster{t: t, dir: workDir(t), bin: bin, k8s: filepath.Join(bin, "k8s")}
	t.Logf("control plane files and logs in %s", c.dir)
	c.writePKI()
	etcd := c.startEtcd()
	c.startAPIServer(etcd)
	c.startControllers()
	c.startKwok()
	c.addNodes(3)
	c.addStorage(3, 3)
	return c
}

// workDir keeps the logs after the test when K8S_TEST_DIR names a folder.
func workDir(t *testing.T) string {
	if d := os.Getenv("K8S_TEST_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "cluster-")
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

func (c *cluster) path(name string) string { return filepath.Join(c.dir, name) }

func (c *cluster) writePKI() {
	t := c.t
	c.ca = newAuthority(t, c.dir, "ca")
	c.ca.issue(t, c.dir, "apiserver", certSpec{
		cn: "kube-apiserver", server: true, ips: []string{"127.0.0.1", "10.96.0.1"},
		dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	})
	c.ca.issue(t, c.dir, "admin", certSpec{cn: "admin", orgs: []string{"system:masters"}, client: true})
	fp := newAuthority(t, c.dir, "front-proxy-ca")
	fp.issue(t, c.dir, "front-proxy-client", certSpec{cn: "front-proxy-client", client: true})
	writeServiceAccountKeys(t, c.dir)
}

func (c *cluster) start(name, bin string, args []string, env ...string) *proc {
	p := startProc(c.t, c.dir, name, bin, args, env)
	c.procs = append(c.procs, p)
	return p
}

func (c *cluster) startEtcd() string {
	etcd := os.Getenv("ETCD")
	if etcd == "" {
		etcd = "etcd"
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(c.t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(c.t))
	c.start("etcd", etcd, []string{
		"--name=test", "--data-dir=" + c.path("etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=test=" + peer, "--logger=zap", "--log-level=warn",
	}, "ETCD_UNSUPPORTED_ARCH=")
	return client
}

func (c *cluster) startAPIServer(etcd string) {
	port := freePort(c.t)
	c.server = fmt.Sprintf("https://127.0.0.1:%d", port)
	c.start("kube-apiserver", c.k8s, []string{
		"kube-apiserver",
		"--etcd-servers=" + etcd,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port), "--advertise-address=127.0.0.1",
		// The Service kubernetes would list 127.0.0.1, which Endpoints refuse;
		// nothing here reaches the API server through it.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + c.path("apiserver.crt"), "--tls-private-key-file=" + c.path("apiserver.key"),
		"--client-ca-file=" + c.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.path("sa.pub"), "--service-account-signing-key-file=" + c.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		// On top of the default plugins (PodSecurity, LimitRanger,
		// ServiceAccount, DefaultStorageClass, ResourceQuota, the webhooks...).
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=false", "--profiling=false",
		// Aggregated APIs (KEDA's external metrics) are called through the
		// front proxy's client certificate.
		"--requestheader-client-ca-file=" + c.path("front-proxy-ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + c.path("front-proxy-client.crt"),
		"--proxy-client-key-file=" + c.path("front-proxy-client.key"),
	})
	c.writeKubeconfig()
	c.eventually(startTimeout, "kube-apiserver ready (/readyz)", func() (bool, string) {
		out, err := c.cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		return err == nil, fmt.Sprint(string(out), err)
	})
}

func (c *cluster) writeKubeconfig() {
	c.kubeconfig = c.path("admin.kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: admin
  user: {client-certificate: %q, client-key: %q}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, c.server, c.path("ca.crt"), c.path("admin.crt"), c.path("admin.key"))
	writeFile(c.t, c.kubeconfig, []byte(kc))
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	if c.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		c.t.Fatal(err)
	}
}

// startControllers starts kube-controller-manager (each controller with its
// own service account, under RBAC) and kube-scheduler.
func (c *cluster) startControllers() {
	kc := c.kubeconfig
	common := []string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1", "--leader-elect=false",
	}
	c.start("kube-controller-manager", c.k8s, append([]string{"kube-controller-manager",
		fmt.Sprintf("--secure-port=%d", freePort(c.t)),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + c.path("sa.key"), "--root-ca-file=" + c.path("ca.crt"),
		// The HPA controller's default is 15 s; 5 s shortens the KEDA test.
		"--horizontal-pod-autoscaler-sync-period=5s",
		// The CPU of a pod younger than this (5 min by default) is not
		// trusted for scaling up; the test's pods are minutes old.
		"--horizontal-pod-autoscaler-cpu-initialization-period=10s",
		// A node is NotReady after 50 s without a heartbeat by default; kwok's
		// come every 20-45 s, later when CI's two cores are busy.
		"--node-monitor-grace-period=3m",
	}, common...))
	c.start("kube-scheduler", c.k8s, append([]string{"kube-scheduler",
		fmt.Sprintf("--secure-port=%d", freePort(c.t)),
	}, common...))
}

// kubectl runs the built kubectl against the cluster.
func (c *cluster) kubectl(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(c.k8s, append([]string{"kubectl", "--kubeconfig=" + c.kubeconfig}, args...)...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String(), err
}

// mustKubectl is kubectl that fails the test on an error.
func (c *cluster) mustKubectl(args ...string) string {
	c.t.Helper()
	out, _, err := c.kubectl(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// eventually retries cond every 250 ms until it holds, for at most timeout;
// then the test fails naming what did not converge, cond's last detail and
// the output of each dump (kubectl arguments). A program of the cluster
// that exits fails it at once.
func (c *cluster) eventually(timeout time.Duration, what string, cond func() (bool, string), dumps ...[]string) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var detail string
	for {
		var ok bool
		ok, detail = cond()
		if ok {
			return
		}
		for _, p := range c.procs {
			if p.exited() {
				c.t.Fatalf("waiting for %s: %v", what, p.failure())
			}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var b strings.Builder
	for _, d := range dumps {
		out, stderr, err := c.kubectl(d...)
		fmt.Fprintf(&b, "\n--- kubectl %s\n%s%s%v", strings.Join(d, " "), out, stderr, errOrEmpty(err))
	}
	c.t.Fatalf("%s: not reached in %s; last: %s%s", what, timeout, detail, b.String())
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
