package sched

import (
	"fmt"
	"testing"
)

func newJob(id, tenant string, chunks int, prio string) *job {
	return &job{id: id, tenant: tenant, rank: priorityRank(prio), weight: 1, chunkSize: 256, total: chunks * 256, chunks: chunks}
}

// drain picks n chunks and returns which job each went to.
func drain(q *fairQueue, n int) []string {
	var out []string
	for range n {
		j := q.next()
		if j == nil {
			break
		}
		out = append(out, j.id)
		j.take()
	}
	return out
}

func count(picks []string, id string) int {
	n := 0
	for _, p := range picks {
		if p == id {
			n++
		}
	}
	return n
}

// A small job of another tenant, added behind a backlog, goes within a
// round, however large the backlog.
func TestFairShareSmallJobBehindBacklog(t *testing.T) {
	q := newFairQueue()
	for i := range 8 {
		q.add(newJob(fmt.Sprintf("a%d", i), "A", 400, PriorityNormal))
	}
	drain(q, 1000)
	b := newJob("b", "B", 1, PriorityNormal)
	q.add(b)
	if got := drain(q, 2); count(got, "b") != 1 {
		t.Fatalf("B's chunk not among the next two: %v", got)
	}
}

// A newcomer joins at the current level and wins the tie: a tenant whose
// name sorts last goes before the backlog's next chunk, and so does a
// tenant's own new job before its running one of the same priority.
func TestFairShareNewcomerWinsTies(t *testing.T) {
	q := newFairQueue()
	q.add(newJob("a1", "A", 400, PriorityNormal))
	drain(q, 10)
	q.add(newJob("z", "Z", 1, PriorityNormal))
	if got := drain(q, 1); fmt.Sprint(got) != "[z]" {
		t.Fatalf("next %v, want the newcomer z", got)
	}
	q.add(newJob("a2", "A", 4, PriorityNormal))
	if got := drain(q, 1); fmt.Sprint(got) != "[a2]" {
		t.Fatalf("next %v, want the tenant's new job a2", got)
	}
	if got := drain(q, 5); count(got, "a1") != 3 || count(got, "a2") != 2 { // a1 catches up, then turns
		t.Fatalf("then %v, want its jobs in turn", got)
	}
}

// Tenants share in proportion to their weights; a tenant's jobs of one
// priority share equally; a better priority goes first.
func TestFairShareWeightsJobsPriorities(t *testing.T) {
	q := newFairQueue()
	a1, a2 := newJob("a1", "A", 1000, PriorityNormal), newJob("a2", "A", 1000, PriorityNormal)
	a1.weight, a2.weight = 2, 2
	q.add(a1)
	q.add(a2)
	q.add(newJob("b", "B", 1000, PriorityNormal))
	got := drain(q, 300)
	if a, b := count(got, "a1")+count(got, "a2"), count(got, "b"); a != 200 || b != 100 {
		t.Fatalf("weights 2:1 gave %d:%d", a, b)
	}
	if d := count(got, "a1") - count(got, "a2"); d < -1 || d > 1 {
		t.Fatalf("a tenant's two jobs: %d vs %d", count(got, "a1"), count(got, "a2"))
	}
	hi := newJob("hi", "B", 5, PriorityHigh)
	hi.weight = 1
	q.add(hi)
	got = drain(q, 30)
	for _, id := range got {
		if id == "b" && count(got, "hi") < 5 {
			t.Fatalf("B's normal job served before its high one: %v", got)
		}
	}
	if count(got, "hi") != 5 {
		t.Fatalf("high-priority job: %v", got)
	}
}

// A tenant that was idle gets no credit for the time away: back, it shares
// from then on, it does not take everything until it caught up.
func TestFairShareNoCreditWhileIdle(t *testing.T) {
	q := newFairQueue()
	a := newJob("a", "A", 10000, PriorityNormal)
	b := newJob("b", "B", 10, PriorityNormal)
	q.add(a)
	q.add(b)
	drain(q, 1000) // b ends after its 10 chunks; a goes on alone
	b2 := newJob("b2", "B", 1000, PriorityNormal)
	q.add(b2)
	got := drain(q, 100)
	if n := count(got, "b2"); n < 45 || n > 55 {
		t.Fatalf("back from idle, B got %d of 100", n)
	}
	// a job of a tenant whose chunks were not readable yet (a dataset) joins
	// its peers at their level, not from zero
	a2 := newJob("a2", "A", 1000, PriorityNormal)
	a2.chunks = 0
	q.add(a2)
	drain(q, 200)
	a2.chunks = 1000
	got = drain(q, 100)
	if n := count(got, "a2"); n > 30 {
		t.Fatalf("a job readable late took %d of A's 50", n)
	}
}

// Stopped jobs are not served; ahead estimates a queued job's wait.
func TestFairShareStoppedAndAhead(t *testing.T) {
	q := newFairQueue()
	a := newJob("a", "A", 100, PriorityNormal)
	hi := newJob("hi", "A", 4, PriorityHigh)
	b := newJob("b", "B", 100, PriorityNormal)
	q.add(a)
	q.add(hi)
	q.add(b)
	if n := q.ahead(a); n != 4*256+256 {
		t.Fatalf("ahead of a: %d", n)
	}
	b.stopped = true
	if got := drain(q, 10); count(got, "b") != 0 {
		t.Fatalf("a stopped job was served: %v", got)
	}
	q.remove(b)
	q.remove(a)
	q.remove(hi)
	if len(q.tenants) != 0 {
		t.Fatalf("tenants left: %v", q.tenants)
	}
}

// peek names the job next picks, and changes nothing: the picks with a
// peek before each are the picks without, through tenants and jobs going
// idle and coming back, weights and priorities.
func TestFairPeekIsNext(t *testing.T) {
	build := func() (*fairQueue, []*job) {
		q := newFairQueue()
		js := []*job{newJob("a1", "A", 30, PriorityNormal), newJob("a2", "A", 5, PriorityHigh), newJob("b", "B", 40, PriorityNormal),
			newJob("c", "C", 3, PriorityNormal)}
		js[2].weight = 3
		for _, j := range js {
			q.add(j)
		}
		return q, js
	}
	run := func(peek bool) []string {
		q, js := build()
		var out []string
		for i := range 120 {
			if i == 40 { // a dataset read further: c has more to send after idling
				js[3].chunks += 10
			}
			var want *job
			if peek {
				want = q.peek()
			}
			j := q.next()
			if peek && want != j {
				t.Fatalf("pick %d: peek said %v, next picked %v", i, want, j)
			}
			if j == nil {
				break
			}
			out = append(out, j.id)
			j.take()
		}
		return out
	}
	if a, b := fmt.Sprint(run(false)), fmt.Sprint(run(true)); a != b {
		t.Fatalf("picks changed by peeking:\n%s\n%s", a, b)
	}
}

// fresh is a job none of whose chunks was sent.
func TestJobFresh(t *testing.T) {
	j := newJob("a", "A", 3, PriorityNormal)
	if !j.fresh() {
		t.Fatal("a new job is not fresh")
	}
	j.take()
	if j.fresh() {
		t.Fatal("a job with a chunk sent is fresh")
	}
}
