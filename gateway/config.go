package gateway

import (
	"fmt"
	"time"

	"batchinfer/gateway/audit"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/sched"
	"batchinfer/gateway/service"
	"batchinfer/gateway/upload"
	"batchinfer/gateway/webhook"
	"batchinfer/gateway/ws"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/tracing"
)

// Config configures a Gateway. Zero fields take the value of Defaults.
type Config struct {
	// Addr is the listen address, e.g. ":8000" or "127.0.0.1:0".
	Addr    string
	NATS    natsx.ConnConfig
	Streams natsx.StreamConfig
	// Version is reported in hello messages and /health.
	Version string
	// UIDir, when set, is served at / with a single-page-app fallback.
	UIDir string

	// MaxBodyBytes bounds a batch submission body (streamed: NDJSON, CSV,
	// binary tensors; not held in memory), MaxJSONBodyBytes a JSON job body
	// (read whole), MaxSyncBodyBytes a synchronous prediction's.
	MaxBodyBytes     int64
	MaxJSONBodyBytes int64
	MaxSyncBodyBytes int64

	// DownloadWriteTimeout ends a file download (GET /v1/jobs/{id}/output,
	// /errors) whose client takes none of it for this long; the client
	// resumes it with Range.
	DownloadWriteTimeout time.Duration

	// OpsAddr, when set, is a second listener for operators: /health,
	// /ready, /metrics and /v1/cluster without credentials (bind it to an
	// internal interface).
	OpsAddr string
	// TLSCert and TLSKey, when set, make the API listener serve HTTPS; the
	// files are read again when they change.
	TLSCert, TLSKey string

	// TrustedProxies are the CIDRs (or addresses) of the proxies whose
	// X-Forwarded-For and X-Real-IP name the client (package peer).
	TrustedProxies []string

	HTTP    HTTPConfig
	Audit   audit.Config
	Auth    AuthConfig
	Service service.Config
	WS      ws.Config
	Sched   sched.Config
	// Uploads shapes the tus endpoint at /v1/uploads (how long uploads are
	// kept is Streams': UploadTTL, UploadRetention, UploadMaxBytes).
	Uploads upload.Config
	// Webhooks shapes the delivery of jobs' webhooks.
	Webhooks webhook.Config
	// Tracing says whether and where spans go (the OTEL_* settings,
	// registered by the command: tracing.Config.Flags).
	Tracing tracing.Config
}

// HTTPConfig bounds the HTTP server and what one request may hold.
type HTTPConfig struct {
	// MaxHeaderBytes bounds a request's header section.
	MaxHeaderBytes int
	// MaxConnsPerAddr bounds the connections open at once from one client
	// address (an IPv6 /64); trusted proxies are not counted.
	MaxConnsPerAddr int
	// WriteTimeout is how long a response may take to write once started
	// (NDJSON streams: StreamWriteTimeout without progress instead).
	WriteTimeout time.Duration
	// StreamWriteTimeout ends an NDJSON result stream whose client has
	// read nothing for this long.
	StreamWriteTimeout time.Duration
	// BodyIdleTimeout and MinBodyRate are the pace a request body must keep
	// (reqbody.Pace).
	BodyIdleTimeout time.Duration
	MinBodyRate     int64
	// DecodeBudget bounds the bytes of bodies and WebSocket messages being
	// decoded at once; a request waits up to DecodeWait for room.
	DecodeBudget int64
	DecodeWait   time.Duration
}

// AuthConfig says who may call the API.
type AuthConfig struct {
	// Mode is "keys" (API keys, and JWTs when JWT.Issuer is set) or "none"
	// (everyone is one anonymous operator: for trusted networks only).
	Mode string
	// KeysFile holds the API keys (auth.ParseKeys), reloaded on change.
	KeysFile string
	JWT      auth.JWTConfig
	// Defaults are the limits of keys that set none.
	Defaults auth.Limits
	// AllowDevKey lets the keys file hold a publicly known development key
	// (auth.PublicDevKeys); without it such a file is refused.
	AllowDevKey bool
}

