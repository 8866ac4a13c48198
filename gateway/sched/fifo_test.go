package sched

import (
	"slices"
	"testing"
	"time"
)

// at is a job of chunks chunks submitted at second sec.
func at(id, tenant string, sec, chunks int, prio string) *job {
	j := newJob(id, tenant, chunks, prio)
	j.created = time.Unix(int64(sec), 0)
	return j
}

// FIFO serves jobs whole, one after the other, in submission order,
// whatever their tenant, weight, priority or the order they were entered
// in (a new leader loads them in any order).
func TestFIFOOrder(t *testing.T) {
	heavy := at("h", "B", 3, 2, PriorityHigh)
	heavy.weight = 100
	cases := []struct {
		name  string
		jobs  []*job
		picks int
		want  []string
	}{
		{"one job", []*job{at("a", "A", 1, 3, PriorityNormal)}, 5, []string{"a", "a", "a"}},
		{"submission order, entered backwards",
			[]*job{at("c", "A", 3, 1, PriorityNormal), at("b", "B", 2, 2, PriorityNormal), at("a", "A", 1, 2, PriorityNormal)},
			5, []string{"a", "a", "b", "b", "c"}},
		{"a small job behind a large one waits for all of it",
			[]*job{at("big", "A", 1, 4, PriorityNormal), at("small", "B", 2, 1, PriorityNormal)},
			5, []string{"big", "big", "big", "big", "small"}},
		{"priority and weight do not count",
			[]*job{at("low", "A", 1, 2, PriorityLow), heavy},
			4, []string{"low", "low", "h", "h"}},
		{"same time: by id",
			[]*job{at("y", "A", 1, 1, PriorityNormal), at("x", "B", 1, 1, PriorityNormal)},
			2, []string{"x", "y"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := newOrder(PolicyFIFO)
			for _, j := range c.jobs {
				q.add(j)
			}
			if got := drainOrder(q, c.picks); !slices.Equal(got, c.want) {
				t.Fatalf("served %v, want %v", got, c.want)
			}
		})
	}
}

// drainOrder picks up to n chunks of q and returns which job each went to.
func drainOrder(q order, n int) []string {
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

// Stopped jobs and jobs with nothing readable yet are passed over; a chunk
// to send again waits for its job's turn; ahead counts everything not sent
// of the jobs submitted before.
func TestFIFOPendingAheadRemove(t *testing.T) {
	a, b, c := at("a", "A", 1, 4, PriorityNormal), at("b", "B", 2, 2, PriorityNormal), at("c", "A", 3, 2, PriorityNormal)
	q := newOrder(PolicyFIFO)
	for _, j := range []*job{a, b, c} {
		q.add(j)
	}
	cases := []struct {
		name  string
		setup func()
		picks int
		want  []string
		ahead map[*job]int
	}{
		{"ahead at the start", func() {}, 0, nil, map[*job]int{a: 0, b: 4 * 256, c: 6 * 256}},
		{"a dataset not read yet lets the next go", func() { a.chunks = 0 }, 1, []string{"b"}, map[*job]int{c: 1 * 256}},
		{"read, it goes first again", func() { a.chunks = 4 }, 2, []string{"a", "a"}, map[*job]int{c: 2*256 + 256}},
		{"a chunk to send again", func() { b.redo = append(b.redo, 0) }, 1, []string{"a"}, nil},
		{"a stopped job is passed over", func() { a.stopped = true }, 3, []string{"b", "b", "c"}, map[*job]int{c: 0}},
	}
	for _, tc := range cases {
		tc.setup()
		if got := drainOrder(q, tc.picks); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: served %v, want %v", tc.name, got, tc.want)
		}
		for j, want := range tc.ahead {
			if n := q.ahead(j); n != want {
				t.Errorf("%s: ahead of %s = %d, want %d", tc.name, j.id, n, want)
			}
		}
	}
	for _, j := range []*job{b, a, c} {
		q.remove(j)
	}
	if !q.empty() || len(q.jobs()) != 0 {
		t.Fatalf("jobs left: %v", q.jobs())
	}
}

// The policy setting: fair by default, fifo on demand, anything else an
// error naming it.
func TestPolicyConfig(t *testing.T) {
	cases := []struct {
		policy string
		ok     bool
		fifo   bool
	}{
		{"", true, false}, {PolicyFair, true, false}, {PolicyFIFO, true, true}, {"FIFO", false, false}, {"lifo", false, false},
	}
	for _, c := range cases {
		err := Config{Policy: c.policy}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("policy %q: err %v, want ok %v", c.policy, err, c.ok)
		}
		if !c.ok {
			continue
		}
		_, isFIFO := newOrder(c.policy).(*fifoQueue)
		if isFIFO != c.fifo {
			t.Errorf("policy %q: fifo %v, want %v", c.policy, isFIFO, c.fifo)
		}
	}
}
