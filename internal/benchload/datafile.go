package benchload

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// WriteDataset writes a dataset of n items of the corpus to path, as a user
// would have it on disk: NDJSON (a row of numbers per line) or CSV (the
// model's feature names as the header, a row per item). The items cycle
// through the samples, so the class of item i is Expected(i). It returns
// the file's size.
func (c *Corpus) WriteDataset(path, format string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("dataset: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = c.writeRows(w, format, n)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return 0, fmt.Errorf("dataset %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("dataset: %w", err)
	}
	return fi.Size(), nil
}

func (c *Corpus) writeRows(w *bufio.Writer, format string, n int) error {
	switch format {
	case "ndjson":
		line := make([]byte, 0, 4096)
		for i := range n {
			line = append(appendNumbers(line[:0], c.items[i%len(c.items)]), '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		if len(c.csvHead) != len(c.items[0]) {
			return fmt.Errorf("model %s has no CSV header of %d columns", c.Model, len(c.items[0]))
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(c.csvHead); err != nil {
			return err
		}
		rows := make([][]string, len(c.items))
		for k, it := range c.items {
			for _, x := range it {
				rows[k] = append(rows[k], strconv.FormatFloat(float64(x), 'g', -1, 32))
			}
		}
		for i := range n {
			if err := cw.Write(rows[i%len(rows)]); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("dataset format %q: want ndjson or csv", format)
}

// Expected is the class the model gives item i of a dataset written by
// WriteDataset (-1: not known).
func (c *Corpus) Expected(i int) int { return c.classes[i%len(c.items)] }

// OutputCheck is what reading a job's output file found.
type OutputCheck struct {
	Items      int // rows (one per item)
	Failed     int // rows with an error
	Mismatches int // rows whose class is not the expected one
	// FirstFailed is the first failed row (its first 200 bytes).
	FirstFailed string `json:",omitempty"`
}

// CheckOutput reads a job's output file (format ndjson or csv) of n items:
// every index in [0, n) exactly once, and each item's class against
// Expected. Only the fields checked are parsed, so that 10 million rows
// take seconds.
func (c *Corpus) CheckOutput(path, format string, n int) (*OutputCheck, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	defer f.Close()
	seen := make([]uint64, (n+63)/64)
	oc := &OutputCheck{}
	row := func(index, class int, failed bool, text func() string) error {
		if index < 0 || index >= n || seen[index/64]&(1<<(index%64)) != 0 {
			return fmt.Errorf("output row %d: index %d repeated or out of range", oc.Items+1, index)
		}
		seen[index/64] |= 1 << (index % 64)
		oc.Items++
		switch {
		case failed:
			if oc.Failed++; oc.FirstFailed == "" {
				oc.FirstFailed = text()
			}
		case c.Expected(index) >= 0 && class != c.Expected(index):
			oc.Mismatches++
		}
		return nil
	}
	if format == "csv" {
		err = eachCSVRow(f, row)
	} else {
		err = eachNDJSONRow(f, row)
	}
	if err != nil {
		return nil, err
	}
	if oc.Items != n {
		return oc, fmt.Errorf("output: %d rows, want %d", oc.Items, n)
	}
	return oc, nil
}

// eachNDJSONRow calls row with each line's index and class.
func eachNDJSONRow(r io.Reader, row rowFunc) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for k := 1; sc.Scan(); k++ {
		line := sc.Bytes()
		index, ok := intField(line, `"index":`)
		if !ok {
			return fmt.Errorf("output line %d: no index: %.200s", k, line)
		}
		class, ok := intField(line, `"class":`)
		failed := bytes.Contains(line, []byte(`"error":`))
		if !ok && !failed {
			return fmt.Errorf("output line %d: neither a class nor an error: %.200s", k, line)
		}
		if err := row(index, class, failed, func() string { return clip(string(line)) }); err != nil {
			return err
		}
	}
	return sc.Err()
}

// intField is the integer after key in a JSON line.
func intField(line []byte, key string) (int, bool) {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := line[i+len(key):]
	j := 0
	for j < len(rest) && (rest[j] == '-' || rest[j] >= '0' && rest[j] <= '9') {
		j++
	}
	v, err := strconv.Atoi(string(rest[:j]))
	return v, err == nil
}

// eachCSVRow calls row with each CSV row's index and class (columns named
// by the header).
func eachCSVRow(r io.Reader, row rowFunc) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord, cr.FieldsPerRecord = true, -1
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("output header: %w", err)
	}
	ix, cx, sx := slices.Index(head, "index"), slices.Index(head, "class"), slices.Index(head, "status")
	if ix < 0 || cx < 0 || sx < 0 {
		return fmt.Errorf("output header %v: want index, class and status columns", head)
	}
	for k := 2; ; k++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("output row %d: %w", k, err)
		}
		if len(rec) <= max(ix, cx, sx) {
			return fmt.Errorf("output row %d: %d fields", k, len(rec))
		}
		index, err1 := strconv.Atoi(rec[ix])
		class, err2 := strconv.Atoi(rec[cx])
		failed := rec[sx] != "ok"
		if err1 != nil || (err2 != nil && !failed) {
			return fmt.Errorf("output row %d: index %q class %q", k, rec[ix], rec[cx])
		}
		if err := row(index, class, failed, func() string { return clip(strings.Join(rec, ",")) }); err != nil {
			return err
		}
	}
}

// rowFunc takes an output row's index, class, whether it failed, and its
// text (asked for only when needed).
type rowFunc func(index, class int, failed bool, text func() string) error

func clip(s string) string { return s[:min(len(s), 200)] }
