package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
)

// TestNATSRoutesAuthenticate runs three nats-servers from the dev overlay's
// nats.conf, in the environment its entry point makes (the routes pointed
// at loopback ports instead of the pods' names): they form one cluster
// through the authenticated routes, and a fourth server whose routes carry
// another password is refused.
func TestNATSRoutesAuthenticate(t *testing.T) {
	conf := overlayNATSConf(t, "dev")
	ports := []int{freePort(t), freePort(t), freePort(t)}
	const rpw = "route-password-for-test"
	logs := &routeLog{}
	var servers []*server.Server
	for i := range ports {
		s := startNATS(t, conf, i, ports, rpw, logs)
		servers = append(servers, s)
	}
	waitFor(t, "three servers routed to each other", func() bool {
		for _, s := range servers {
			if peers(t, s) != 2 {
				return false
			}
		}
		return true
	})
	intruder := startNATS(t, conf, 3, append(ports, freePort(t)), "another-password", nil)
	waitFor(t, "the intruder's route refused for its credentials", logs.refused)
	if n := peers(t, intruder); n != 0 {
		t.Errorf("a server without the route password is routed to %d servers", n)
	}
	for i, s := range servers {
		if n := peers(t, s); n != 2 {
			t.Errorf("nats-%d is routed to %d servers, want 2", i, n)
		}
	}
}

// peers counts the servers s has routes to (a pool of connections each).
func peers(t *testing.T, s *server.Server) int {
	t.Helper()
	rz, err := s.Routez(&server.RoutezOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rz.Routes {
		ids[r.RemoteID] = true
	}
	return len(ids)
}

// overlayNATSConf is the nats.conf of an overlay's ConfigMap nats-config.
func overlayNATSConf(t *testing.T, overlay string) string {
	t.Helper()
	objs, err := Objects(filepath.Join(testRepo(t).Root, "deploy", "k8s", "overlays", overlay))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		decode(&Findings{}, o)
		if cm, ok := o.Typed.(*corev1.ConfigMap); ok && strings.HasPrefix(cm.Name, "nats-config") {
			return cm.Data["nats.conf"]
		}
	}
	t.Fatal("no ConfigMap nats-config")
	return ""
}

// startNATS starts server i of the configuration, its routes to the
// cluster ports with route password rpw, as the entry point sets them.
func startNATS(t *testing.T, conf string, i int, ports []int, rpw string, logs *routeLog) *server.Server {
	t.Helper()
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf(`"nats://route:%s@127.0.0.1:%d"`, rpw, p))
	}
	opts, err := natsOptions(conf, map[string]string{
		"POD_NAME": fmt.Sprintf("nats-%d", i), "NATS_PASSWORD": `"client-password"`,
		"NATS_ROUTE_USER": "route", "NATS_ROUTE_PASSWORD": `"` + rpw + `"`,
		"NATS_ROUTES":         "[" + strings.Join(routes, ", ") + "]",
		"JS_MAX_MEMORY_STORE": "64MB", "JS_MAX_FILE_STORE": "1GB",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Loopback ports and a store of the test's; the routes are the point,
	// not JetStream.
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, 0
	opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", ports[i]
	opts.JetStream, opts.StoreDir, opts.PidFile = false, t.TempDir(), filepath.Join(t.TempDir(), "pid")
	opts.NoSigs = true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if logs != nil {
		s.SetLogger(logs, false, false)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats-%d not ready", i)
	}
	return s
}

// routeLog records the servers' log lines about refused routes.
type routeLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *routeLog) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *routeLog) refused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, "rid:") && strings.Contains(s, "Authentication Failure") {
			return true
		}
	}
	return false
}

func (l *routeLog) Noticef(format string, v ...any) { l.add(format, v...) }
func (l *routeLog) Warnf(format string, v ...any)   { l.add(format, v...) }
func (l *routeLog) Fatalf(format string, v ...any)  { l.add(format, v...) }
func (l *routeLog) Errorf(format string, v ...any)  { l.add(format, v...) }
func (l *routeLog) Debugf(format string, v ...any)  { l.add(format, v...) }
func (l *routeLog) Tracef(format string, v ...any)  { l.add(format, v...) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor retries cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s", what)
		}
	}
}
