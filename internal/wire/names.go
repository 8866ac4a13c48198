package wire

import (
	"strconv"
	"time"
)

// Stream, bucket and subject names.
const (
	// StreamInfer is the work-queue stream of input chunks.
	StreamInfer = "INFER"
	// StreamResults holds one result message per chunk, at SubjectResult.
	StreamResults = "RESULTS"
	// StreamDeadLetter keeps the chunks that exhausted their deliveries,
	// with their payloads (DeadLetter), and the webhook events given up.
	StreamDeadLetter = "DEADLETTER"
	// StreamInput holds the input chunks of batch jobs, written once when a
	// job's items are read (InputSubject) and read by the worker a ticket
	// sends there; deleted once the chunk's result is stored.
	StreamInput = "JOBIN"
	// StreamIngest is the work queue of datasets to read: a message per job
	// read from an upload (IngestSubject), taken by one gateway at a time.
	StreamIngest = "INGEST"
	// ConsumerIngest is the gateways' shared consumer of StreamIngest.
	ConsumerIngest = "ingest"
	// StreamTimers holds durable timers (TimerSubject, TimerFireSubject).
	StreamTimers = "TIMERS"
	// TimerSubjects are the subjects of StreamTimers.
	TimerSubjects = "timer.>"
	// ConsumerTimers is the durable consumer of fired timers, shared by
	// every gateway.
	ConsumerTimers = "timers"
	// StreamUploads holds the bytes of resumable uploads, as parts in order
	// on one subject per upload (UploadSubject).
	StreamUploads = "UPLOADS"

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
	// BucketActive has a key "tenant.job" per job not finished yet, whose
	// value is the job's item count: a tenant's quotas are checked on it.
	BucketActive = "activejobs"
	// BucketSched holds the scheduler's dispatch cursor of each unfinished
	// job (the next chunk to send), so that a new leader resumes it.
	BucketSched = "sched"
	// BucketLeases holds the leases of single-leader roles (the scheduler).
	BucketLeases = "leases"
	// BucketUploads has a key "tenant.upload" per resumable upload, whose
	// value is the upload's record (size, offset, expiry, last part).
	BucketUploads = "uploads"
	// BucketQuotas has a key per tenant: its reservations against its job
	// quotas (store.Quotas), changed with compare-and-set only.
	BucketQuotas = "quotas"
	// BucketOutputs holds the index of each download file of a finished job
	// (OutputIndex, at OutputKey) and its pages of chunk lengths
	// (OutputPageKey); a job's keys go with its results.
	BucketOutputs = "outputs"

	// PrioritySync is the queue of synchronous predictions, served first.
	PrioritySync = "sync"
	// PriorityBatch is the queue of batch job chunks.
	PriorityBatch = "batch"
	// PriorityFirst is the queue of a newly started job's first chunk (a
	// newcomer's): each worker keeps a pull waiting on it beside its batch
	// slots, and the scheduler sends there only while one waits, so the
	// chunk is taken at once instead of behind the batch queue's tickets and
	// the chunks the workers hold. Its tickets are batch tickets.
	PriorityFirst = "first"
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
	// HdrParts, on a batch ticket, says the chunk's items are in the input
	// stream (the ticket carries none); on the first part of a chunk's input
	// split in several, how many parts there are (InputSubject parts
	// 0..n-1).
	HdrParts = "Bi-Parts"
	// HdrDeadline, on a batch ticket, is the job's deadline (unix
	// nanoseconds): items not started by then are skipped.
	HdrDeadline = "Bi-Deadline"
	HdrMsgID    = "Nats-Msg-Id"
	HdrTTL      = "Nats-TTL"
	// HdrUploadOffset is the byte offset of an upload part's first byte.
	HdrUploadOffset = "Bi-Upload-Offset"
	// HdrRedrive, on a ticket, is the dead letter the chunk is redriven
	// from; on a dead letter, the redrive the chunk that died ran for (0:
	// its first run).
	HdrRedrive = "Bi-Redrive"
)

// Priorities are a model version's work queues on StreamInfer, each with
// its workers' durable consumer (ConsumerName): what a version's clean-up
// and queue depths go through.
var Priorities = []string{PriorityBatch, PriorityFirst, PrioritySync}

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

// InputSubject is where part of chunk of job (model name:version) is
// stored in the input stream.
func InputSubject(name, version, job string, chunk, part int) string {
	return "in." + name + "." + version + "." + job + "." + itoa(chunk) + "." + itoa(part)
}

// InputChunkFilter matches every part of one chunk's input.
func InputChunkFilter(name, version, job string, chunk int) string {
	return "in." + name + "." + version + "." + job + "." + itoa(chunk) + ".*"
}

// InputJobFilter matches every input chunk of a job.
func InputJobFilter(job string) string { return "in.*.*." + job + ".>" }

// InputModelFilter matches every input chunk of model name:version.
func InputModelFilter(name, version string) string { return "in." + name + "." + version + ".>" }

// BacklogConsumer is the durable consumer of the input stream per model
// version that nobody pulls: its pending count is the chunks whose
// results are not stored yet, the backlog autoscalers read (KEDA's NATS
// JetStream scaler, cmd/autoscaler).
func BacklogConsumer(name, version string) string { return "backlog_" + name + "_" + version }

// ResultSubject is where the results of one chunk of a job are stored.
func ResultSubject(job string, chunk int) string {
	return "res." + job + "." + itoa(chunk)
}

// ResultFilter matches every result subject of a job.
func ResultFilter(job string) string { return "res." + job + ".*" }

// ChunkMsgID is the Nats-Msg-Id of a chunk, so re-publishing a job's chunks
// (a retried submission) is deduplicated by JetStream.
func ChunkMsgID(job string, chunk int) string { return job + "." + itoa(chunk) }

// RedriveMsgID is the Nats-Msg-Id of a chunk's ticket and result when it
// runs again from dead letter letter (0: its first run, ChunkMsgID).
func RedriveMsgID(job string, chunk int, letter uint64) string {
	if letter == 0 {
		return ChunkMsgID(job, chunk)
	}
	return ChunkMsgID(job, chunk) + ".r" + strconv.FormatUint(letter, 10)
}

// IngestSubject is the work-queue message of a dataset job to read.
func IngestSubject(job string) string { return "ingest." + job }

// SubjectQueue is the core NATS subject the scheduler publishes each
// model version's queued jobs on (QueueSnapshot), every second: the
// gateways answer queue positions from it.
const SubjectQueue = "sched.queue"

// Timer kinds.
const (
	// TimerExpire fires when a finished job's results expire.
	TimerExpire = "expire"
	// TimerDelete fires when an expired job's record goes.
	TimerDelete = "delete"
)

// TimerSubject holds the schedule of a job's timer of a kind: one per job
// and kind, a later schedule replacing an earlier one.
func TimerSubject(kind, job string) string { return "timer.at." + kind + "." + job }

// TimerFireSubject is where a job's timer of a kind fires.
func TimerFireSubject(kind, job string) string { return "timer.fire." + kind + "." + job }

// TimerFireFilter matches every fired timer.
const TimerFireFilter = "timer.fire.>"

// UploadSubject is the subject of the parts of one upload in StreamUploads.
func UploadSubject(id string) string { return "upload.data." + id }

// UploadsFilter matches every upload subject of StreamUploads.
const UploadsFilter = "upload.>"

// TenantKey is the key of a job in BucketJobIndex and BucketActive.
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
