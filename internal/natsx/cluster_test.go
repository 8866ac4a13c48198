package natsx

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/freeport"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// cluster is an in-process three-server JetStream cluster on 127.0.0.1.
type cluster struct {
	servers []*server.Server
}

// freePorts are n ports for a cluster (known up front: every server
// routes to all three).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freeport.Port(t)
	}
	return ports
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	ports := freePorts(t, n)
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	c := &cluster{}
	for i, p := range ports {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster:    server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: p},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		c.servers = append(c.servers, s)
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	for _, s := range c.servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("%s not ready", s.Name())
		}
	}
	return c
}

// url is the comma-separated client URL list, as NATS_URL takes it.
func (c *cluster) url() string {
	var urls []string
	for _, s := range c.servers {
		urls = append(urls, s.ClientURL())
	}
	return strings.Join(urls, ",")
}

// kill shuts the named server down. In-process that is a graceful shutdown
// (the server hands its leaderships over first); scripts/docker-ha-test.sh
// covers a SIGKILL, which leaves the others to elect a leader.
func (c *cluster) kill(t *testing.T, name string) {
	t.Helper()
	for _, s := range c.servers {
		if s.Name() == name {
			s.Shutdown()
			s.WaitForShutdown()
			return
		}
	}
	t.Fatalf("no server %q", name)
}

// eventually retries f every 100 ms until it succeeds or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func(ctx context.Context) error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < d {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = f(ctx)
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not after %v: %v", what, d, err)
	return 0
}

// replicated checks that stream name has want replicas, all current.
func replicated(ctx context.Context, js jetstream.JetStream, name string, want int) error {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return err
	}
	info := st.CachedInfo()
	if info.Config.Replicas != want {
		return fmt.Errorf("%s: configured replicas %d, want %d", name, info.Config.Replicas, want)
	}
	return current(name, info.Cluster, want)
}

// current checks that a group has a leader and want-1 other members, none
// pending or behind, and no move in progress.
func current(name string, ci *jetstream.ClusterInfo, want int) error {
	if ci == nil || ci.Leader == "" {
		return fmt.Errorf("%s: no leader", name)
	}
	if ci.Desired != nil {
		return fmt.Errorf("%s: moving to %d copies", name, len(ci.Desired.Replicas))
	}
	n := 1
	for _, p := range ci.Replicas {
		if p.Current && !p.Offline && !p.Pending {
			n++
		}
	}
	if n != want {
		return fmt.Errorf("%s: %d current copies (leader %s), want %d", name, n, ci.Leader, want)
	}
	return nil
}

// allStreams are the streams Setup declares, buckets included.
func allStreams() []string {
	names := []string{wire.StreamInfer, wire.StreamResults, wire.StreamDeadLetter, wire.StreamUploads}
	for _, b := range []string{wire.BucketJobs, wire.BucketCancel, wire.BucketIdempotency, wire.BucketWorkers,
		wire.BucketModels, wire.BucketJobIndex, wire.BucketActive, wire.BucketUploads, wire.BucketQuotas, wire.BucketOutputs, wire.BucketAliases, wire.BucketPushes} {
		names = append(names, "KV_"+b)
	}
	return append(names, "OBJ_"+wire.BucketRegistry)
}

