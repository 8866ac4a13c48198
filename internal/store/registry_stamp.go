package store

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Stamp is where the registry's stores stand: the versions' Object Store
// and the push claims. Any write, delete or purge in either changes it,
// so two equal stamps read one after the other mean nothing changed in
// between.
type Stamp struct {
	Objects, Claims StreamMark
}

// StreamMark is a stream's first and last sequences and message count.
type StreamMark struct {
	First, Last, Msgs uint64
}

// Stamp reads the registry's stamp: two stream infos, no consumer.
func (r *Registry) Stamp(ctx context.Context) (Stamp, error) {
	var st Stamp
	for _, s := range []struct {
		stream jetstream.Stream
		mark   *StreamMark
	}{{r.stream, &st.Objects}, {r.claims, &st.Claims}} {
		info, err := s.stream.Info(ctx)
		if err != nil {
			return Stamp{}, fmt.Errorf("registry stamp: %w", err)
		}
		*s.mark = StreamMark{First: info.State.FirstSeq, Last: info.State.LastSeq, Msgs: info.State.Msgs}
	}
	return st, nil
}
