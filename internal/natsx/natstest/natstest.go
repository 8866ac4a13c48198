// Package natstest starts real embedded NATS JetStream servers for the tests
// of other packages: each on a free port of 127.0.0.1 with its store in the
// test's temporary directory, shut down (with every connection made here
// closed first) when the test ends.
package natstest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/freeport"
	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natsembed"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Server starts an embedded JetStream server for tb.
func Server(tb testing.TB) *server.Server {
	tb.Helper()
	ns, err := natsembed.Run(natsx.EmbeddedConfig{Port: -1, StoreDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// JetStream connects to a new server: a plain connection and its JetStream
// context, with no stream declared.
func JetStream(tb testing.TB) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	ns := Server(tb)
	nc, err := natsx.Connect(context.Background(), natsx.ConnConfig{URL: ns.ClientURL()}, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// Infra opens the system's streams and buckets on a new server, as the
// services do (natsx.Open), and returns them with the server's URL.
func Infra(tb testing.TB) (*natsx.Infra, string) {
	tb.Helper()
	ns := Server(tb)
	in, err := natsx.Open(context.Background(), natsx.ConnConfig{URL: ns.ClientURL()}, natsx.StreamConfig{}, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(in.Close)
	return in, ns.ClientURL()
}

// Cluster starts n embedded JetStream servers routed into one cluster on
// 127.0.0.1 and returns their client URLs, comma-separated (NATS_URL).
func Cluster(tb testing.TB, n int) string {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports { // cluster ports must be known up front: every server routes to all
		ports[i] = freeport.Port(tb)
	}
	var routes, urls []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	for i, p := range ports {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: tb.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: p},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			tb.Fatal(err)
		}
		go s.Start()
		tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("server %d not ready", i+1)
		}
		urls = append(urls, s.ClientURL())
	}
	return strings.Join(urls, ",")
}
