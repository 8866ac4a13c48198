package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/output"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// outputPrefetch is how many chunk results a file's reading has in flight.
const outputPrefetch = 4

// outputIndex returns the index of file f of finished job rec: as stored
// when it was built from the record's current outcome, else built now (once
// per gateway however many ask at the same time).
func (s *Service) outputIndex(ctx context.Context, rec *wire.JobRecord, f output.File) (*wire.OutputIndex, error) {
	basis := outputBasis(rec)
	octx, cancel := s.op(ctx)
	idx, err := s.outputs.Index(octx, rec.ID, f.Name())
	cancel()
	if err != nil {
		return nil, err
	}
	if idx != nil && idx.Basis == basis {
		return idx, nil
	}
	// The build goes on if the client leaves (the next download needs it),
	// holding a build slot: as many builds as downloads at most.
	ch := s.builds.DoChan(rec.ID+"/"+f.Name()+"/"+basis, func() (any, error) {
		release, err := s.acquireBuild()
		if err != nil {
			return nil, err
		}
		defer release()
		return s.buildIndex(rec, f, basis)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*wire.OutputIndex), nil
	}
}

// outputBasis identifies what a finished job's files are rendered from:
// its record's counts, the chunks without stored results and its redrives.
// A chunk of a failed job counted after the failure changes it, so does a
// chunk that ran again from its dead letter.
func outputBasis(rec *wire.JobRecord) string {
	b := wire.Marshal(struct {
		Total, Chunks, ChunkSize, Done, Failed, Skipped, CountedBelow, Redriven int
		Counted                                                                 []byte
		Unstored                                                                []wire.ChunkSpan
		SkipFrom                                                                *int
		SkipReason, State, Error                                                string
	}{rec.Total, rec.Chunks, rec.ChunkSize, rec.Done, rec.Failed, rec.Skipped, rec.CountedBelow, rec.Redriven,
		rec.Counted, rec.Unstored, rec.SkipFrom, rec.SkipReason, rec.State, rec.Error})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// indexBuild is one pass over a job's chunks computing a file's index.
type indexBuild struct {
	s    *Service
	idx  *wire.OutputIndex
	r    *output.Renderer
	sum  hash.Hash
	lens []int64
}

// buildIndex renders every chunk of rec once, keeping only their lengths
// and the file's digest, and stores the index: pages first, then the
// index that names them. An index built while the job expired is purged.
func (s *Service) buildIndex(rec *wire.JobRecord, f output.File, basis string) (*wire.OutputIndex, error) {
	ctx := s.ctx
	cols := s.outputColumns(rec, f)
	b := &indexBuild{s: s, r: output.NewRenderer(f, cols), sum: sha256.New(), lens: make([]int64, 0, min(rec.Chunks, s.pageChunks)),
		idx: &wire.OutputIndex{Job: rec.ID, File: f.Name(), Basis: basis, Columns: cols, Chunks: rec.Chunks, PageChunks: s.pageChunks}}
	head := b.r.Header()
	b.sum.Write(head)
	b.idx.HeaderBytes, b.idx.Size = int64(len(head)), int64(len(head))
	err := s.readChunks(ctx, rec, rec.Chunks, func(i int) int { return i }, b.add)
	if err == nil {
		err = b.flush(ctx)
	}
	if err != nil {
		return nil, readErr(err)
	}
	b.idx.SHA256, b.idx.BuiltAt = hex.EncodeToString(b.sum.Sum(nil)), time.Now().UTC()
	octx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	if err := s.outputs.PutIndex(octx, b.idx); err != nil {
		return nil, err
	}
	s.metrics.outputBuilds.Inc()
	if cur, err := s.jobs.Get(octx, rec.ID); errors.Is(err, store.ErrNotFound) || (err == nil && cur.State == wire.StateExpired) {
		_ = s.outputs.Purge(octx, rec.ID) // it expired meanwhile: what was written goes
		return nil, api.Errorf(api.CodeExpired, "the results of job %s expired", rec.ID)
	}
	return b.idx, nil
}

// add renders chunk c and notes its length.
func (b *indexBuild) add(c int, data []byte) error {
	out, err := b.r.Chunk(data)
	if err != nil {
		return err
	}
	b.sum.Write(out)
	if c%b.idx.PageChunks == 0 {
		b.idx.PageStarts = append(b.idx.PageStarts, b.idx.Size)
	}
	b.lens = append(b.lens, int64(len(out)))
	b.idx.Size += int64(len(out))
	if len(b.lens) == b.idx.PageChunks {
		return b.flush(b.s.ctx)
	}
	return nil
}

// flush stores the page of lengths gathered so far.
func (b *indexBuild) flush(ctx context.Context) error {
	if len(b.lens) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	if err := b.s.outputs.PutPage(ctx, b.idx.Job, b.idx.File, len(b.idx.PageStarts)-1, b.lens); err != nil {
		return err
	}
	b.lens = b.lens[:0]
	return nil
}

// readErr tells a result that cannot be read yet (a replica catching up)
// from a fault.
func readErr(err error) error {
	if errors.Is(err, store.ErrResultUnreadable) {
		return api.RetryLater(api.CodeUnavailable, time.Second, err, "a result of the job cannot be read yet: retry")
	}
	return err
}

// outputColumns are the probability columns of f for rec's model, from its
// metadata; none when the gateway does not know it.
func (s *Service) outputColumns(rec *wire.JobRecord, f output.File) []string {
	if f.Kind != output.KindOutput || f.Format != output.FormatCSV {
		return nil
	}
	var meta *model.Metadata
	for _, e := range s.cat.entries(rec.Model, time.Now()) { // whatever its state now: the job ran on it
		if e.meta.Version == rec.Version {
			meta = e.meta
		}
	}
	if meta == nil {
		return nil
	}
	classes := len(meta.Labels)
	if sh := meta.Output.Shape; len(sh) > 0 && sh[len(sh)-1] > 0 {
		classes = int(sh[len(sh)-1])
	}
	return output.Columns(meta.Labels, classes, wire.MaxProbabilities)
}

// fetched is one chunk result read ahead.
type fetched struct {
	data []byte
	err  error
}

// readChunks calls f with the settled result of chunks chunkAt(0) ..
// chunkAt(n-1), in that order, reading up to outputPrefetch ahead: only
// those in flight are held. It stops at f's first error.
func (s *Service) readChunks(ctx context.Context, rec *wire.JobRecord, n int, chunkAt func(int) int, f func(i int, data []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan chan fetched, outputPrefetch)
	go func() {
		defer close(ahead)
		for i := 0; i < n; i++ {
			out := make(chan fetched, 1)
			select {
			case ahead <- out:
			case <-ctx.Done():
				return
			}
			go func(c int) {
				octx, cancel := s.op(ctx)
				defer cancel()
				data, err := s.results.Settled(octx, rec, c)
				out <- fetched{data, err}
			}(chunkAt(i))
		}
	}()
	i := 0
	for out := range ahead {
		r := <-out
		if r.err == nil {
			r.err = f(i, r.data)
		}
		if r.err != nil {
			return r.err
		}
		i++
	}
	return ctx.Err()
}
