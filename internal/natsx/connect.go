package natsx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// ConnConfig says how to reach NATS.
type ConnConfig struct {
	URL      string
	Name     string
	User     string
	Password string
	Token    string
	// CredsFile is a NATS .creds file (JWT + nkey), optional.
	CredsFile string
	// TLSCA, when set, is the PEM file of the certificate authorities that
	// sign the servers' certificates: the connection is TLS and the server
	// is verified against them (not the system's roots).
	TLSCA string
	// TLSCert and TLSKey, when set, are this client's certificate and key
	// (PEM), for servers that verify clients (mutual TLS). Both files are
	// read again at each (re)connection, so renewed ones are picked up.
	TLSCert, TLSKey string
}

// tlsOptions are the TLS options of c; the files must be readable now.
func (c ConnConfig) tlsOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("nats tls: a client certificate and its key go together (NATS_TLS_CERT, NATS_TLS_KEY)")
	}
	for _, f := range []string{c.TLSCA, c.TLSCert, c.TLSKey} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("nats tls: %w", err)
		}
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	if len(opts) > 0 {
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

// Connect dials NATS, retrying with backoff until ctx ends (Swarm ignores
// depends_on, so services must wait for NATS on their own). Once connected
// the client reconnects forever; onReconnect run after each reconnect.
//
// cfg.URL may list the servers of a cluster, comma-separated: a connection
// attempt tries each of them (in random order, spreading the clients), and
// so does a reconnect, at once to a server not tried in the last
// ReconnectWait, together with the servers the cluster announces. A server
// that dies without closing its connections (a lost host) is noticed by the
// pings within 2 x 5 s.
func Connect(ctx context.Context, cfg ConnConfig, log zerolog.Logger, onReconnect ...func()) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.ReconnectBufSize(64 << 20),
		nats.PingInterval(5 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn().Err(err).Msg("nats disconnected")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("nats reconnected")
			for _, f := range onReconnect {
				f()
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			ev := log.Warn().Err(err)
			if s != nil {
				ev = ev.Str("subject", s.Subject)
			}
			ev.Msg("nats async error")
		}),
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	tlsOpts, err := cfg.tlsOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, tlsOpts...)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(cfg.URL, opts...)
		if err == nil {
			return nc, nil
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return nil, fmt.Errorf("connect to nats %s: %w", cfg.URL, err)
		}
		log.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", backoff).Msg("nats not reachable")
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to nats %s: %w (last error: %v)", cfg.URL, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