// Defaults are every setting's default, written once: the flags and
// in-process users (tests) both take them from here.
func Defaults() Config {
	return Config{
		Addr: ":8000", Version: "dev",
		MaxBodyBytes: 4 << 30, MaxJSONBodyBytes: 64 << 20, MaxSyncBodyBytes: 8 << 20, DownloadWriteTimeout: time.Minute,
		HTTP: HTTPConfig{
			MaxHeaderBytes: 64 << 10, MaxConnsPerAddr: 256, WriteTimeout: 30 * time.Second, StreamWriteTimeout: 10 * time.Second,
			BodyIdleTimeout: 10 * time.Second, MinBodyRate: 8 << 10, DecodeBudget: 96 << 20, DecodeWait: 5 * time.Second,
		},
		Audit: audit.Config{FailureRate: 1, FailureBurst: 20, MaxAddresses: 10_000, MaxPathBytes: 256},
		Auth: AuthConfig{Mode: "keys", JWT: auth.JWTConfig{TenantClaim: "tenant"},
			Defaults: auth.Limits{Rate: 50, Burst: 100, Jobs: 16, Items: 1_000_000, Conns: 100, Uploads: 2, Follows: 1000, Results: 2 << 30}},
		Service: service.Config{
			MaxItems: 100_000_000, MaxSyncItems: 64, MaxImageBytes: 1 << 20, MaxLineBytes: 32 << 20,
			MaxChunkBytes: 768 << 10, PublishWindow: 32 << 20, QueueWait: 10 * time.Second, DefaultChunkSize: 256, Readers: 2,
			SyncTimeout: 10 * time.Second, MinSyncTimeout: 10 * time.Millisecond, MaxJobsListed: 100, MaxJobsScanned: 1000, MaxJobNameBytes: 255,
			MaxSubscriptions: 10_000, ProgressInterval: 200 * time.Millisecond, FollowPoll: 5 * time.Second, MaxResultReads: 64,
			MaxImagePixelsFactor: 64, MaxDownloads: 256, MaxModelBacklog: 200_000_000, MaxTenantBacklog: 100_000_000,
			Registry: service.RegistryConfig{
				MaxModelBytes: 256 << 20, MaxModelFiles: 1000, MaxMetadataBytes: 256 << 10, PushTimeout: 10 * time.Minute,
				CheckTimeout: 2 * time.Minute, DrainGrace: 5 * time.Second, SweepInterval: time.Second,
			},
		},
		Sched: sched.Config{QueueChunks: sched.DefaultQueueChunks, Tick: sched.DefaultTick, Policy: sched.PolicyFair},
		WS: ws.Config{
			MaxConnections: 1000, MaxMessageBytes: 4 << 20, MaxSubscriptions: 64, MaxInflight: 16,
			SendBuffer: 1024, SendBufferBytes: 4 << 20, SendBudgetBytes: 128 << 20, SlowConsumerTimeout: 10 * time.Second, Heartbeat: 15 * time.Second,
			AuthTimeout: 5 * time.Second, AuthCheck: 5 * time.Second,
			MaxPreauth: 256, MaxPreauthPerAddr: 8, PreauthMessageBytes: 8 << 10, MaxRefBytes: 256,
		},
		Uploads: upload.Config{
			MaxSize: 10 << 30, PartBytes: 512 << 10, MaxTenantBytes: 10 << 30, MaxTenantUploads: 20,
			MaxMetadataBytes: 4 << 10, ReadTimeout: 60 * time.Second, SweepInterval: time.Minute,
		},
		Webhooks: webhook.Defaults(),
		Tracing:  tracing.Defaults(),
	}
}

// Flags registers the gateway's own settings on s (NATS and retention
// settings are registered by config.Set.NATS and Streams).
func (c *Config) Flags(s *config.Set) {
	d := Defaults()
	s.String(&c.Addr, "addr", "GATEWAY_ADDR", d.Addr, "HTTP listen address")
	s.Int64(&c.MaxBodyBytes, "max-body-bytes", "GATEWAY_MAX_BODY_BYTES", d.MaxBodyBytes, "largest streamed batch submission body (NDJSON, CSV, binary tensors: read as it arrives, not held)")
	s.Int64(&c.MaxJSONBodyBytes, "max-json-body-bytes", "GATEWAY_MAX_JSON_BODY_BYTES", d.MaxJSONBodyBytes, "largest JSON batch submission body (read whole)")
	s.Int64(&c.MaxSyncBodyBytes, "max-sync-body-bytes", "GATEWAY_MAX_SYNC_BODY_BYTES", d.MaxSyncBodyBytes, "largest synchronous prediction body")
	c.serviceFlags(s, d)
	c.wsFlags(s, d)
	c.httpFlags(s, d)
	s.String(&c.UIDir, "ui-dir", "GATEWAY_UI_DIR", d.UIDir, "serve the built web UI from this directory")
	s.Int(&c.Sched.QueueChunks, "sched-queue-chunks", "SCHED_QUEUE_CHUNKS", d.Sched.QueueChunks, "batch chunks the scheduler keeps waiting per model version for its workers, counting a chunk of more than 256 items as one per 256 (fewer: a new job is served sooner; more: workers never idle)")
	s.Duration(&c.Sched.Tick, "sched-tick", "SCHED_TICK", d.Sched.Tick, "how often the scheduler reads each model's queue and tops it up")
	s.String(&c.Sched.Policy, "sched-policy", "SCHED_POLICY", d.Sched.Policy, "order batch chunks are sent in: fair (weighted fair share between tenants, priorities, a tenant's jobs equally) or fifo (submission order, as before fair share: for benchmarks that compare the two)")
	c.authFlags(s, d)
	c.uploadFlags(s, d)
	c.registryFlags(s, d)
}

