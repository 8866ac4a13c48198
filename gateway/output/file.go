package output

import (
	"errors"
	"fmt"
	"strconv"
)

// Kind is what a file lists.
type Kind string

// Kinds of file.
const (
	// KindOutput lists every item, in index order.
	KindOutput Kind = "output"
	// KindErrors lists the failed items only (not the skipped ones).
	KindErrors Kind = "errors"
)

// Format is how a file is written.
type Format string

// Formats.
const (
	FormatNDJSON Format = "ndjson"
	FormatCSV    Format = "csv"
)

// File is one download file of a job.
type File struct {
	Kind   Kind
	Format Format
}

// ErrFormat is returned by Parse for a format it does not know.
var ErrFormat = errors.New("format must be ndjson or csv")

// Parse returns the file of kind in format ("" is ndjson).
func Parse(kind Kind, format string) (File, error) {
	switch Format(format) {
	case "":
		return File{Kind: kind, Format: FormatNDJSON}, nil
	case FormatNDJSON, FormatCSV:
		return File{Kind: kind, Format: Format(format)}, nil
	}
	return File{}, fmt.Errorf("%w, not %q", ErrFormat, format)
}

// Name is the file's name in the index ("output.csv").
func (f File) Name() string { return string(f.Kind) + "." + string(f.Format) }

// ContentType is the file's media type.
func (f File) ContentType() string {
	if f.Format == FormatCSV {
		return "text/csv; charset=utf-8; header=present"
	}
	return "application/x-ndjson"
}

// Columns are the probability columns of a model's CSV output file: one
// p_<label> per class (p_<class> for every class unless each has its own
// label), none for a model whose items carry no probabilities (more classes
// than maxProbabilities).
func Columns(labels []string, classes, maxProbabilities int) []string {
	if classes <= 0 || classes > maxProbabilities {
		return nil
	}
	named := len(labels) == classes
	seen := make(map[string]bool, classes)
	for _, l := range labels {
		named = named && l != "" && !seen[l]
		seen[l] = true
	}
	cols := make([]string, classes)
	for c := range cols {
		if named {
			cols[c] = "p_" + labels[c]
		} else {
			cols[c] = "p_" + strconv.Itoa(c)
		}
	}
	return cols
}
