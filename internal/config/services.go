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
	s.Duration(&c.ResultTTL, "result-ttl", "RESULT_TTL", 24*60*60*1e9, "how long job records and results are kept")
	s.Int64(&c.ResultMaxBytes, "result-max-bytes", "RESULT_MAX_BYTES", 4<<30, "size bound of the results stream")
	s.Int64(&c.QueueMaxBytes, "queue-max-bytes", "QUEUE_MAX_BYTES", 4<<30, "size bound of the work queue; beyond it submissions get 503")
	s.Int(&c.Replicas, "stream-replicas", "STREAM_REPLICAS", 1, "JetStream replicas for streams and buckets")
}
