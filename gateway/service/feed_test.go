package service

import (
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
)

// TestJobRecordsShareTheFeed: handlers given the job records' writes get
// each, and one stopped gets no more while the others still do.
func TestJobRecordsShareTheFeed(t *testing.T) {
	e := start(t, testConfig())
	var a, b atomic.Int64
	stopA, err := e.svc.JobRecords(func(*nats.Msg) { a.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	stopB, err := e.svc.JobRecords(func(*nats.Msg) { b.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	subject := "$KV." + wire.BucketJobs + ".jfeedtest"
	publish := func() {
		t.Helper()
		if err := e.in.NC.Publish(subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: a %d, b %d", what, a.Load(), b.Load())
			}
		}
	}
	publish()
	waitFor("both handlers given the write", func() bool { return a.Load() == 1 && b.Load() == 1 })
	stopA()
	stopA() // a second stop changes nothing
	publish()
	waitFor("the handler left stopped, the other given the write", func() bool { return b.Load() == 2 })
	if a.Load() != 1 {
		t.Errorf("the stopped handler got %d writes, want 1", a.Load())
	}
}
