package freeport

import (
	"fmt"
	"net"
	"testing"
)

// TestPort: each port is below the ephemeral range, never handed out
// twice, and free to bind.
func TestPort(t *testing.T) {
	low, seen := ephemeralLow(), map[int]bool{}
	for range 200 {
		p := Port(t)
		if p < portFloor || p >= low || seen[p] {
			t.Fatalf("port %d: want a new one in [%d, %d)", p, portFloor, low)
		}
		seen[p] = true
	}
	for p := range seen {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		_ = l.Close()
	}
}