func (c *Config) serviceFlags(s *config.Set, d Config) {
	sv := &c.Service
	s.Int(&sv.MaxItems, "max-items", "GATEWAY_MAX_ITEMS", d.Service.MaxItems, "most items in one batch job")
	s.Int(&sv.MaxSyncItems, "max-sync-items", "GATEWAY_MAX_SYNC_ITEMS", d.Service.MaxSyncItems, "most items in one synchronous prediction")
	s.Int(&sv.MaxImageBytes, "max-image-bytes", "GATEWAY_MAX_IMAGE_BYTES", d.Service.MaxImageBytes, "largest encoded input image")
	s.Int(&sv.MaxImagePixelsFactor, "max-image-pixels-factor", "GATEWAY_MAX_IMAGE_PIXELS_FACTOR", d.Service.MaxImagePixelsFactor, "an input image may have at most this many times the pixels of the model's input (read from its header before it is accepted)")
	s.Int(&sv.MaxLineBytes, "max-line-bytes", "GATEWAY_MAX_LINE_BYTES", d.Service.MaxLineBytes, "longest NDJSON line")
	s.Int(&sv.MaxChunkBytes, "max-chunk-bytes", "GATEWAY_MAX_CHUNK_BYTES", d.Service.MaxChunkBytes, "largest queued chunk (keep under NATS max_payload)")
	s.Int(&sv.PublishWindow, "publish-window-bytes", "GATEWAY_PUBLISH_WINDOW_BYTES", d.Service.PublishWindow, "bytes of a job's chunks sent to JetStream and not yet acknowledged (at least max-chunk-bytes; the stream's ingest queue holds 128 MiB for all gateways)")
	s.Int(&sv.MaxModelBacklog, "max-model-backlog", "GATEWAY_MAX_MODEL_BACKLOG", d.Service.MaxModelBacklog, "items not done yet a model version may have (every tenant's jobs); a job that would pass it gets 429 backlog_full with Retry-After")
	s.Int(&sv.MaxTenantBacklog, "max-tenant-backlog", "GATEWAY_MAX_TENANT_BACKLOG", d.Service.MaxTenantBacklog, "items not done yet one tenant may have on a model version; a job that would pass it gets 429 backlog_full with Retry-After")
	s.Duration(&sv.QueueWait, "queue-wait", "GATEWAY_QUEUE_WAIT", d.Service.QueueWait, "how long a submission waits for room in a full input queue (QUEUE_MAX_BYTES) before 503 queue_full")
	s.Int(&sv.Readers, "dataset-readers", "GATEWAY_DATASET_READERS", d.Service.Readers, "datasets (jobs from uploads) this gateway reads at once; others wait for a gateway with room")
	s.Int(&sv.DefaultChunkSize, "chunk-size", "GATEWAY_CHUNK_SIZE", d.Service.DefaultChunkSize, "items per chunk for models whose metadata sets none")
	s.Duration(&sv.SyncTimeout, "sync-timeout", "GATEWAY_SYNC_TIMEOUT", d.Service.SyncTimeout, "default and maximum wait of a synchronous prediction")
	s.Duration(&sv.MinSyncTimeout, "min-sync-timeout", "GATEWAY_MIN_SYNC_TIMEOUT", d.Service.MinSyncTimeout, "least timeout a synchronous prediction may ask for")
	s.Int(&sv.MaxJobsListed, "max-jobs-listed", "GATEWAY_MAX_JOBS_LISTED", d.Service.MaxJobsListed, "most jobs one listing returns")
	s.Int(&sv.MaxJobsScanned, "max-jobs-scanned", "GATEWAY_MAX_JOBS_SCANNED", d.Service.MaxJobsScanned, "most job records one filtered listing (model=, state=) reads; past it the page ends early with a next_cursor")
	s.Int(&sv.MaxJobNameBytes, "max-job-name-bytes", "GATEWAY_MAX_JOB_NAME_BYTES", d.Service.MaxJobNameBytes, "longest job name (the input's name: ?name=, the JSON body's name, or the upload's file name)")
	s.Int(&sv.MaxSubscriptions, "max-subscriptions", "GATEWAY_MAX_SUBSCRIPTIONS", d.Service.MaxSubscriptions, "most jobs this gateway follows at once (WebSocket subscriptions and NDJSON result streams); beyond it: busy")
	s.Duration(&sv.ProgressInterval, "progress-interval", "GATEWAY_PROGRESS_INTERVAL", d.Service.ProgressInterval, "least time between progress events per job")
	s.Duration(&sv.FollowPoll, "follow-poll", "GATEWAY_FOLLOW_POLL", d.Service.FollowPoll, "how often a followed job is reread when no change was announced")
	s.Int(&sv.MaxResultReads, "max-result-reads", "GATEWAY_MAX_RESULT_READS", d.Service.MaxResultReads, "most result reads (JetStream direct gets) in flight")
	s.Int(&sv.MaxDownloads, "max-downloads", "GATEWAY_MAX_DOWNLOADS", d.Service.MaxDownloads, "most output and errors files this gateway serves at once, and most file indexes it builds at once; beyond it: 503 busy")
	s.Duration(&c.DownloadWriteTimeout, "download-write-timeout", "GATEWAY_DOWNLOAD_WRITE_TIMEOUT", d.DownloadWriteTimeout, "a file download whose client takes none of it for this long ends, giving its slot back (it resumes with Range)")
}

