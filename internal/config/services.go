package config

import (
	"batchinfer/internal/natsx"
)

// NATS registers the connection settings shared by every service.
func (s *Set) NATS(c *natsx.ConnConfig, defURL string) {
	s.String(&c.URL, "nats-url", "NATS_URL", defURL, "NATS server URL(s), comma-separated")
	s.String(&c.User, "nats-user", "NATS_USER", "", "NATS user name")
	s.Secret(&c.Password, "nats-password", "NATS_PASSWORD", "NATS password")
	s.Secret(&c.Token, "nats-token", "NATS_TOKEN", "NATS token")
	s.String(&c.CredsFile, "nats-creds", "NATS_CREDS", "", "NATS credentials file (JWT + nkey)")
	s.String(&c.TLSCA, "nats-tls-ca", "NATS_TLS_CA", "", "verify the NATS servers' TLS certificates with these CAs (PEM); connects with TLS")
	s.String(&c.TLSCert, "nats-tls-cert", "NATS_TLS_CERT", "", "client certificate (PEM) for NATS servers that verify clients")
	s.String(&c.TLSKey, "nats-tls-key", "NATS_TLS_KEY", "", "the client certificate's private key (PEM)")
}

// Streams registers the retention settings shared by every service.
func (s *Set) Streams(c *natsx.StreamConfig) {
	s.Duration(&c.ResultTTL, "result-ttl", "RESULT_TTL", natsx.DefaultResultTTL, "how long a finished job's results are kept, from when it finished (then the job is expired)")
	s.Duration(&c.RecordTTL, "record-ttl", "RECORD_TTL", natsx.DefaultRecordTTL, "how long an expired job's status stays readable once its results are gone")
	s.Duration(&c.MaxAge, "stream-max-age", "STREAM_MAX_AGE", natsx.DefaultMaxAge, "backstop: anything in the streams older than this is dropped, finished or not (at least RESULT_TTL)")
	s.Int64(&c.ResultMaxBytes, "result-max-bytes", "RESULT_MAX_BYTES", 4<<30, "size bound of the results stream")
	s.Int64(&c.QueueMaxBytes, "queue-max-bytes", "QUEUE_MAX_BYTES", 4<<30, "size bound of each of the two queue streams (the inputs of batch jobs, and the work queue of tickets and synchronous requests); a body that cannot be queued within GATEWAY_QUEUE_WAIT gets 503, a dataset's reading waits for room")
	s.Duration(&c.UploadTTL, "upload-ttl", "UPLOAD_TTL", 24*60*60*1e9, "how long an unfinished upload is kept after its creation (Upload-Expires)")
	s.Duration(&c.UploadRetention, "upload-retention", "UPLOAD_RETENTION", 24*60*60*1e9, "how long a finished upload is kept after its last byte")
	s.Int64(&c.UploadMaxBytes, "upload-max-bytes", "UPLOAD_MAX_BYTES", 12<<30, "size bound of the uploads stream (all stored uploads together); beyond it: 507")
	s.Int64(&c.DeadLetterMaxBytes, "dlq-max-bytes", "DLQ_MAX_BYTES", natsx.DefaultDeadLetterMaxBytes, "size bound of the dead-letter stream (letters with their payloads); when full a new letter is refused (its items fail all the same) and nothing kept is dropped")
	s.Int64(&c.RegistryMaxBytes, "registry-max-bytes", "REGISTRY_MAX_BYTES", 1<<30, "size bound of the model registry (every pushed model version together; JetStream reserves it in max_file_store like the other bounds); beyond it a push gets 507")
	s.Int(&c.Replicas, "stream-replicas", "STREAM_REPLICAS", 1, "JetStream replicas for streams and buckets")
}
