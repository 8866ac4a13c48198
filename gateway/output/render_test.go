package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

func ptr(n int) *int { return &n }

// chunk is a stored chunk result with awkward items: a label, an error and
// an id needing CSV quoting, a skipped item, a failed one without a line.
func chunk() []byte {
	cr := wire.ChunkResult{Job: "j1", Chunk: 0, Start: 0, Items: []wire.ItemResult{
		{Index: 0, Label: "cat", Class: ptr(0), Score: 0.75, Probabilities: []float32{0.75, 0.25}, Line: 2, ID: "a"},
		{Index: 1, Label: `dog, "big"`, Class: ptr(1), Score: 0.5, Probabilities: []float32{0.5, 0.5}, Line: 3, ID: "b,1"},
		{Index: 2, Error: "invalid input (line 4): expected 64 values, got \"x\"\nsecond line", Line: 4, ID: " c"},
		{Index: 3, Error: "job cancelled", Skipped: true, Line: 5},
		{Index: 4, Error: "model failed"},
		{Index: 5, Label: "cat", Class: ptr(0), Score: 1.5e-7, Probabilities: []float32{1.5e-7, 0.9999998}},
	}}
	return cr.AppendJSON(nil)
}

func render(t *testing.T, f File, cols []string, data []byte) string {
	t.Helper()
	r := NewRenderer(f, cols)
	out := string(r.Header())
	b, err := r.Chunk(data)
	if err != nil {
		t.Fatal(err)
	}
	return out + string(b)
}

func TestCSVOutputEscapesAndHasProbabilityColumns(t *testing.T) {
	got := render(t, File{KindOutput, FormatCSV}, []string{"p_cat", "p_dog"}, chunk())
	rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("the file does not read back as CSV: %v\n%s", err, got)
	}
	want := [][]string{
		{"index", "line", "id", "status", "label", "class", "score", "error", "p_cat", "p_dog"},
		{"0", "2", "a", "ok", "cat", "0", "0.75", "", "0.75", "0.25"},
		{"1", "3", "b,1", "ok", `dog, "big"`, "1", "0.5", "", "0.5", "0.5"},
		{"2", "4", " c", "failed", "", "", "", "invalid input (line 4): expected 64 values, got \"x\"\nsecond line", "", ""},
		{"3", "5", "", "skipped", "", "", "", "job cancelled", "", ""},
		{"4", "", "", "failed", "", "", "", "model failed", "", ""},
		{"5", "", "", "ok", "cat", "0", "1.5e-07", "", "1.5e-07", "0.9999998"},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Fatalf("rows\n%q\nwant\n%q", rows, want)
	}
	if !strings.Contains(got, `"dog, ""big"""`) || !strings.Contains(got, `"b,1"`) {
		t.Fatalf("quoting not RFC 4180:\n%s", got)
	}
}

func TestCSVOutputWithoutProbabilities(t *testing.T) {
	got := render(t, File{KindOutput, FormatCSV}, nil, chunk())
	first, _, _ := strings.Cut(got, "\n")
	if first != "index,line,id,status,label,class,score,error" {
		t.Fatalf("header %q", first)
	}
	rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || len(rows) != 7 || len(rows[1]) != 8 {
		t.Fatalf("%v %q", err, rows)
	}
}

