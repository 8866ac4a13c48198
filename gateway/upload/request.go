package upload

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// reqState is what one request's parts tell each other: the tenant for the
// store, the upload as the store last answered (for Upload-Expires and
// error messages), and the error to answer with.
type reqState struct {
	tenant, id    string
	header        http.Header
	contentLength int64
	rc            *http.ResponseController
	body          *guardedBody

	mu          sync.Mutex
	info        store.UploadInfo
	apiErr      *api.Error
	interrupted atomic.Bool
}

type stateKey struct{}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func (st *reqState) setInfo(info store.UploadInfo) {
	st.mu.Lock()
	st.info = info
	st.mu.Unlock()
}

func (st *reqState) upload() store.UploadInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.info
}

// errCode is the tusd error code under which a request's own API error
// goes through tusd (tusWriter answers st.apiErr).
const errCode = "BI_API_ERROR"

// fail records e as the answer and returns it as tusd expects errors.
func (st *reqState) fail(e *api.Error) error {
	st.mu.Lock()
	st.apiErr = e
	st.mu.Unlock()
	return tusd.NewError(errCode, e.Message, e.Code.HTTPStatus())
}

func (st *reqState) failure() *api.Error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.apiErr
}

// interrupt ends the body being received: reads fail from now on, and a
// read waiting for the client returns at once.
func (st *reqState) interrupt() {
	st.interrupted.Store(true)
	_ = st.rc.SetReadDeadline(time.Now())
}

var errInterrupted = errors.New("the gateway is shutting down")

// guardedBody is the request body under tusd: it fails once the request is
// interrupted, and a chunked body (no Content-Length) that goes past the
// bytes the upload has left is cut there and flagged, so that nothing of
// it is kept (tusd would store the bytes up to the declared length and
// finish the upload).
type guardedBody struct {
	rc       io.ReadCloser
	st       *reqState
	chunked  bool
	limit    atomic.Int64 // bytes the upload has left; -1 until known
	read     int64
	overflow atomic.Bool
}

func (b *guardedBody) setLimit(n int64) {
	if b.chunked {
		b.limit.Store(n)
	}
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.st.interrupted.Load() {
		return 0, errInterrupted
	}
	limit := b.limit.Load()
	if limit < 0 || !b.chunked {
		return b.rc.Read(p)
	}
	if b.read >= limit {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			b.overflow.Store(true)
		}
		return 0, io.EOF
	}
	if rest := limit - b.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	return n, err
}

func (b *guardedBody) Close() error { return b.rc.Close() }
