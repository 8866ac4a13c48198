package runx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rs/zerolog"
)

// Pprof serves Go's /debug/pprof/ profiles on addr, on a listener of its
// own (never on a service's), until the returned stop is called; an empty
// addr serves nothing. Without cpu, the CPU profile and the execution
// trace are left out: a process running TensorFlow through cgo crashed
// under Go's CPU profiler here (heap corruption when SIGPROF lands on
// TensorFlow's threads, cf. golang/go#31758), so the worker serves the
// other profiles only.
func Pprof(addr string, cpu bool, log zerolog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	if cpu {
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("pprof server failed")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("pprof listening")
	return func() { _ = srv.Close() }, nil
}
