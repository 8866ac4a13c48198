// Package service holds the gateway's use cases apart from any transport:
// submit a job, predict, read a job's status, list, cancel, page and stream
// its results, and follow it live from a cursor. The HTTP handlers and the
// WebSocket sessions of package gateway call the same Service. Its state
// that matters lives in JetStream (package store): a Service can stop and
// another take over without losing anything.
package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/audit"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// natsOpTimeout bounds one request to NATS.
const natsOpTimeout = 10 * time.Second

// Result reads: stored chunk results per direct-get batch, and its byte bound.
const (
	resultBatch      = 64
	resultBatchBytes = 2 << 20
)

// Config are the use cases' limits. Every field must be set (package
// gateway's Config fills the defaults); Validate says which is not.
type Config struct {
	MaxItems         int           // items of one batch job
	MaxSyncItems     int           // items of one synchronous prediction
	MaxImageBytes    int           // one encoded input image
	MaxLineBytes     int           // one NDJSON line
	MaxChunkBytes    int           // one queued chunk
	PublishWindow    int           // bytes of a job's chunks published and not yet acknowledged
	QueueWait        time.Duration // how long a body waits for room in a full input queue
	DefaultChunkSize int           // items per chunk for models whose metadata sets none
	SyncTimeout      time.Duration // default and most a prediction waits
	MinSyncTimeout   time.Duration // least a prediction may ask to wait
	MaxJobsListed    int           // jobs in one listing
	MaxJobsScanned   int           // job records one filtered listing reads
	MaxJobNameBytes  int           // a job's name
	MaxSubscriptions int           // jobs followed at once (subscriptions and result streams)
	ProgressInterval time.Duration // least time between progress events of a follower
	FollowPoll       time.Duration // a follower's reread when no change was announced
	MaxResultReads   int           // result reads in flight
	MaxDownloads     int           // output and errors files served at once (and file indexes built)
	// ResultTTL is how long a finished job's results are kept (its record
	// states it); set from the stream settings.
	ResultTTL time.Duration
	// RecordTTL is how long an expired job's record stays.
	RecordTTL time.Duration
	// MaxAge is the streams' backstop age: the furthest deadline.
	MaxAge time.Duration
	// Readers is how many datasets this gateway reads into jobs at once.
	Readers int
	// MaxImagePixelsFactor bounds an input image's pixels to this many
	// times the model's input's (read from the image's header).
	MaxImagePixelsFactor int
	// MaxModelBacklog bounds the items not done yet of a model version,
	// every tenant's; MaxTenantBacklog those of one tenant on it. A job
	// that would pass either is refused, 429 backlog_full.
	MaxModelBacklog, MaxTenantBacklog int
	// Registry bounds pushes to the model registry.
	Registry RegistryConfig
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = config.ErrInvalid

// Validate reports the first field out of range.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"MaxItems", c.MaxItems > 0}, {"MaxSyncItems", c.MaxSyncItems > 0 && c.MaxSyncItems <= c.MaxItems},
		{"MaxImageBytes", c.MaxImageBytes > 0}, {"MaxLineBytes", c.MaxLineBytes > 0}, {"MaxChunkBytes", c.MaxChunkBytes > 0},
		{"PublishWindow", c.PublishWindow >= c.MaxChunkBytes}, {"QueueWait", c.QueueWait > 0},
		{"DefaultChunkSize", c.DefaultChunkSize > 0}, {"SyncTimeout", c.SyncTimeout > 0},
		{"MinSyncTimeout", c.MinSyncTimeout > 0 && c.MinSyncTimeout <= c.SyncTimeout}, {"MaxJobsListed", c.MaxJobsListed > 0},
		{"MaxJobsScanned", c.MaxJobsScanned > 0}, {"MaxJobNameBytes", c.MaxJobNameBytes > 0},
		{"MaxSubscriptions", c.MaxSubscriptions > 0}, {"ProgressInterval", c.ProgressInterval > 0},
		{"FollowPoll", c.FollowPoll > 0}, {"MaxResultReads", c.MaxResultReads > 0}, {"ResultTTL", c.ResultTTL > 0}, {"RecordTTL", c.RecordTTL > 0}, {"MaxAge", c.MaxAge > 0}, {"Readers", c.Readers > 0},
		{"MaxImagePixelsFactor", c.MaxImagePixelsFactor > 0}, {"MaxDownloads", c.MaxDownloads > 0},
		{"MaxModelBacklog", c.MaxModelBacklog > 0}, {"MaxTenantBacklog", c.MaxTenantBacklog > 0},
	} {
		if !f.ok {
			return fmt.Errorf("%w: %s out of range", ErrConfig, f.name)
		}
	}
	return c.Registry.validate()
}

