package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"

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
	buf     bytes.Buffer
	csv     *csv.Writer
	item    wire.ItemResult
	row     []string
}

// NewRenderer returns a renderer of file; columns are a CSV output file's
// probability columns (Columns).
func NewRenderer(file File, columns []string) *Renderer {
	r := &Renderer{file: file, columns: columns}
	r.csv = csv.NewWriter(&r.buf)
	return r
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
	r.buf.Reset()
	cols := errorColumns
	if r.file.Kind == KindOutput {
		cols = append(append([]string(nil), outputColumns...), r.columns...)
	}
	_ = r.csv.Write(cols) // a bytes.Buffer does not fail
	r.csv.Flush()
	return r.buf.Bytes()
}

// Chunk renders the items of one chunk result (wire.ChunkResult JSON as
// stored) in order.
func (r *Renderer) Chunk(data []byte) ([]byte, error) {
	r.buf.Reset()
	err := wire.EachItem(data, r.render)
	if err != nil {
		return nil, fmt.Errorf("render chunk: %w", err)
	}
	r.csv.Flush()
	return r.buf.Bytes(), r.csv.Error()
}

// render writes one item as the file shows it.
func (r *Renderer) render(item []byte) error {
	if r.file.Kind == KindOutput && r.file.Format == FormatNDJSON {
		r.buf.Write(item) // the stored bytes, as the results stream shows them
		r.buf.WriteByte('\n')
		return nil
	}
	if r.file.Kind == KindErrors && !bytes.Contains(item, []byte(`"error":`)) {
		return nil // no error key: not failed (a string holding it would be escaped)
	}
	r.item = wire.ItemResult{Probabilities: r.item.Probabilities[:0]}
	if err := json.Unmarshal(item, &r.item); err != nil {
		return fmt.Errorf("decode item: %w", err)
	}
	switch {
	case r.file.Kind == KindOutput:
		return r.csv.Write(r.outputRow(&r.item))
	case r.item.Error == "" || r.item.Skipped:
		return nil
	case r.file.Format == FormatCSV:
		return r.csv.Write(append(r.row[:0], strconv.Itoa(r.item.Index), optInt(r.item.Line), r.item.ID, r.item.Error))
	}
	r.buf.Write(errorLine(&r.item))
	r.buf.WriteByte('\n')
	return nil
}

// outputRow is an item's row of a CSV output file.
func (r *Renderer) outputRow(it *wire.ItemResult) []string {
	row := append(r.row[:0], strconv.Itoa(it.Index), optInt(it.Line), it.ID, status(it), it.Label, "", "", it.Error)
	if it.Class != nil {
		row[5] = strconv.Itoa(*it.Class)
	}
	if status(it) == StatusOK {
		row[6] = formatFloat(it.Score)
	}
	for c := range r.columns {
		p := ""
		if len(it.Probabilities) == len(r.columns) {
			p = formatFloat(it.Probabilities[c])
		}
		row = append(row, p)
	}
	r.row = row
	return row
}

// ErrorLine is one line of an NDJSON errors file.
type ErrorLine struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

func errorLine(it *wire.ItemResult) []byte {
	return wire.Marshal(ErrorLine{Index: it.Index, Line: it.Line, ID: it.ID, Reason: it.Error})
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

// optInt is n, or empty for 0 (no line).
func optInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// formatFloat writes f in the fewest digits that read back to it.
func formatFloat(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}
