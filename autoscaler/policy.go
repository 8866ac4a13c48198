package autoscaler

import (
	"fmt"
	"math"
	"time"

	"batchinfer/internal/config"
)

// Policy says how many workers the backlog needs.
type Policy struct {
	// Min and Max bound the replica count. Min 0 scales to zero when there
	// is nothing to do; the first queued item wakes one worker up.
	Min, Max int
	// TargetDrain is the time the backlog should drain within.
	TargetDrain time.Duration
	// AssumedRate is the items/s of one worker until one has measured its
	// own (and none was measured since the autoscaler started).
	AssumedRate float64
	// UpCooldown is the least time between a change of the replica count
	// and a scale up: new workers need time to start and to show in the
	// rate before more are added.
	UpCooldown time.Duration
	// DownCooldown is how long fewer replicas must keep sufficing before
	// the count goes down: scaling down is slower than up.
	DownCooldown time.Duration
	// DeadBand is the headroom a scale down keeps: it goes down only to a
	// count that would drain (1+DeadBand) times the backlog in time, so a
	// backlog hovering at a boundary does not move the count either way.
	DeadBand float64
}

func (p Policy) validate() error {
	switch {
	case p.Min < 0 || p.Max < 1 || p.Max < p.Min:
		return fmt.Errorf("%w: autoscaler: need 0 <= min <= max and max >= 1 (min %d, max %d)", config.ErrInvalid, p.Min, p.Max)
	case p.TargetDrain <= 0 || !(p.AssumedRate > 0):
		return fmt.Errorf("%w: autoscaler: target drain time and assumed rate must be positive", config.ErrInvalid)
	case p.UpCooldown < 0 || p.DownCooldown < 0 || p.DeadBand < 0 || p.DeadBand >= 1:
		return fmt.Errorf("%w: autoscaler: cooldowns must not be negative, the dead band must be in [0, 1)", config.ErrInvalid)
	}
	return nil
}

// Inputs are what one decision is taken on.
type Inputs struct {
	// Backlog is the items queued or in flight.
	Backlog int64
	// Rate is the measured items/s of one worker; 0 if none has measured
	// (the policy's AssumedRate is used).
	Rate float64
	// Current is the service's replica count now.
	Current int
}

// State is what the policy remembers between decisions.
type State struct {
	// LastChange is when the replica count was last changed.
	LastChange time.Time
	// BelowSince is when fewer replicas started to suffice (zero: they do
	// not), and DownTo the most replicas needed since then: the count a
	// scale down goes to.
	BelowSince time.Time
	DownTo     int
}

// Actions of a decision (the action label of autoscaler_decisions_total).
const (
	ActionUp   = "up"
	ActionDown = "down"
	ActionWake = "wake"
	ActionHold = "hold"
)

// Decision is the outcome of Decide.
type Decision struct {
	Action string
	// Replicas is the count to set (Current for a hold).
	Replicas int
	// Desired is what the backlog needs now, clamped to Min..Max.
	Desired int
	// Rate is the items/s per worker used.
	Rate float64
	// Drain is how many seconds the backlog takes at Replicas workers
	// (+Inf with none and a backlog).
	Drain float64
	// Reason says why, in a few constant words.
	Reason string
}

// Decide is the policy: a pure function of the inputs, the state and the
// time, returning the decision and the new state.
func (p Policy) Decide(in Inputs, st State, now time.Time) (Decision, State) {
	rate := in.Rate
	if !(rate > 0) {
		rate = p.AssumedRate
	}
	need := float64(in.Backlog) / (rate * p.TargetDrain.Seconds())
	d := Decision{Action: ActionHold, Replicas: in.Current, Desired: p.clamp(need), Rate: rate}
	d, st = p.decide(d, st, now, in, need)
	d.Drain = drain(in.Backlog, rate, d.Replicas)
	return d, st
}

func (p Policy) decide(d Decision, st State, now time.Time, in Inputs, need float64) (Decision, State) {
	switch {
	case in.Current == 0 && in.Backlog > 0:
		return p.change(d, st, now, ActionWake, max(d.Desired, 1), "backlog with no worker")
	case in.Current < p.Min:
		return p.change(d, st, now, ActionUp, p.Min, "below the minimum")
	case in.Current > p.Max:
		return p.change(d, st, now, ActionDown, p.Max, "above the maximum")
	case d.Desired > in.Current:
		st.BelowSince, st.DownTo = time.Time{}, 0
		if now.Sub(st.LastChange) < p.UpCooldown {
			d.Reason = "scale-up cooldown"
			return d, st
		}
		return p.change(d, st, now, ActionUp, d.Desired, "backlog would not drain in time")
	}
	return p.considerDown(d, st, now, in.Current, need)
}

// considerDown decides when Desired <= Current: a scale down once fewer
// replicas, with the dead band's headroom, have sufficed for DownCooldown.
func (p Policy) considerDown(d Decision, st State, now time.Time, current int, need float64) (Decision, State) {
	down := p.clamp(need * (1 + p.DeadBand))
	if down >= current {
		st.BelowSince, st.DownTo = time.Time{}, 0
		d.Reason = "replicas match the backlog"
		return d, st
	}
	if st.BelowSince.IsZero() {
		st.BelowSince, st.DownTo = now, down
	}
	st.DownTo = max(st.DownTo, down)
	if now.Sub(st.BelowSince) < p.DownCooldown {
		d.Reason = "scale-down cooldown"
		return d, st
	}
	return p.change(d, st, now, ActionDown, st.DownTo, "fewer replicas sufficed for the cooldown")
}

func (p Policy) change(d Decision, st State, now time.Time, action string, to int, reason string) (Decision, State) {
	d.Action, d.Replicas, d.Reason = action, to, reason
	return d, State{LastChange: now}
}

// clamp is ceil(need) within Min..Max; a need above zero is at least one.
func (p Policy) clamp(need float64) int {
	n := p.Max
	if need < float64(p.Max) {
		n = int(math.Ceil(need))
	}
	return min(max(n, p.Min), p.Max)
}

// drain is the seconds backlog items take at rate per worker on n workers.
func drain(backlog int64, rate float64, n int) float64 {
	switch {
	case backlog <= 0:
		return 0
	case n <= 0:
		return math.Inf(1)
	}
	return float64(backlog) / (rate * float64(n))
}