// Service runs the use cases over one NATS connection.
type Service struct {
	cfg     Config
	id      string // names this gateway (in push claims)
	log     zerolog.Logger
	in      *natsx.Infra
	jobs    *store.Jobs
	quotas  *store.Quotas
	results *store.Results
	inputs  *store.Inputs
	outputs *store.Outputs
	metrics *metrics

	cat     *catalog
	reg     *store.Registry
	inbox   *inbox
	feed    *jobFeed
	reader  *store.ResultReader
	store   *storageGate
	backlog *backlogGate
	queued  *queueView
	letters *store.DeadLetters
	// resolveHook checks submissions' webhooks (UseWebhooks).
	resolveHook WebhookResolver
	// followers counts WebSocket subscriptions and NDJSON result streams;
	// follows the same per tenant, uploads the submissions being decoded.
	followers atomic.Int64
	follows   tenantCounter
	uploads   tenantCounter
	// downloads counts the output files served, indexing their index
	// builds.
	downloads, indexing atomic.Int64
	builds              singleflight.Group
	// pageChunks is the chunks per page of the output indexes it builds.
	pageChunks int
	coalescers

	// Audit records submissions and cancels (both transports).
	Audit *audit.Log
	// Tracer, when set (before Start), makes the spans of submissions,
	// predictions and followers (nil: tracing off).
	Tracer *tracing.Tracer
	// UploadStore, when set (before Start), holds the uploads that dataset
	// jobs read (SubmitUpload).
	UploadStore *store.Uploads
	ingests     *store.Ingests
	readers     *readers

	ctx     context.Context
	cancel  context.CancelFunc
	stop    sync.Once
	expDone chan struct{} // the expirer's end
	// keeperDone is the registry keeper's end (nil until StartKeeper).
	keeperDone chan struct{}
}

// New returns a Service over in; Start it before use.
func New(cfg Config, in *natsx.Infra, reg prometheus.Registerer, log zerolog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, id: nuid.Next(), log: log.With().Str("component", "service").Logger(), in: in,
		jobs: store.NewJobs(in), results: store.NewResults(in.JS, in.Results), inputs: store.NewInputs(in), Audit: audit.Nop(),
		ingests: store.NewIngests(in),
		outputs: store.NewOutputs(in.JS, in.Buckets.Outputs), pageChunks: wire.OutputPageChunks,
		letters: store.NewDeadLetters(in),
	}
	s.quotas = store.NewQuotas(s.jobs)
	s.metrics = newMetrics(reg, s.Stats)
	reg.MustRegister(newClusterCollector(in, s.modelWorkers, s.letters.Count))
	s.store = newStorageGate(s.results.Usage, s.metrics.storageRefused.Inc, s.metrics.storeFill)
	s.backlog = newBacklogGate(cfg.MaxModelBacklog, cfg.MaxTenantBacklog, func(m string) float64 { return s.cat.rate(m, time.Now()) },
		func(bound string) { s.metrics.backlogRefused.WithLabelValues(bound).Inc() })
	return s, nil
}

// modelWorkers is the live workers of each model version (none before
// Start).
func (s *Service) modelWorkers() map[string]int {
	if s.cat == nil {
		return nil
	}
	return s.cat.workersByModel(time.Now())
}

// Start loads the catalogue and opens the subscriptions the use cases
// share; on error nothing is left running.
func (s *Service) Start() (err error) {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	rctx, rcancel := context.WithTimeout(s.ctx, natsOpTimeout)
	defer rcancel()
	if s.reg, err = store.NewRegistry(rctx, s.in); err != nil {
		return err
	}
	s.cat = newCatalog(s.log.With().Str("component", "catalog").Logger())
	if err := s.cat.run(s.ctx, s.in.Buckets.Models, s.in.Buckets.Workers, s.reg, s.in.Epoch); err != nil {
		return fmt.Errorf("catalogue: %w", err)
	}
	if s.inbox, err = newInbox(s.in.NC); err != nil {
		return err
	}
	if s.feed, err = newJobFeed(s.in.NC, func(job string, data []byte) { s.store.record(job, data); s.backlog.record(job, data) }); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(s.ctx, natsOpTimeout)
	defer cancel()
	if err := watchActive(s.ctx, wctx, s.in.Buckets.Active, s.store.applyActive, s.backlog.applyActive); err != nil {
		return err
	}
	s.reader = store.NewResultReader(s.in.NC, s.in.Epoch, s.inbox, store.ResultReadConfig{
		Batch: resultBatch, MaxBytes: resultBatchBytes, Concurrency: s.cfg.MaxResultReads, Timeout: natsOpTimeout,
	})
	if s.queued, err = newQueueView(s.in.NC); err != nil {
		return fmt.Errorf("queue positions: %w", err)
	}
	if err := s.startExpirer(); err != nil {
		return err
	}
	return s.startReaders()
}

