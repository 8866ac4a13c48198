package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natsembed"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// The embedded NATS server of `make run` refuses connections without the
// password generated for the run; settings given are kept.
func TestEmbeddedNATSIsProtected(t *testing.T) {
	c := natsx.EmbeddedConfig{Port: -1, StoreDir: t.TempDir()}
	protectNATS(&c, zerolog.Nop())
	if c.User == "" || len(c.Password) < 32 {
		t.Fatalf("no password generated: %+v", c)
	}
	again := natsx.EmbeddedConfig{}
	protectNATS(&again, zerolog.Nop())
	if again.Password == c.Password {
		t.Fatal("the same password twice")
	}
	ns, err := natsembed.Run(c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := natsx.Connect(ctx, natsx.ConnConfig{URL: ns.ClientURL()}, zerolog.Nop()); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("without the password: %v", err)
	}
	nc, err := natsx.Connect(ctx, natsx.ConnConfig{URL: ns.ClientURL(), User: c.User, Password: c.Password}, zerolog.Nop())
	if err != nil {
		t.Fatalf("with it: %v", err)
	}
	nc.Close()
	given := natsx.EmbeddedConfig{User: "me", Password: "mine"}
	protectNATS(&given, zerolog.Nop())
	if given.User != "me" || given.Password != "mine" {
		t.Fatalf("given settings replaced: %+v", given)
	}
}
