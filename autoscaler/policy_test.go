package autoscaler

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testPolicy() Policy {
	return Policy{Min: 1, Max: 5, TargetDrain: 10 * time.Second, AssumedRate: 100,
		UpCooldown: 10 * time.Second, DownCooldown: 30 * time.Second, DeadBand: 0.2}
}

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestDecide(t *testing.T) {
	long := State{LastChange: at(-3600)}
	for _, c := range []struct {
		name   string
		p      func(*Policy)
		in     Inputs
		st     State
		now    time.Time
		action string
		to     int
		want   int // Desired
	}{
		// 100 items/s x 10 s = 1000 items per worker.
		{"up to what drains in time", nil, Inputs{Backlog: 2500, Rate: 100, Current: 1}, long, t0, ActionUp, 3, 3},
		{"assumed rate with no measure", nil, Inputs{Backlog: 2500, Current: 1}, long, t0, ActionUp, 3, 3},
		{"measured rate wins", nil, Inputs{Backlog: 2500, Rate: 250, Current: 1}, long, t0, ActionHold, 1, 1},
		{"clamped to max", nil, Inputs{Backlog: 1e9, Rate: 100, Current: 2}, long, t0, ActionUp, 5, 5},
		{"clamped to min", nil, Inputs{Backlog: 0, Rate: 100, Current: 1}, long, t0, ActionHold, 1, 1},
		{"below min goes up at once", nil, Inputs{Backlog: 0, Current: 0}, State{LastChange: t0}, t0, ActionUp, 1, 1},
		{"above max goes down at once", nil, Inputs{Backlog: 1e9, Current: 8}, State{LastChange: t0}, t0, ActionDown, 5, 5},
		{"up cooldown holds", nil, Inputs{Backlog: 2500, Rate: 100, Current: 1}, State{LastChange: at(-5)}, t0, ActionHold, 1, 3},
		{"up after cooldown", nil, Inputs{Backlog: 2500, Rate: 100, Current: 1}, State{LastChange: at(-10)}, t0, ActionUp, 3, 3},
		{"down waits for the cooldown", nil, Inputs{Backlog: 0, Rate: 100, Current: 3}, long, t0, ActionHold, 3, 1},
		{"down after the cooldown", nil, Inputs{Backlog: 0, Rate: 100, Current: 3}, State{LastChange: at(-3600), BelowSince: at(-30), DownTo: 1}, t0, ActionDown, 1, 1},
		{"down to the most needed in the window", nil, Inputs{Backlog: 0, Rate: 100, Current: 4}, State{LastChange: at(-3600), BelowSince: at(-31), DownTo: 2}, t0, ActionDown, 2, 1},
		// need 2.9 -> ceil 3 for up, but x1.2 = 3.48 -> 4: no scale down from 4.
		{"dead band holds", nil, Inputs{Backlog: 2900, Rate: 100, Current: 4}, long, t0, ActionHold, 4, 3},
		{"below the band starts the window", nil, Inputs{Backlog: 2400, Rate: 100, Current: 4}, long, t0, ActionHold, 4, 3},
		{"scale to zero", func(p *Policy) { p.Min = 0 }, Inputs{Backlog: 0, Rate: 100, Current: 1}, State{LastChange: at(-3600), BelowSince: at(-30), DownTo: 0}, t0, ActionDown, 0, 0},
		{"zero stays zero", func(p *Policy) { p.Min = 0 }, Inputs{Backlog: 0, Current: 0}, long, t0, ActionHold, 0, 0},
		{"wake on one item, no cooldown", func(p *Policy) { p.Min = 0 }, Inputs{Backlog: 1, Current: 0}, State{LastChange: t0}, t0, ActionWake, 1, 1},
		{"wake to what drains in time", func(p *Policy) { p.Min = 0 }, Inputs{Backlog: 4500, Current: 0}, State{LastChange: t0}, t0, ActionWake, 5, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := testPolicy()
			if c.p != nil {
				c.p(&p)
			}
			if err := p.validate(); err != nil {
				t.Fatal(err)
			}
			d, _ := p.Decide(c.in, c.st, c.now)
			if d.Action != c.action || d.Replicas != c.to || d.Desired != c.want {
				t.Fatalf("got %s to %d (desired %d, %q), want %s to %d (desired %d)", d.Action, d.Replicas, d.Desired, d.Reason, c.action, c.to, c.want)
			}
			if d.Reason == "" {
				t.Fatal("no reason")
			}
		})
	}
}

