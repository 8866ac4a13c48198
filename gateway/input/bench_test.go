package input

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"batchinfer/internal/benchcpu"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// benchItems is how many items each benchmark body holds.
const benchItems = 1024

// repeatLines repeats the non-empty lines of file until the body has n.
func repeatLines(tb testing.TB, file string, skip, n int) []byte {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))[skip:]
	var out bytes.Buffer
	for i := 0; i < n; i++ {
		out.Write(lines[i%len(lines)])
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// benchStream reads body with src through Stream, b.N times, and reports
// the throughput (MB/s of body) and the time per item; with encode, every
// 256 items are encoded as a chunk, as the gateway does.
func benchStream(b *testing.B, meta *model.Metadata, body []byte, src func(*bytes.Reader) Source, encode bool) {
	l := Limits{MaxItems: 1 << 30, MaxImageBytes: testMaxImage, MaxLineBytes: 1 << 20}
	n := 0
	var chunk []wire.Item
	sink := func(_ int, it wire.Item, _ int, _ string, invalid error) error {
		if invalid != nil {
			b.Fatalf("item invalid: %v", invalid)
		}
		n++
		if encode {
			if chunk = append(chunk, it); len(chunk) == 256 {
				_ = wire.EncodeChunk(nil, chunk)
				chunk = chunk[:0]
			}
		}
		return nil
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	r := bytes.NewReader(body)
	cpu := benchcpu.Start()
	for b.Loop() {
		r.Reset(body)
		if _, err := Stream(meta, l, src(r), Options{}, sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/item")
	cpu.Report(b, n, "item")
	cpu.ReportBytes(b, int64(b.N)*int64(len(body)))
}

// BenchmarkDecode measures the gateway's reading of a job body: digits rows
// as the load generator sends them (NDJSON lines and a JSON inputs array of
// small integers, ~150 bytes a row), and breast_cancer CSV rows (30
// decimals each).
func BenchmarkDecode(b *testing.B) {
	digits := repeatLines(b, "../../model/testdata/digits_sample.ndjson", 0, benchItems)
	b.Run("digits-ndjson", func(b *testing.B) {
		benchStream(b, digitsMeta(b), digits, func(r *bytes.Reader) Source { return NDJSON(r) }, false)
	})
	raws := make([]json.RawMessage, 0, benchItems)
	for _, l := range bytes.Split(bytes.TrimSpace(digits), []byte("\n")) {
		raws = append(raws, l)
	}
	b.Run("digits-json", func(b *testing.B) {
		benchStream(b, digitsMeta(b), digits, func(*bytes.Reader) Source { return JSONItems(raws) }, false)
	})
	csvBody := repeatLines(b, "../../model/testdata/breast_cancer_sample.csv", 1, benchItems)
	b.Run("cancer-csv", func(b *testing.B) {
		benchStream(b, cancerMeta(b), csvBody, func(r *bytes.Reader) Source { return CSV(r) }, false)
	})
	b.Run("digits-ndjson+encode", func(b *testing.B) {
		benchStream(b, digitsMeta(b), digits, func(r *bytes.Reader) Source { return NDJSON(r) }, true)
	})
	octet := f32s(ramp(64 * benchItems))
	b.Run("digits-octet+encode", func(b *testing.B) {
		benchStream(b, digitsMeta(b), octet, func(r *bytes.Reader) Source { return Raw(r) }, true)
	})
	cancerRows := bytes.ReplaceAll(csvBody, []byte("\n"), []byte("]\n["))
	cancerRows = append([]byte{'['}, cancerRows[:len(cancerRows)-1]...)
	b.Run("cancer-ndjson", func(b *testing.B) {
		benchStream(b, cancerMeta(b), cancerRows, func(r *bytes.Reader) Source { return NDJSON(r) }, false)
	})
}

// BenchmarkParseNumberArray is the number scanner alone on one digits row:
// no allocation per number (nor per row, given room in dst).
func BenchmarkParseNumberArray(b *testing.B) {
	row := bytes.TrimSpace(repeatLines(b, "../../model/testdata/digits_sample.ndjson", 0, 1))
	dims := []int64{8, 8, 1}
	dst := make([]float32, 0, 64)
	b.SetBytes(int64(len(row)))
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		var err error
		if dst, err = parseNumberArray(row, dims, dst[:0]); err != nil || len(dst) != 64 {
			b.Fatal(err, len(dst))
		}
	}
	cpu.Report(b, b.N, "op")
	cpu.ReportBytes(b, int64(b.N)*int64(len(row)))
}
