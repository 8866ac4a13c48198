package upload

import (
	"context"

	"github.com/rs/zerolog"
	"golang.org/x/exp/slog"
)

// newSlogger gives tusd a logger that writes to log at debug level: tusd
// logs every request, and its errors are the client's (a cut body) or
// reach the client as an answer, logged by tusWriter when they are the
// server's.
func newSlogger(log zerolog.Logger) *slog.Logger {
	return slog.New(slogHandler{log: log.With().Str("from", "tusd").Logger()})
}

type slogHandler struct {
	log   zerolog.Logger
	attrs []slog.Attr
}

func (h slogHandler) Enabled(context.Context, slog.Level) bool {
	return h.log.Debug().Enabled()
}

func (h slogHandler) Handle(_ context.Context, r slog.Record) error {
	ev := h.log.Debug()
	for _, a := range h.attrs {
		ev = ev.Any(a.Key, a.Value.Any())
	}
	r.Attrs(func(a slog.Attr) bool {
		ev = ev.Any(a.Key, a.Value.Any())
		return true
	})
	ev.Msg(r.Message)
	return nil
}

func (h slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return slogHandler{log: h.log, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h slogHandler) WithGroup(string) slog.Handler { return h }
