package ws

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/reqbody"
)

// Messages hold their bytes of the decode budget from the moment they are
// read until they are answered: one that finds the budget taken is
// dropped with busy, the connection stays, and the whole budget comes
// back once the work is done and the connection gone. The send budget too.
func TestSessionDecodeAndSendBudgets(t *testing.T) {
	b := &fakeBackend{release: make(chan struct{})}
	cfg := testConfig()
	cfg.MaxMessageBytes = 256 << 10
	h, dial := serve(t, b, cfg)
	budget := reqbody.NewBudget(2*readQuantum, 50*time.Millisecond, nil)
	h.Budget = budget
	c := dial()
	inputs := "[" + strings.TrimSuffix(strings.Repeat("[1],", 9000), ",") + "]" // ~36 KB: one quantum each
	for i := 0; i < 3; i++ {
		c.send(fmt.Sprintf(`{"type":"predict","ref":"r%d","model":"m","inputs":%s}`, i, inputs))
	}
	if f := c.read(); f.Type != api.TypeError || f.Code != api.CodeBusy {
		t.Fatalf("third prediction with the budget held by two: %s", f.raw)
	}
	close(b.release)
	for i := 0; i < 2; i++ {
		if f := c.read(); f.Type != api.TypePrediction {
			t.Fatalf("held predictions: %s", f.raw)
		}
	}
	c.send(`{"type":"ping","ref":"after"}`)
	if f := c.read(); f.Type != api.TypePong {
		t.Fatalf("after: %s", f.raw)
	}
	_ = c.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := budget.Idle() && h.sendBudget.TryAcquire(cfg.SendBudgetBytes)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("budgets not given back whole")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
