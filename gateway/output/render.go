package output

import (
	"bytes"
	"fmt"
	"strconv"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

// Item statuses in a CSV output file.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Renderer renders the chunks of one file. It reuses its buffers: what
// Chunk returns is valid until its next call. Not safe for concurrent use.
type Renderer struct {
	file    File
	columns []string
	buf     []byte
	item    wire.ItemResult
}

// NewRenderer returns a renderer of file; columns are a CSV output file's
// probability columns (Columns).
func NewRenderer(file File, columns []string) *Renderer {
	return &Renderer{file: file, columns: columns}
}

// outputColumns and errorColumns head the CSV files (the probability
// columns follow outputColumns).
var (
	outputColumns = []string{"index", "line", "id", "status", "label", "class", "score", "error"}
	errorColumns  = []string{"index", "line", "id", "reason"}
)

// Header is the file's header: a CSV file's header row, nothing for NDJSON.
func (r *Renderer) Header() []byte {
	if r.file.Format != FormatCSV {
		return nil
	}
	cols := errorColumns
	if r.file.Kind == KindOutput {
		cols = append(append([]string(nil), outputColumns...), r.columns...)
	}
	return appendRow(nil, cols)
}

// Chunk renders the items of one chunk result (wire.ChunkResult as
// stored: compact, or JSON) in order.
func (r *Renderer) Chunk(data []byte) ([]byte, error) {
	r.buf = r.buf[:0]
	var err error
	if wire.IsCompactResult(data) && !r.asStored() {
		err = wire.EachCompactResult(data, r.renderItem) // decoded, not rendered to JSON first
	} else {
		err = wire.EachItem(data, r.render)
	}
	if err != nil {
		return nil, fmt.Errorf("render chunk: %w", err)
	}
	return r.buf, nil
}

// asStored says whether the file shows items as the results stream does
// (the NDJSON output file).
func (r *Renderer) asStored() bool { return r.file.Kind == KindOutput && r.file.Format == FormatNDJSON }

// render appends one item, given as JSON, as the file shows it.
func (r *Renderer) render(item []byte) error {
	if r.asStored() {
		r.buf = append(append(r.buf, item...), '\n') // as the results stream shows them
		return nil
	}
	if r.file.Kind == KindErrors && !bytes.Contains(item, []byte(`"error":`)) {
		return nil // no error key: not failed (a string holding it would be escaped)
	}
	if err := decodeItem(item, &r.item); err != nil {
		return fmt.Errorf("decode item: %w", err)
	}
	return r.renderItem(&r.item)
}

// renderItem appends one decoded item as a file other than the NDJSON
// output shows it.
func (r *Renderer) renderItem(it *wire.ItemResult) error {
	switch {
	case r.file.Kind == KindOutput:
		r.buf = r.outputRow(r.buf, it)
	case it.Error == "" || it.Skipped:
	case r.file.Format == FormatCSV:
		b := append(strconv.AppendInt(r.buf, int64(it.Index), 10), ',')
		b = append(appendOptInt(b, it.Line), ',')
		b = append(appendField(b, it.ID), ',')
		r.buf = append(appendField(b, it.Error), '\n')
	default:
		r.buf = append(append(r.buf, wire.Marshal(api.ErrorsFileLine{Index: it.Index, Line: it.Line, ID: it.ID, Reason: it.Error})...), '\n')
	}
	return nil
}

// outputRow appends an item's row of a CSV output file.
func (r *Renderer) outputRow(b []byte, it *wire.ItemResult) []byte {
	st := status(it)
	b = append(strconv.AppendInt(b, int64(it.Index), 10), ',')
	b = append(appendOptInt(b, it.Line), ',')
	b = append(appendField(b, it.ID), ',')
	b = append(append(b, st...), ',')
	b = append(appendField(b, it.Label), ',')
	if it.Class != nil {
		b = strconv.AppendInt(b, int64(*it.Class), 10)
	}
	b = append(b, ',')
	if st == StatusOK {
		b = appendFloat(b, it.Score)
	}
	b = appendField(append(b, ','), it.Error)
	probs := len(it.Probabilities) == len(r.columns)
	for c := range r.columns {
		b = append(b, ',')
		if probs {
			b = appendFloat(b, it.Probabilities[c])
		}
	}
	return append(b, '\n')
}

func status(it *wire.ItemResult) string {
	switch {
	case it.Skipped:
		return StatusSkipped
	case it.Error != "":
		return StatusFailed
	}
	return StatusOK
}
