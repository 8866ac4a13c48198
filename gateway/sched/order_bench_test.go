package sched

import (
	"fmt"
	"testing"
)

// BenchmarkOrderNext is the leader's work per chunk sent, fair share
// against FIFO, with 1 to 1000 active jobs of up to 10 tenants: the
// in-process part of make bench's cost rows (divide by the chunk's 256
// items for the cost per item).
func BenchmarkOrderNext(b *testing.B) {
	for _, policy := range []string{PolicyFair, PolicyFIFO} {
		for _, jobs := range []int{1, 10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/jobs=%d", policy, jobs), func(b *testing.B) {
				q := newOrder(policy)
				for i := range jobs {
					q.add(at(fmt.Sprintf("j%04d", i), fmt.Sprintf("t%d", i%10), i, 1<<30, PriorityNormal))
				}
				b.ReportAllocs()
				for b.Loop() {
					q.next().take()
				}
			})
		}
	}
}