// step runs the policy over a series of (seconds, backlog) readings at a
// fixed rate, applying each decision, and returns the replica counts.
func step(p Policy, current int, series [][2]float64) []int {
	var st State
	out := make([]int, 0, len(series))
	for _, s := range series {
		d, next := p.Decide(Inputs{Backlog: int64(s[1]), Rate: 100, Current: current}, st, at(s[0]))
		st, current = next, d.Replicas
		out = append(out, current)
	}
	return out
}

// A backlog wandering around a boundary (need 1.6..3.4 workers) every
// 5 s must not move the count back and forth.
func TestNoFlappingOnNoisyBacklog(t *testing.T) {
	p := testPolicy()
	var series [][2]float64
	for i := 0; i < 120; i++ {
		noise := math.Sin(float64(i)*1.7) * 900 // deterministic noise
		series = append(series, [2]float64{float64(i * 5), 2500 + noise})
	}
	counts := step(p, 1, series)
	changes := 0
	for i := 1; i < len(counts); i++ {
		if counts[i] != counts[i-1] {
			changes++
		}
		if counts[i] < counts[i-1] {
			t.Fatalf("scaled down at step %d (%v) though the backlog did not fall", i, counts)
		}
	}
	if counts[0] != 3 || changes > 1 {
		t.Fatalf("replicas %v: want one scale up to 3 or 4, then steady", counts)
	}
}

func TestScaleDownIsSlowerThanUp(t *testing.T) {
	p := testPolicy()
	// A burst: 4500 items for 20 s, then nothing.
	var series [][2]float64
	for s := 0; s <= 120; s += 5 {
		b := 0.0
		if s < 20 {
			b = 4500
		}
		series = append(series, [2]float64{float64(s), b})
	}
	counts := step(p, 1, series)
	if counts[0] != 5 {
		t.Fatalf("first decision: %d replicas, want 5 at once", counts[0])
	}
	// The backlog is gone at 20 s; the count holds for DownCooldown (30 s).
	for i, s := range series {
		switch {
		case s[0] < 50 && counts[i] != 5:
			t.Fatalf("at %vs: %d replicas, want 5 until the cooldown has passed (%v)", s[0], counts[i], counts)
		case s[0] >= 50 && counts[i] != 1:
			t.Fatalf("at %vs: %d replicas, want 1 (%v)", s[0], counts[i], counts)
		}
	}
}

// A short dip below the band restarts the wait: a scale down needs the
// whole cooldown of sufficing fewer replicas.
func TestDipResetsTheDownWindow(t *testing.T) {
	p := testPolicy()
	series := [][2]float64{{0, 2500}, {5, 0}, {20, 0}, {25, 2500}, {30, 0}, {55, 0}, {60, 0}}
	got := step(p, 3, series)
	want := []int{3, 3, 3, 3, 3, 3, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replicas %v, want %v", got, want)
		}
	}
}

func TestScaleToZeroAndWake(t *testing.T) {
	p := testPolicy()
	p.Min = 0
	series := [][2]float64{{0, 0}, {30, 0}, {35, 0}, {36, 3}, {37, 0}}
	got := step(p, 1, series)
	want := []int{1, 0, 0, 1, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replicas %v, want %v", got, want)
		}
	}
}

func TestDrainEstimate(t *testing.T) {
	p := testPolicy()
	d, _ := p.Decide(Inputs{Backlog: 3000, Rate: 100, Current: 4}, State{}, t0)
	if d.Action != ActionHold || d.Drain != 7.5 {
		t.Fatalf("%s, drain %v s, want a hold and 7.5 s", d.Action, d.Drain)
	}
	// At the count decided: 3000 items on 3 workers.
	if d, _ := p.Decide(Inputs{Backlog: 3000, Rate: 100, Current: 1}, State{}, t0); d.Replicas != 3 || d.Drain != 10 {
		t.Fatalf("drain %v s at %d replicas, want 10 s at 3", d.Drain, d.Replicas)
	}
	if !math.IsInf(drain(1, 100, 0), 1) {
		t.Fatal("drain with no worker is not +Inf")
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, f := range []func(*Policy){
		func(p *Policy) { p.Min = -1 },
		func(p *Policy) { p.Max = 0; p.Min = 0 },
		func(p *Policy) { p.Min = 6 },
		func(p *Policy) { p.TargetDrain = 0 },
		func(p *Policy) { p.AssumedRate = 0 },
		func(p *Policy) { p.DeadBand = 1 },
		func(p *Policy) { p.DownCooldown = -1 },
	} {
		p := testPolicy()
		f(&p)
		if p.validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
