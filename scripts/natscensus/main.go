// Command natscensus counts the messages published on a NATS server by
// subject, for a while, as a core subscriber to ">" sees them: what a job
// sends through NATS per chunk, by kind (JetStream API requests, stores,
// direct gets, acks, replies). Subject tokens that name one job, chunk or
// inbox (longer than 12 bytes, or under _INBOX) are folded into "*", and
// each line is a subject pattern with its messages and bytes.
//
//	go run ./scripts/natscensus -url nats://127.0.0.1:15222 -for 10s
//
// A subscriber to ">" makes the server publish JetStream's API advisories
// ($JS.EVENT.ADVISORY.API), which it does not without one: leave them out
// of what a chunk costs.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "natscensus:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", nats.DefaultURL, "NATS server")
	d := flag.Duration("for", 10*time.Second, "how long to count")
	flag.Parse()
	nc, err := nats.Connect(*url, nats.Name("natscensus"))
	if err != nil {
		return fmt.Errorf("connect %s: %w", *url, err)
	}
	defer nc.Close()
	var c census
	if _, err := nc.Subscribe(">", c.add); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	time.Sleep(*d)
	c.print()
	return nil
}

// census is the messages and bytes seen per subject pattern.
type census struct {
	mu    sync.Mutex
	msgs  map[string]int
	bytes map[string]int
}

func (c *census) add(m *nats.Msg) {
	k := pattern(m.Subject)
	if m.Reply != "" {
		k += " (reply " + pattern(m.Reply) + ")"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.msgs == nil {
		c.msgs, c.bytes = map[string]int{}, map[string]int{}
	}
	c.msgs[k]++
	c.bytes[k] += len(m.Data)
}

func (c *census) print() {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c.msgs[keys[i]] > c.msgs[keys[j]] })
	for _, k := range keys {
		fmt.Printf("%8d %11d  %s\n", c.msgs[k], c.bytes[k], k)
	}
}

// pattern folds the tokens of subject that name one thing into "*" (a
// long one, such as a job's id, and the numbers after it: its chunk and
// part), and the tokens past the sixth into "...".
func pattern(subject string) string {
	t := strings.Split(subject, ".")
	folded := false
	for i, x := range t {
		if len(x) > 12 || (i > 0 && t[0] == "_INBOX") || (folded && isNumber(x)) {
			t[i], folded = "*", true
		}
	}
	if len(t) > 6 {
		t = append(t[:6], "...")
	}
	return strings.Join(t, ".")
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