func (c *Config) wsFlags(s *config.Set, d Config) {
	w := &c.WS
	s.List(&w.AllowedOrigins, "allowed-origins", "GATEWAY_ALLOWED_ORIGINS", d.WS.AllowedOrigins, "extra browser origins allowed on the WebSocket (same-origin always is; * for any)")
	s.Int(&w.MaxConnections, "max-ws-connections", "GATEWAY_MAX_WS_CONNECTIONS", d.WS.MaxConnections, "most concurrent authenticated WebSocket connections")
	s.Int(&w.MaxPreauth, "max-ws-preauth", "GATEWAY_MAX_WS_PREAUTH", d.WS.MaxPreauth, "most WebSocket connections waiting for their auth message (a pool apart from the authenticated ones)")
	s.Int(&w.MaxPreauthPerAddr, "max-ws-preauth-per-addr", "GATEWAY_MAX_WS_PREAUTH_PER_ADDR", d.WS.MaxPreauthPerAddr, "most WebSocket connections waiting for their auth message per client address")
	s.Int64(&w.PreauthMessageBytes, "ws-preauth-message-bytes", "GATEWAY_WS_PREAUTH_MESSAGE_BYTES", d.WS.PreauthMessageBytes, "largest inbound WebSocket message before authentication")
	s.Int64(&w.MaxMessageBytes, "max-ws-message-bytes", "GATEWAY_MAX_WS_MESSAGE_BYTES", d.WS.MaxMessageBytes, "largest inbound WebSocket message")
	s.Int(&w.MaxRefBytes, "ws-max-ref-bytes", "GATEWAY_WS_MAX_REF_BYTES", d.WS.MaxRefBytes, "longest ref a WebSocket message may carry (echoed in the answer)")
	s.Int(&w.MaxSubscriptions, "max-ws-subscriptions", "GATEWAY_MAX_WS_SUBSCRIPTIONS", d.WS.MaxSubscriptions, "most jobs one WebSocket follows")
	s.Int(&w.MaxInflight, "max-ws-inflight", "GATEWAY_MAX_WS_INFLIGHT", d.WS.MaxInflight, "most submits and predictions in flight per WebSocket")
	s.Int(&w.SendBuffer, "ws-send-buffer", "GATEWAY_WS_SEND_BUFFER", d.WS.SendBuffer, "outbound messages buffered per WebSocket before it is closed as slow")
	s.Int64(&w.SendBufferBytes, "ws-send-buffer-bytes", "GATEWAY_WS_SEND_BUFFER_BYTES", d.WS.SendBufferBytes, "outbound bytes buffered per WebSocket before it is closed as slow")
	s.Int64(&w.SendBudgetBytes, "ws-send-budget-bytes", "GATEWAY_WS_SEND_BUDGET_BYTES", d.WS.SendBudgetBytes, "outbound bytes buffered for all WebSockets together (a connection that cannot buffer for slow-consumer-timeout is closed 4008)")
	s.Duration(&w.SlowConsumerTimeout, "slow-consumer-timeout", "GATEWAY_SLOW_CONSUMER_TIMEOUT", d.WS.SlowConsumerTimeout, "how long a WebSocket's send buffer may stay full before it is closed (4008)")
	s.Duration(&w.Heartbeat, "heartbeat", "GATEWAY_HEARTBEAT", d.WS.Heartbeat, "WebSocket heartbeat period")
	s.Duration(&w.AuthTimeout, "ws-auth-timeout", "GATEWAY_WS_AUTH_TIMEOUT", d.WS.AuthTimeout, "how long a WebSocket without credentials has to send its auth message")
	s.Duration(&w.AuthCheck, "ws-auth-check", "GATEWAY_WS_AUTH_CHECK", d.WS.AuthCheck, "how often a WebSocket checks its key is not revoked nor its JWT expired (closed with 4401)")
	c.Webhooks.Flags(s)
}

