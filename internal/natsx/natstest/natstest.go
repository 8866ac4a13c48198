// Package natstest starts real embedded NATS JetStream servers for the tests
// of other packages: each on a free port of 127.0.0.1 with its store in the
// test's temporary directory, shut down (with every connection made here
// closed first) when the test ends.
package natstest

import (
	"context"
	"testing"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Server starts an embedded JetStream server for tb.
func Server(tb testing.TB) *server.Server {
	tb.Helper()
	ns, err := natsx.RunEmbedded(natsx.EmbeddedConfig{Port: -1, StoreDir: tb.TempDir()})
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
