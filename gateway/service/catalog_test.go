package service

import (
	"context"
	"testing"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/rs/zerolog"
)

// The gateway and the worker order versions the same way: "v10" is above
// "v9" (the gateway once compared them as strings and picked v9).
func TestCatalogOrdersVersionsLikeTheWorker(t *testing.T) {
	c := newCatalog(zerolog.Nop())
	for _, v := range []string{"v9", "v10", "v2"} {
		c.models["m."+v] = announced{meta: &model.Metadata{Name: "m", Version: v}, source: "disk"}
	}
	if m, err := c.resolve("m", "", time.Now()); err != nil || m.Version != "v10" {
		t.Fatalf("latest of m: %+v, %v; want v10", m, err)
	}
	var got []string
	for _, m := range c.list(time.Now()) {
		got = append(got, m.Version)
	}
	if len(got) != 3 || got[0] != "v2" || got[1] != "v9" || got[2] != "v10" {
		t.Fatalf("list order %v, want [v2 v9 v10]", got)
	}
}

// await returns once a watch publishes what it waits for, and gives up
// when its context ends.
func TestCatalogAwaitsItsOwnWrites(t *testing.T) {
	c := newCatalog(zerolog.Nop())
	key := wire.AliasKey("digits", "prod")
	seen := func() bool { _, ok := c.aliases[key]; return ok }

	done := make(chan bool)
	go func() { done <- c.await(context.Background(), seen) }()
	c.publish(&registryView{aliases: map[string]wire.Alias{}, aSynced: true}) // not it yet
	c.publish(&registryView{aliases: map[string]wire.Alias{key: {Model: "digits", Name: "prod"}}, aSynced: true})
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("await gave up although the alias was published")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("await still waits after the alias was published")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if c.await(ctx, func() bool { return false }) {
		t.Fatal("await saw what was never published")
	}
}