// startReaders starts reading datasets (when uploads are served here).
func (s *Service) startReaders() error {
	if s.UploadStore == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, natsOpTimeout)
	defer cancel()
	var cons jetstream.Consumer
	err := natsx.Retry(ctx, func(ctx context.Context) (err error) {
		cons, err = s.ingests.Consumer(ctx, readLease)
		return err
	})
	if err != nil {
		return err
	}
	s.readers = &readers{s: s, cons: cons, slots: make(chan struct{}, s.cfg.Readers), done: make(chan struct{}),
		log: s.log.With().Str("component", "datasets").Logger()}
	go s.readers.run(s.ctx)
	return nil
}

// startExpirer starts acting on the jobs' fired timers.
func (s *Service) startExpirer() error {
	ctx, cancel := context.WithTimeout(s.ctx, natsOpTimeout)
	defer cancel()
	var cons jetstream.Consumer
	err := natsx.Retry(ctx, func(ctx context.Context) (err error) {
		cons, err = store.NewTimers(s.in.JS).Consumer(ctx, timerAckWait)
		return err
	})
	if err != nil {
		return err
	}
	e := &expirer{jobs: s.jobs, results: s.results, outputs: s.outputs, letters: s.letters, recordTTL: s.cfg.RecordTTL, expired: s.metrics.expired.Inc,
		log: s.log.With().Str("component", "expiry").Logger()}
	s.expDone = make(chan struct{})
	go func() {
		defer close(s.expDone)
		e.run(s.ctx, cons)
	}()
	return nil
}

// Stop ends the catalogue watch and the shared subscriptions.
func (s *Service) Stop() {
	s.stop.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		if s.feed != nil {
			s.feed.close()
		}
		if s.inbox != nil {
			s.inbox.close()
		}
		s.queued.close()
		if s.expDone != nil {
			<-s.expDone
		}
		if s.readers != nil {
			<-s.readers.done
		}
		if s.keeperDone != nil {
			<-s.keeperDone
		}
	})
}

// JobRecords gives h every job-record write the service's feed receives
// (a core subscription to $KV.jobs.*, which also sees writes that
// compare-and-set then refused) until stop is called, so that the
// scheduler shares the gateway's one subscription: each write then crosses
// the network to a gateway once. The service must be started.
func (s *Service) JobRecords(h nats.MsgHandler) (stop func(), err error) {
	if s.feed == nil {
		return nil, errors.New("job records: the service is not started")
	}
	return s.feed.share(h), nil
}

// Reconnected wakes every follower: job changes may have been missed while
// the connection was away.
func (s *Service) Reconnected() {
	if s.feed != nil {
		s.feed.wakeAll()
	}
}

// Ready says why the service cannot serve now ("" when it can).
func (s *Service) Ready() string {
	switch {
	case s.in.NC == nil || !s.in.NC.IsConnected():
		return "not connected to NATS"
	case !s.cat.isSynced():
		return "catalogue not loaded"
	case !s.feed.valid() || !s.inbox.valid():
		return "cannot follow jobs: result subscriptions closed"
	}
	return ""
}

// Detail is what the service last read of the shared stores, for /ready.
func (s *Service) Detail() *api.ReadyDetail {
	if f := s.store.detail(); f != nil {
		return &api.ReadyDetail{ResultsStore: f}
	}
	return nil
}

// Stats are counts of what the service holds for its clients, for
// /metrics and for leak tests: each returns to zero once its clients are gone.
type Stats struct {
	Followers     int64 // WebSocket subscriptions and NDJSON result streams
	FeedWatchers  int   // registrations with the job-record feed
	FeedJobs      int   // distinct jobs followed
	InboxWaiting  int   // requests waiting for replies
	FollowTenants int   // tenants following jobs
	UploadTenants int   // tenants with submissions being decoded
	Uploads       int   // submissions being decoded
	Reading       int   // datasets being read into jobs here
	Downloads     int64 // output files being served
	IndexBuilds   int64 // output file indexes being built
}

// Stats returns the current counts; valid after Start.
func (s *Service) Stats() Stats {
	if s.feed == nil || s.inbox == nil {
		return Stats{}
	}
	w, j := s.feed.followers()
	ft, _ := s.follows.counts()
	ut, u := s.uploads.counts()
	return Stats{Followers: s.followers.Load(), FeedWatchers: w, FeedJobs: j, InboxWaiting: s.inbox.waiting(),
		FollowTenants: ft, UploadTenants: ut, Uploads: u, Reading: s.readers.reading(), Downloads: s.downloads.Load(), IndexBuilds: s.indexing.Load()}
}