func (c *Config) registryFlags(s *config.Set, d Config) {
	r, dr := &c.Service.Registry, d.Service.Registry
	s.Int64(&r.MaxModelBytes, "registry-max-model-bytes", "REGISTRY_MAX_MODEL_BYTES", dr.MaxModelBytes, "largest model version pushed to the registry: the upload, and its files unpacked; beyond it: 413 (or 400 when unpacked)")
	s.Int(&r.MaxModelFiles, "registry-max-model-files", "REGISTRY_MAX_MODEL_FILES", dr.MaxModelFiles, "most files and directories in a pushed archive")
	s.Int(&r.MaxMetadataBytes, "registry-max-metadata-bytes", "REGISTRY_MAX_METADATA_BYTES", dr.MaxMetadataBytes, "largest metadata.json given as a push's metadata field")
	s.Duration(&r.PushTimeout, "registry-push-timeout", "REGISTRY_PUSH_TIMEOUT", dr.PushTimeout, "longest push (upload and check); the version is claimed that long, so a push whose gateway died frees it after")
	s.Duration(&r.CheckTimeout, "registry-check-timeout", "REGISTRY_CHECK_TIMEOUT", dr.CheckTimeout, "how long a worker may take to unpack, load and warm up a pushed version before the push fails (504)")
	s.Duration(&r.DrainGrace, "registry-drain-grace", "REGISTRY_DRAIN_GRACE", dr.DrainGrace, "how long a retired version waits before its remaining work is counted (submissions that chose it just before are queued by then)")
	s.Duration(&r.SweepInterval, "registry-sweep-interval", "REGISTRY_SWEEP_INTERVAL", dr.SweepInterval, "how often the registry's upkeep runs: drained retired versions deleted and cleaned up, abandoned pushes removed (an idle registry: only a check that nothing changed)")
}

func (c *Config) uploadFlags(s *config.Set, d Config) {
	u := &c.Uploads
	s.Int64(&u.MaxSize, "max-upload-size", "GATEWAY_MAX_UPLOAD_SIZE", d.Uploads.MaxSize, "largest resumable upload in bytes (Tus-Max-Size); beyond it: 413")
	s.Int64(&u.MaxTenantBytes, "max-tenant-upload-bytes", "GATEWAY_MAX_TENANT_UPLOAD_BYTES", d.Uploads.MaxTenantBytes, "declared sizes of a tenant's stored uploads together; beyond it: 429")
	s.Int(&u.MaxTenantUploads, "max-tenant-uploads", "GATEWAY_MAX_TENANT_UPLOADS", d.Uploads.MaxTenantUploads, "unfinished uploads per tenant; beyond it: 429")
	s.Int(&u.PartBytes, "upload-part-bytes", "GATEWAY_UPLOAD_PART_BYTES", d.Uploads.PartBytes, "bytes per stored part of an upload (a NATS message: under max_payload, at most 1 MiB)")
	s.Int(&u.MaxMetadataBytes, "max-upload-metadata-bytes", "GATEWAY_MAX_UPLOAD_METADATA_BYTES", d.Uploads.MaxMetadataBytes, "longest Upload-Metadata header")
	s.Duration(&u.ReadTimeout, "upload-read-timeout", "GATEWAY_UPLOAD_READ_TIMEOUT", d.Uploads.ReadTimeout, "an upload body that sends nothing for this long ends (what arrived is kept)")
	s.Duration(&u.SweepInterval, "upload-sweep-interval", "GATEWAY_UPLOAD_SWEEP_INTERVAL", d.Uploads.SweepInterval, "how often expired uploads are deleted")
}

