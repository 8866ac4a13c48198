package wire

import "time"

// Stream, bucket and subject names.
const (
	// StreamInfer is the work-queue stream of input chunks.
	StreamInfer = "INFER"
	// StreamResults holds one result message per chunk, at SubjectResult.
	StreamResults = "RESULTS"
	// StreamDeadLetter keeps a copy of chunks that exhausted their deliveries.
	StreamDeadLetter = "DEADLETTER"

	// BucketJobs maps a job id to its JobRecord.
	BucketJobs = "jobs"
	// BucketCancel holds a key per cancelled job id.
	BucketCancel = "cancel"
	// BucketIdempotency maps a hashed Idempotency-Key to an IdempotencyRecord.
	BucketIdempotency = "idempotency"
	// BucketWorkers holds a WorkerInfo per live worker (short TTL, refreshed).
	BucketWorkers = "workers"
	// BucketModels holds the metadata.json of every model version any worker
	// has served, keyed "name.version".
	BucketModels = "models"
	// BucketJobIndex has a key "tenant.job" per job: a tenant's jobs are
	// listed without reading anyone else's.
	BucketJobIndex = "jobindex"
	// BucketQuotas has a key per tenant: its reservations against its job
	// quotas (store.Quotas), changed with compare-and-set only.
	BucketQuotas = "quotas"

	// PrioritySync is the queue of synchronous predictions, served first.
	PrioritySync = "sync"
	// PriorityBatch is the queue of batch job chunks.
	PriorityBatch = "batch"
)

// Message headers.
const (
	HdrJob     = "Bi-Job"
	HdrChunk   = "Bi-Chunk"
	HdrStart   = "Bi-Start"
	HdrCount   = "Bi-Count"
	HdrReply   = "Bi-Reply"
	HdrEnqueue = "Bi-Enqueued" // unix nanoseconds when the gateway queued the chunk
	HdrExpires = "Bi-Expires"  // unix nanoseconds after which nobody waits for the answer
	HdrBusy    = "Bi-Busy"     // on a reply: the worker could not take the request
	HdrMsgID   = "Nats-Msg-Id"
	HdrTTL     = "Nats-TTL"
)

// InferSubject is the subject a chunk for model name:version is queued on.
func InferSubject(priority, name, version string) string {
	return "infer." + priority + "." + name + "." + version
}

// SyncSubject is the core NATS subject (no stream) of synchronous
// predictions for model name:version: every worker serving it listens in
// one queue group, so a request goes to exactly one of them with no
// storage on the way. When none listens, the gateway queues the request on
// InferSubject(PrioritySync, ...) instead.
func SyncSubject(name, version string) string {
	return "predict." + name + "." + version
}

// SyncQueueGroup is the queue group of the workers on a SyncSubject.
const SyncQueueGroup = "workers"

// ConsumerName is the durable pull consumer shared by all workers serving
// name:version at the given priority.
func ConsumerName(priority, name, version string) string {
	return priority + "_" + name + "_" + version
}

// ResultSubject is where the results of one chunk of a job are stored.
func ResultSubject(job string, chunk int) string {
	return "res." + job + "." + itoa(chunk)
}

// ResultFilter matches every result subject of a job.
func ResultFilter(job string) string { return "res." + job + ".*" }

// ChunkMsgID is the Nats-Msg-Id of a chunk, so re-publishing a job's chunks
// (a retried submission) is deduplicated by JetStream.
func ChunkMsgID(job string, chunk int) string { return job + "." + itoa(chunk) }

// TenantKey is the key of a job in BucketJobIndex.
func TenantKey(tenant, job string) string { return tenant + "." + job }

// ModelKey is the key of a model version in BucketModels.
func ModelKey(name, version string) string { return name + "." + version }

// Defaults shared by both services.
const (
	DefaultDuplicateWindow = 10 * time.Minute
	DefaultWorkerTTL       = 15 * time.Second
)

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