func TestNDJSONOutputIsTheStoredItems(t *testing.T) {
	data := chunk()
	got := render(t, File{KindOutput, FormatNDJSON}, []string{"p_cat", "p_dog"}, data)
	var items []string
	if err := wire.EachItem(data, func(it []byte) error { items = append(items, string(it)); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(items, "\n") + "\n"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestErrorsFilesListFailedItemsOnly(t *testing.T) {
	got := render(t, File{KindErrors, FormatNDJSON}, nil, chunk())
	var lines []api.ErrorsFileLine
	dec := json.NewDecoder(strings.NewReader(got))
	for dec.More() {
		var l api.ErrorsFileLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	want := []api.ErrorsFileLine{
		{Index: 2, Line: 4, ID: " c", Reason: "invalid input (line 4): expected 64 values, got \"x\"\nsecond line"},
		{Index: 4, Reason: "model failed"},
	}
	if !slices.Equal(lines, want) || strings.Count(got, "\n") != 2 {
		t.Fatalf("got %q\nwant %+v", got, want)
	}
	got = render(t, File{KindErrors, FormatCSV}, []string{"p_cat"}, chunk())
	rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	wantRows := [][]string{{"index", "line", "id", "reason"}, {"2", "4", " c", want[0].Reason}, {"4", "", "", "model failed"}}
	if err != nil || !slices.EqualFunc(rows, wantRows, slices.Equal) {
		t.Fatalf("%v\n%q", err, rows)
	}
}

// A chunk renders to the same bytes every time, with one renderer or
// another: the index of lengths stays true.
func TestRenderingIsRepeatable(t *testing.T) {
	for _, f := range []File{{KindOutput, FormatNDJSON}, {KindOutput, FormatCSV}, {KindErrors, FormatNDJSON}, {KindErrors, FormatCSV}} {
		r := NewRenderer(f, []string{"p_cat", "p_dog"})
		a, _ := r.Chunk(chunk())
		a = bytes.Clone(a)
		b, _ := r.Chunk(chunk())
		c, _ := NewRenderer(f, []string{"p_cat", "p_dog"}).Chunk(chunk())
		if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
			t.Errorf("%s: renders differ", f.Name())
		}
	}
}

func TestRenderRefusesWhatIsNotAChunkResult(t *testing.T) {
	r := NewRenderer(File{KindOutput, FormatCSV}, nil)
	for _, data := range []string{`not json`, `{"job":"j","items":[{"index":1,"class":"x"}]}`, `{"job":"j","items":[{"index":1`} {
		if _, err := r.Chunk([]byte(data)); err == nil {
			t.Errorf("%s: no error", data)
		}
	}
}

func TestParseAndColumns(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   string
		ok     bool
	}{{"", "output.ndjson", true}, {"ndjson", "output.ndjson", true}, {"csv", "output.csv", true}, {"parquet", "", false}, {"CSV", "", false}} {
		f, err := Parse(KindOutput, tc.format)
		if (err == nil) != tc.ok || (tc.ok && f.Name() != tc.want) {
			t.Errorf("Parse(%q) = %v, %v", tc.format, f, err)
		}
	}
	for _, tc := range []struct {
		labels  []string
		classes int
		want    []string
	}{
		{[]string{"0", "1"}, 2, []string{"p_0", "p_1"}},
		{[]string{"cat", "dog"}, 2, []string{"p_cat", "p_dog"}},
		{[]string{"cat", "cat"}, 2, []string{"p_0", "p_1"}}, // repeated: by class
		{[]string{"cat"}, 2, []string{"p_0", "p_1"}},        // missing: by class
		{nil, 40, nil}, // too many classes: no probabilities
		{nil, 0, nil},
	} {
		if got := Columns(tc.labels, tc.classes, 32); !slices.Equal(got, tc.want) {
			t.Errorf("Columns(%v, %d) = %v, want %v", tc.labels, tc.classes, got, tc.want)
		}
	}
}

// Every file renders the same from a chunk stored compact as from JSON.
func TestRenderBothForms(t *testing.T) {
	var awkward wire.ChunkResult
	if err := json.Unmarshal(chunk(), &awkward); err != nil {
		t.Fatal(err)
	}
	var digits wire.ChunkResult
	if err := json.Unmarshal(digitsChunk(), &digits); err != nil {
		t.Fatal(err)
	}
	cols := Columns([]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, 10, 32)
	for _, f := range []File{{KindOutput, FormatCSV}, {KindOutput, FormatNDJSON}, {KindErrors, FormatCSV}, {KindErrors, FormatNDJSON}} {
		for name, cr := range map[string]*wire.ChunkResult{"awkward": &awkward, "digits": &digits} {
			c := cols
			if name == "awkward" {
				c = []string{"p_cat", "p_dog"}
			}
			fromJSON, compact := render(t, f, c, cr.AppendJSON(nil)), render(t, f, c, cr.AppendCompact(nil))
			if fromJSON != compact {
				t.Errorf("%v %s:\n json    %q\n compact %q", f, name, fromJSON, compact)
			}
		}
	}
}