func (c *Config) httpFlags(s *config.Set, d Config) {
	h, a := &c.HTTP, &c.Audit
	s.List(&c.TrustedProxies, "trusted-proxies", "GATEWAY_TRUSTED_PROXIES", d.TrustedProxies, "CIDRs of proxies whose X-Forwarded-For / X-Real-IP name the client (audit log, per-address limits); none by default")
	s.Int(&h.MaxHeaderBytes, "max-header-bytes", "GATEWAY_MAX_HEADER_BYTES", d.HTTP.MaxHeaderBytes, "largest request header section")
	s.Int(&h.MaxConnsPerAddr, "max-conns-per-addr", "GATEWAY_MAX_CONNS_PER_ADDR", d.HTTP.MaxConnsPerAddr, "most connections open at once from one client address (IPv6: its /64); trusted proxies are not counted")
	s.Duration(&h.WriteTimeout, "write-timeout", "GATEWAY_WRITE_TIMEOUT", d.HTTP.WriteTimeout, "longest a response may take to write once started (not NDJSON streams)")
	s.Duration(&h.StreamWriteTimeout, "stream-write-timeout", "GATEWAY_STREAM_WRITE_TIMEOUT", d.HTTP.StreamWriteTimeout, "an NDJSON result stream whose client reads nothing for this long is ended")
	s.Duration(&h.BodyIdleTimeout, "body-idle-timeout", "GATEWAY_BODY_IDLE_TIMEOUT", d.HTTP.BodyIdleTimeout, "a request body that sends nothing for this long is refused (408)")
	s.Int64(&h.MinBodyRate, "min-body-rate", "GATEWAY_MIN_BODY_RATE", d.HTTP.MinBodyRate, "least average rate of a request body in bytes/s, counted after body-idle-timeout (408 below it)")
	s.Int64(&h.DecodeBudget, "decode-budget-bytes", "GATEWAY_DECODE_BUDGET_BYTES", d.HTTP.DecodeBudget, "bytes of request bodies and WebSocket messages being decoded at once, gateway-wide")
	s.Duration(&h.DecodeWait, "decode-wait", "GATEWAY_DECODE_WAIT", d.HTTP.DecodeWait, "how long a request waits for room in the decode budget before it is refused (503 busy)")
	s.Float(&a.FailureRate, "auth-failure-rate", "GATEWAY_AUTH_FAILURE_RATE", d.Audit.FailureRate, "failed authentications per second one client address may make (beyond the burst its attempts get 429 unchecked)")
	s.Int(&a.FailureBurst, "auth-failure-burst", "GATEWAY_AUTH_FAILURE_BURST", d.Audit.FailureBurst, "burst of failed authentications per client address (each logged; beyond: sampled)")
	s.Int(&a.MaxAddresses, "auth-failure-addresses", "GATEWAY_AUTH_FAILURE_ADDRESSES", d.Audit.MaxAddresses, "most client addresses whose failed authentications are tracked")
	s.Int(&a.MaxPathBytes, "audit-max-path-bytes", "GATEWAY_AUDIT_MAX_PATH_BYTES", d.Audit.MaxPathBytes, "longest path written to the audit log (longer ones are truncated)")
}

