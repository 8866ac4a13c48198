// Package reqbody reads request bodies within bounds, one request at a
// time: a size limit; a pace (an idle timeout and a minimum average rate,
// kept with read deadlines on the connection, so that a long upload that
// keeps its pace is never cut, unlike with a server-wide ReadTimeout); a
// share of a process-wide Budget of bytes being decoded, taken as the bytes
// arrive; and errors a client can act on (413 body_too_large, 408
// body_timeout, 400 bad_request for a body cut short) instead of a failed
// read. Any handler that reads a body wraps it with Open.
package reqbody

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"batchinfer/api"
)

// quantum is how much of the budget a read takes at a time when the body's
// length is not known.
const quantum = 64 << 10

// Pace is how fast a body must arrive.
type Pace struct {
	// Idle is the longest a body may send nothing; it is also the grace
	// before MinRate counts.
	Idle time.Duration
	// MinRate is the least average rate, in bytes per second, from the
	// start of the body: by Idle + t it must have sent MinRate × t bytes.
	MinRate int64
}

// Reader is a request body read within bounds. Close or Release it when
// the request is done with what it read: that gives its budget back.
type Reader struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	ctx    context.Context
	pace   Pace
	limit  int64
	length int64 // Content-Length, -1 if unknown
	budget *Budget

	start time.Time
	n     int64 // bytes read
	held  int64 // bytes of budget taken
	freed int64 // of those, given back while reading (Stream)
	// window, when set (Stream), is how much of what was read the reader's
	// user holds at most: the budget covers that, not the whole body.
	window int64
	err    error // sticky
}

// Stream says the body is consumed as it is read (a streamed job body,
// decoded item by item), keeping at most window bytes of it: the budget
// held stays about window, whatever the body's size.
func (rd *Reader) Stream(window int64) { rd.window = window }

// Open wraps r's body (at most limit bytes) for reading at pace with
// budget (nil: none). It replaces r.Body, so that whatever reads the body
// reads it through the bounds.
func Open(w http.ResponseWriter, r *http.Request, limit int64, pace Pace, budget *Budget) *Reader {
	rd := &Reader{
		body: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w), ctx: r.Context(),
		pace: pace, limit: limit, length: r.ContentLength, budget: budget, start: time.Now(),
	}
	r.Body = rd
	return rd
}

// Read implements io.Reader.
func (rd *Reader) Read(p []byte) (int, error) {
	if rd.err != nil {
		return 0, rd.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := rd.reserve(); err != nil {
		rd.err = err
		return 0, err
	}
	p = p[:min(int64(len(p)), rd.held-rd.n)]
	_ = rd.rc.SetReadDeadline(rd.deadline())
	n, err := rd.body.Read(p)
	rd.n += int64(n)
	if err != nil {
		_ = rd.rc.SetReadDeadline(time.Time{}) // the connection may be read again (keep-alive)
		if !errors.Is(err, io.EOF) {
			err = rd.mapErr(err)
		}
		rd.err = err
	}
	return n, err
}

// reserve takes budget for the next read when what is held is used up.
func (rd *Reader) reserve() error {
	if rd.held > rd.n {
		return nil
	}
	want := int64(quantum)
	if rd.length >= 0 {
		want = min(want, rd.length-rd.n+1) // +1: room to see EOF or an overrun
	}
	want = max(1, min(want, rd.limit-rd.n+1))
	if rd.budget != nil {
		if rd.window > 0 && rd.n-rd.freed > rd.window { // consumed: no longer held
			k := rd.n - rd.freed - rd.window
			rd.budget.Release(k)
			rd.freed += k
		}
		if err := rd.budget.Acquire(rd.ctx, want); err != nil {
			return err
		}
	}
	rd.held += want
	return nil
}

// deadline is when the next byte must have come: within Idle of now, and
// no later than the minimum rate allows for the bytes read so far.
func (rd *Reader) deadline() time.Time {
	d := time.Now().Add(rd.pace.Idle)
	if rd.pace.MinRate > 0 {
		due := rd.start.Add(rd.pace.Idle + time.Duration(float64(rd.n+1)/float64(rd.pace.MinRate)*float64(time.Second)))
		if due.Before(d) {
			d = due
		}
	}
	return d
}

// mapErr turns a failed read into the client's error.
func (rd *Reader) mapErr(err error) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return &api.Error{Code: api.CodeBodyTooLarge, Message: "request body exceeds " + itoa(mbe.Limit) + " bytes", Err: err}
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &api.Error{Code: api.CodeBodyTimeout, Err: err, Message: "request body too slow: " + itoa(rd.n) +
			" bytes received; a body must not pause for " + rd.pace.Idle.String() + " and must average at least " +
			itoa(rd.pace.MinRate) + " bytes/s (GATEWAY_BODY_IDLE_TIMEOUT, GATEWAY_MIN_BODY_RATE)"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &api.Error{Code: api.CodeBadRequest, Err: err, Message: "request body ended after " + itoa(rd.n) +
			" bytes, before its declared length (Content-Length " + itoa(rd.length) + ")"}
	}
	return &api.Error{Code: api.CodeBadRequest, Err: err, Message: "request body could not be read after " + itoa(rd.n) + " bytes (the connection failed)"}
}

// Received is the number of bytes read.
func (rd *Reader) Received() int64 { return rd.n }

// Release gives the budget back; safe to call more than once.
func (rd *Reader) Release() {
	if rd.budget != nil && rd.held-rd.freed > 0 {
		rd.budget.Release(rd.held - rd.freed)
	}
	rd.held, rd.n, rd.freed = 0, 0, 0
	if rd.err == nil {
		rd.err = errors.New("reqbody: read after release")
	}
}

// Close implements io.Closer: it releases the budget and closes the body.
func (rd *Reader) Close() error {
	rd.Release()
	return rd.body.Close()
}