func clusterClient(t *testing.T, c *cluster) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := Connect(ctx, ConnConfig{URL: c.url(), Name: "cluster-test"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// JetStream answers once the cluster has elected its meta leader.
	eventually(t, 30*time.Second, "jetstream meta leader", func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
	return nc, js
}

// An older deployment's R1 streams and buckets become R3 when Setup runs
// with Replicas 3, and so does a durable consumer declared before; chunks,
// results and job records acknowledged before the stream leader dies are
// all read back from the two servers left, which still take writes.
func TestClusterSetupMovesToR3AndSurvivesLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server cluster and waits for elections")
	}
	c := startCluster(t, 3)
	_, js := clusterClient(t, c)
	ctx := context.Background()
	subj := wire.InferSubject(wire.PriorityBatch, "digits", "1")
	if _, err := Setup(ctx, js, StreamConfig{Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	for _, name := range allStreams() {
		eventually(t, 10*time.Second, name+" R1", func(ctx context.Context) error { return replicated(ctx, js, name, 1) })
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
		Durable: "batch_digits_1", FilterSubject: subj, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}

	var b *Buckets
	start := time.Now()
	took := eventually(t, 30*time.Second, "setup R3", func(ctx context.Context) (err error) {
		b, err = Setup(ctx, js, StreamConfig{Replicas: 3})
		return err
	})
	for _, name := range allStreams() {
		eventually(t, 30*time.Second, name+" R3", func(ctx context.Context) error { return replicated(ctx, js, name, 3) })
	}
	// Until the consumer's new copies are members of its group, losing its
	// leader would stop it: wait for the move to finish.
	eventually(t, 30*time.Second, "consumer R3", func(ctx context.Context) error { return consumerReplicas(ctx, cons, 3) })
	t.Logf("R1 -> R3: Setup took %v; streams, buckets and the consumer current %v after it",
		took.Round(time.Millisecond), (time.Since(start) - took).Round(time.Millisecond))

	const job, chunks = "job-ha", 50
	publishJob(t, js, b, subj, job, chunks)
	leader := streamLeader(t, js, wire.StreamInfer)
	killed := time.Now()
	c.kill(t, leader)
	t.Logf("killed %s, the leader of %s", leader, wire.StreamInfer)

	resumed := eventually(t, 30*time.Second, "write after the leader's loss", func(ctx context.Context) error {
		_, err := js.Publish(ctx, subj+".after", nil)
		return err
	})
	newLeader := streamLeader(t, js, wire.StreamInfer)
	t.Logf("new leader %s; writes resumed %v after the kill", newLeader, resumed.Round(time.Millisecond))
	if newLeader == leader {
		t.Fatalf("leader still %s", leader)
	}
	readBack(t, js, cons, b, job, chunks)
	t.Logf("read back %d chunks, results and the job record %v after the kill", chunks, time.Since(killed).Round(time.Millisecond))
}

func consumerReplicas(ctx context.Context, cons jetstream.Consumer, want int) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	return current("consumer "+info.Name, info.Cluster, want)
}

func streamLeader(t *testing.T, js jetstream.JetStream, name string) string {
	t.Helper()
	var leader string
	eventually(t, 30*time.Second, name+" leader", func(ctx context.Context) error {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return err
		}
		if ci := st.CachedInfo().Cluster; ci != nil && ci.Leader != "" {
			leader = ci.Leader
			return nil
		}
		return fmt.Errorf("%s: no leader", name)
	})
	return leader
}

// publishJob queues a job's chunks, stores a result for each and the job
// record: every write acknowledged, hence on a majority of the servers.
func publishJob(t *testing.T, js jetstream.JetStream, b *Buckets, subj, job string, chunks int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < chunks; i++ {
		h := wire.ChunkHeader{Job: job, Chunk: i, Start: i * 10, Count: 10}
		m := &nats.Msg{Subject: subj, Header: h.Header(), Data: []byte(fmt.Sprintf(`{"chunk":%d}`, i))}
		if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(wire.ChunkMsgID(job, i)), jetstream.WithExpectStream(wire.StreamInfer)); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if _, err := js.Publish(ctx, wire.ResultSubject(job, i), []byte(fmt.Sprintf(`{"chunk":%d,"done":10}`, i))); err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
	}
	if _, err := b.Jobs.Put(ctx, job, []byte(`{"state":"running"}`)); err != nil {
		t.Fatal(err)
	}
}

// readBack fetches every chunk once through the durable consumer and reads
// every result and the job record.
func readBack(t *testing.T, js jetstream.JetStream, cons jetstream.Consumer, b *Buckets, job string, chunks int) {
	t.Helper()
	seen := map[int]int{}
	eventually(t, 30*time.Second, "fetch the chunks", func(ctx context.Context) error {
		batch, err := cons.Fetch(chunks, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			h, err := wire.ParseChunkHeader(m.Headers())
			if err != nil || h.Job != job {
				t.Fatalf("chunk %v: %v", h, err)
			}
			seen[h.Chunk]++
			_ = m.Ack()
		}
		if len(seen) < chunks {
			return fmt.Errorf("%d of %d chunks (%v)", len(seen), chunks, batch.Error())
		}
		return nil
	})
	for i := 0; i < chunks; i++ {
		if seen[i] != 1 {
			t.Errorf("chunk %d delivered %d times", i, seen[i])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := js.Stream(ctx, wire.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < chunks; i++ {
		if _, err := res.GetLastMsgForSubject(ctx, wire.ResultSubject(job, i)); err != nil {
			t.Errorf("result %d: %v", i, err)
		}
	}
	if e, err := b.Jobs.Get(ctx, job); err != nil || string(e.Value()) != `{"state":"running"}` {
		t.Errorf("job record: %v", err)
	}
}

func TestStreamConfigValidate(t *testing.T) {
	for n, ok := range map[int]bool{-1: false, 0: false, 1: true, 3: true, 5: true, 6: false} {
		if err := (StreamConfig{Replicas: n}).Validate(); (err == nil) != ok {
			t.Errorf("replicas %d: %v", n, err)
		}
	}
	// Setup fills in the default (0 -> 1) but refuses what is out of range.
	if _, err := Setup(context.Background(), nil, StreamConfig{Replicas: 6}); err == nil || !strings.Contains(err.Error(), "replicas 6") {
		t.Errorf("Setup with replicas 6: %v", err)
	}
}
