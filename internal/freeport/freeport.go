// Package freeport hands tests loopback ports for servers that must know
// their peers' ports before any of them binds.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
)

// Port is a loopback port nothing listens on now, for a server that
// must know its peers' ports before any of them binds (a cluster's
// routes). It is taken below the kernel's ephemeral range and never handed
// out twice in the process: a port from that range (what listening on :0
// gives) can become, between the check and the bind, the source port of
// any outgoing connection, which made a CI run's server fail to bind.
func Port(tb testing.TB) int {
	tb.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	low := ephemeralLow()
	for range 1000 {
		port := portFloor + rand.IntN(low-portFloor)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = l.Close()
		portsGiven[port] = true
		return port
	}
	tb.Fatalf("no free port in [%d, %d)", portFloor, low)
	return 0
}

// portFloor is the lowest port Port hands out.
const portFloor = 20000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo <= portFloor+100 {
		return 32768
	}
	return lo
}
