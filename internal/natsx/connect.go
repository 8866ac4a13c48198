package natsx

import (
	"context"
	"errors"
	"fmt"
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
