package service

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/rs/zerolog"
)

// routingCatalog has model m in every state: 1 from disk and served, 2
// pushed and served, 3 pushed and announced but no worker serves it now,
// 4 pushed and not loaded yet, 5 pushed and retired; and aliases.
func routingCatalog(t *testing.T) *catalog {
	t.Helper()
	c := newCatalog(zerolog.Nop())
	now := time.Now()
	announce := func(v, source string) {
		c.models[wire.ModelKey("m", v)] = announced{meta: &model.Metadata{Name: "m", Version: v}, source: source}
	}
	push := func(v, state string) {
		c.registry[wire.ModelKey("m", v)] = store.Version{Name: "m", Version: v, Meta: wire.RegistryMeta{State: state}}
	}
	announce("1", wire.SourceDisk)
	announce("2", wire.SourceRegistry)
	push("2", wire.RegistryActive)
	announce("3", wire.SourceRegistry)
	push("3", wire.RegistryActive)
	push("4", wire.RegistryActive)
	announce("5", wire.SourceRegistry)
	push("5", wire.RegistryRetiring)
	announce("6", wire.SourceRegistry) // deleted from the registry: gone
	c.workers["w"] = wire.WorkerInfo{ID: "w", LastSeen: now, Models: []string{"m:1", "m:2", "m:5"}}
	c.aliases[wire.AliasKey("m", "canary")] = wire.Alias{Model: "m", Name: "canary", Weights: map[string]int{"1": 90, "2": 10}}
	c.aliases[wire.AliasKey("m", "next")] = wire.Alias{Model: "m", Name: "next", Weights: map[string]int{"4": 100}}
	c.aliases[wire.AliasKey("m", "half")] = wire.Alias{Model: "m", Name: "half", Weights: map[string]int{"3": 50, "4": 50}}
	return c
}

func TestResolveRoutes(t *testing.T) {
	c := routingCatalog(t)
	for _, tc := range []struct {
		version, want string
		code          api.Code
	}{
		{"", "2", ""},                   // the highest served
		{"1", "1", ""},                  // from disk
		{"3", "3", ""},                  // announced, not served now: its work waits in its queue
		{"4", "", api.CodeNotReady},     // pushed, not loaded and warmed up yet
		{"5", "", api.CodeUnknownModel}, // retired
		{"6", "", api.CodeUnknownModel}, // deleted
		{"7", "", api.CodeUnknownModel}, // never was
		{"next", "", api.CodeNotReady},  // an alias to a version not ready
		{"half", "3", ""},               // an alias: the only routable version of two
		{"canary", "1", ""},             // drawn: pick 0 falls in 1's 90
	} {
		c.pick = func(int) int { return 0 }
		m, err := c.resolve("m", tc.version, time.Now())
		var ae *api.Error
		switch {
		case tc.code != "" && (!errors.As(err, &ae) || ae.Code != tc.code):
			t.Errorf("m:%q: %v, want %s", tc.version, err, tc.code)
		case tc.code == "" && (err != nil || m.Version != tc.want):
			t.Errorf("m:%q: %+v, %v; want version %s", tc.version, m, err, tc.want)
		}
	}
	if _, err := c.resolve("other", "", time.Now()); err == nil {
		t.Error("an unknown model resolved")
	}
}

// The weights split the draws: with pick's n-th value, canary {1: 90, 2:
// 10} goes to 1 for draws 0..89 and to 2 for 90..99.
func TestResolveAliasWeights(t *testing.T) {
	c := routingCatalog(t)
	counts := map[string]int{}
	for i := range 100 {
		c.pick = func(n int) int {
			if n != 100 {
				t.Fatalf("drawn among %d, want 100", n)
			}
			return i
		}
		m, err := c.resolve("m", "canary", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		counts[m.Version]++
	}
	if counts["1"] != 90 || counts["2"] != 10 {
		t.Fatalf("canary draws: %v, want 90 to 1 and 10 to 2", counts)
	}
}

// With no version served, the highest routable takes the work (it waits
// in its queue while the workers restart).
func TestResolveWithoutWorkers(t *testing.T) {
	c := routingCatalog(t)
	delete(c.workers, "w")
	if m, err := c.resolve("m", "", time.Now()); err != nil || m.Version != "3" {
		t.Fatalf("m with no worker: %+v, %v; want 3", m, err)
	}
	var states []string
	for _, e := range c.entries("m", time.Now()) {
		states = append(states, e.meta.Version+"="+e.state)
	}
	want := "[1=unserved 2=unserved 3=unserved 4=loading 5=retiring]"
	if got := fmt.Sprint(states); got != want {
		t.Fatalf("states %s, want %s", got, want)
	}
}
