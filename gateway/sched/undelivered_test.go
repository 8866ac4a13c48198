package sched

import (
	"testing"
	"time"
)

// Tickets sent count as waiting until the consumer has delivered past
// them, or for unseenFor at most.
func TestUndelivered(t *testing.T) {
	now := time.Now()
	q := &workQueue{unseen: []sentTicket{{10, now}, {11, now}, {12, now}, {5, now.Add(-2 * unseenFor)}, {13, now.Add(-2 * unseenFor)}}}
	if n := q.undelivered(10); n != 2 {
		t.Fatalf("after 10 delivered: %d waiting, want 2 (11, 12; 13 too old)", n)
	}
	if n := q.undelivered(12); n != 0 || len(q.unseen) != 0 {
		t.Fatalf("after 12 delivered: %d waiting, %v kept", n, q.unseen)
	}
}