func (c *Config) authFlags(s *config.Set, d Config) {
	a, l := &c.Auth, &c.Auth.Defaults
	s.String(&a.Mode, "auth", "GATEWAY_AUTH", d.Auth.Mode, "keys (API keys, and JWTs with -jwt-issuer) or none (no authentication: trusted networks only)")
	s.String(&a.KeysFile, "api-keys-file", "GATEWAY_API_KEYS_FILE", "", "API keys: lines of TENANT SHA256HEX [role= id= rate= burst= jobs= items= conns=]; reloaded on change and SIGHUP")
	s.String(&a.JWT.Issuer, "jwt-issuer", "GATEWAY_JWT_ISSUER", "", "accept JWTs of this OIDC issuer (iss)")
	s.String(&a.JWT.JWKSURL, "jwt-jwks-url", "GATEWAY_JWT_JWKS_URL", "", "the issuer's signing keys (JWKS URL)")
	s.String(&a.JWT.Audience, "jwt-audience", "GATEWAY_JWT_AUDIENCE", "", "audience (aud) a JWT must include")
	s.String(&a.JWT.TenantClaim, "jwt-tenant-claim", "GATEWAY_JWT_TENANT_CLAIM", d.Auth.JWT.TenantClaim, "JWT claim holding the tenant")
	s.String(&a.JWT.RoleClaim, "jwt-role-claim", "GATEWAY_JWT_ROLE_CLAIM", "", "JWT claim whose value operator grants the operator role")
	s.String(&a.JWT.WeightClaim, "jwt-weight-claim", "GATEWAY_JWT_WEIGHT_CLAIM", "", "numeric JWT claim giving the tenant's fair-share weight (default 1)")
	s.Float(&l.Rate, "rate-limit", "GATEWAY_RATE_LIMIT", d.Auth.Defaults.Rate, "requests per second per key (token bucket), unless the key sets rate=")
	s.Int(&l.Burst, "rate-burst", "GATEWAY_RATE_BURST", d.Auth.Defaults.Burst, "burst of the per-key token bucket, unless the key sets burst=")
	s.Int(&l.Jobs, "max-tenant-jobs", "GATEWAY_MAX_TENANT_JOBS", d.Auth.Defaults.Jobs, "unfinished batch jobs per tenant, unless the key sets jobs=")
	s.Int(&l.Items, "max-tenant-items", "GATEWAY_MAX_TENANT_ITEMS", d.Auth.Defaults.Items, "items in flight per tenant, unless the key sets items=")
	s.Int64(&l.Results, "max-tenant-result-bytes", "GATEWAY_MAX_TENANT_RESULT_BYTES", d.Auth.Defaults.Results, "bytes of the results store (RESULT_MAX_BYTES) one tenant's jobs may hold and reserve, unless the key sets results=: one tenant cannot fill the store for the others")
	s.Int(&l.Conns, "max-tenant-ws", "GATEWAY_MAX_TENANT_WS", d.Auth.Defaults.Conns, "WebSocket connections per tenant and gateway, unless the key sets conns=")
	s.Int(&l.Uploads, "max-tenant-submissions", "GATEWAY_MAX_TENANT_SUBMISSIONS", d.Auth.Defaults.Uploads, "batch submission bodies being received and decoded at once per tenant and gateway, unless the key sets uploads=")
	s.Int(&l.Follows, "max-tenant-follows", "GATEWAY_MAX_TENANT_FOLLOWS", d.Auth.Defaults.Follows, "jobs followed at once (WebSocket subscriptions and NDJSON streams) per tenant and gateway, unless the key sets follows=")
	s.Bool(&a.AllowDevKey, "allow-dev-key", "GATEWAY_ALLOW_DEV_KEY", false, "accept the publicly known development key of deploy/secrets/api_keys.dev (local trials only)")
	s.String(&c.OpsAddr, "ops-addr", "GATEWAY_OPS_ADDR", "", "operators' listener: /health, /ready, /metrics, /v1/cluster without credentials (bind to an internal interface)")
	s.String(&c.TLSCert, "tls-cert", "GATEWAY_TLS_CERT", "", "serve HTTPS with this certificate (PEM), reloaded on change")
	s.String(&c.TLSKey, "tls-key", "GATEWAY_TLS_KEY", "", "the certificate's private key (PEM)")
}

