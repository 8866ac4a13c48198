package service

import (
	"testing"
	"time"

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