// validate checks what the parts do not check themselves.
func (c Config) validate() error {
	if err := c.validateBasics(); err != nil {
		return err
	}
	if err := c.HTTP.validate(c); err != nil {
		return err
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	if err := c.Uploads.Validate(); err != nil {
		return fmt.Errorf("%w: gateway: %w", config.ErrInvalid, err)
	}
	if err := c.Sched.Validate(); err != nil {
		return fmt.Errorf("%w: gateway: %w", config.ErrInvalid, err)
	}
	if err := c.Tracing.Validate(); err != nil {
		return err
	}
	return c.Service.Validate()
}

// validateBasics checks the settings no part checks itself.
func (c Config) validateBasics() error {
	switch {
	case c.NATS.URL == "":
		return fmt.Errorf("%w: gateway: NATS URL is required", config.ErrInvalid)
	case c.MaxBodyBytes <= 0 || c.MaxSyncBodyBytes <= 0 || c.MaxJSONBodyBytes <= 0:
		return fmt.Errorf("%w: gateway: body limits must be positive", config.ErrInvalid)
	case c.DownloadWriteTimeout <= 0:
		return fmt.Errorf("%w: gateway: the download write timeout must be positive", config.ErrInvalid)
	case !wsLimitsSet(c.WS):
		return fmt.Errorf("%w: gateway: WebSocket limits must be positive", config.ErrInvalid)
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("%w: gateway: -tls-cert and -tls-key go together", config.ErrInvalid)
	case c.WS.SendBudgetBytes > 0 && c.WS.SendBudgetBytes < c.WS.SendBufferBytes:
		return fmt.Errorf("%w: gateway: -ws-send-budget-bytes is below -ws-send-buffer-bytes", config.ErrInvalid)
	case c.Audit.FailureRate <= 0 || c.Audit.FailureBurst <= 0 || c.Audit.MaxAddresses <= 0 || c.Audit.MaxPathBytes <= 0:
		return fmt.Errorf("%w: gateway: the failed-authentication limits must be positive", config.ErrInvalid)
	}
	return nil
}

// validate checks the HTTP bounds: positive, and a decode budget that can
// hold the largest body or message (a body takes it as it arrives, 64 KiB
// at a time).
func (h HTTPConfig) validate(c Config) error {
	for _, v := range []int64{int64(h.MaxHeaderBytes), int64(h.MaxConnsPerAddr), int64(h.WriteTimeout), int64(h.StreamWriteTimeout),
		int64(h.BodyIdleTimeout), h.MinBodyRate, h.DecodeBudget, int64(h.DecodeWait)} {
		if v <= 0 {
			return fmt.Errorf("%w: gateway: HTTP limits must be positive", config.ErrInvalid)
		}
	}
	// Streamed bodies (NDJSON, CSV, binary) hold only streamWindow of
	// themselves; JSON bodies, predictions and messages are held whole.
	if need := max(c.MaxJSONBodyBytes, c.MaxSyncBodyBytes, c.WS.MaxMessageBytes, streamWindow) + 64<<10; h.DecodeBudget < need {
		return fmt.Errorf("%w: gateway: -decode-budget-bytes %d cannot hold the largest JSON body or message: at least %d", config.ErrInvalid, h.DecodeBudget, need)
	}
	return nil
}

// wsLimitsSet says whether every WebSocket limit is set.
func wsLimitsSet(w ws.Config) bool {
	for _, v := range []int64{int64(w.MaxConnections), w.MaxMessageBytes, int64(w.MaxSubscriptions), int64(w.MaxInflight),
		int64(w.SendBuffer), w.SendBufferBytes, w.SendBudgetBytes, int64(w.SlowConsumerTimeout), int64(w.Heartbeat), int64(w.AuthTimeout), int64(w.AuthCheck),
		int64(w.MaxPreauth), int64(w.MaxPreauthPerAddr), w.PreauthMessageBytes, int64(w.MaxRefBytes)} {
		if v <= 0 {
			return false
		}
	}
	return true
}

func (a AuthConfig) validate() error {
	switch {
	case a.Defaults.Jobs > auth.MaxJobsQuota:
		return fmt.Errorf("%w: gateway: -max-tenant-jobs %d: at most %d", config.ErrInvalid, a.Defaults.Jobs, auth.MaxJobsQuota)
	case a.Mode == "none":
		return nil
	case a.Mode != "keys":
		return fmt.Errorf("%w: gateway: -auth %q: want keys or none", config.ErrInvalid, a.Mode)
	case a.KeysFile == "" && a.JWT.Issuer == "":
		return fmt.Errorf("%w: gateway: no credentials configured: set -api-keys-file (GATEWAY_API_KEYS_FILE) or -jwt-issuer, or run with -auth=none on a trusted network", config.ErrInvalid)
	case a.Defaults.Rate <= 0 || a.Defaults.Burst <= 0 || a.Defaults.Jobs <= 0 || a.Defaults.Items <= 0 || a.Defaults.Conns <= 0 ||
		a.Defaults.Uploads <= 0 || a.Defaults.Follows <= 0 || a.Defaults.Results <= 0:
		return fmt.Errorf("%w: gateway: the default per-key and per-tenant limits must be positive", config.ErrInvalid)
	}
	return nil
}
