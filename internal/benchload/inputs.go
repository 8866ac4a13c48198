package benchload

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Formats are the job body formats the load generator sends.
var Formats = []string{"ndjson", "json", "csv", "b64", "image", "octet", "npy", "npy-u8"}

// Corpus holds the inputs of one model and the class the model gives
// each (from the samples file's reference probabilities), to check results.
type Corpus struct {
	Model    string
	Shape    []int // of one item
	items    [][]float32
	classes  []int // -1: unknown (random inputs)
	csvHead  []string
	csvRows  [][]string
	pngImage []byte // an image input, for "image"
}

// LoadCorpus reads dir/MODEL_samples.json (and MODEL_sample.csv,
// digits_7.png where they exist); a model without samples gets random
// inputs of shape in [0, 1).
func LoadCorpus(dir, model string, shape []int) (*Corpus, error) {
	c := &Corpus{Model: model, Shape: shape}
	b, err := os.ReadFile(filepath.Join(dir, model+"_samples.json"))
	switch {
	case os.IsNotExist(err):
		c.random(8)
	case err != nil:
		return nil, fmt.Errorf("corpus: %w", err)
	default:
		if err := c.parseSamples(b); err != nil {
			return nil, err
		}
	}
	if f, err := os.Open(filepath.Join(dir, model+"_sample.csv")); err == nil {
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 2 {
			return nil, fmt.Errorf("corpus: %s csv: %v", model, err)
		}
		c.csvHead, c.csvRows = rows[0], rows[1:]
	}
	if model == "digits" {
		c.pngImage, _ = os.ReadFile(filepath.Join(dir, "digits_7.png"))
	}
	return c, nil
}

func (c *Corpus) parseSamples(b []byte) error {
	var ss []map[string]json.RawMessage
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("corpus %s: %w", c.Model, err)
	}
	for _, s := range ss {
		var in, probs []float32
		for _, k := range []string{"pixels", "features"} {
			_ = json.Unmarshal(s[k], &in)
		}
		_ = json.Unmarshal(s["probabilities"], &probs)
		if len(in) == 0 {
			return fmt.Errorf("corpus %s: a sample without inputs", c.Model)
		}
		c.items = append(c.items, in)
		c.classes = append(c.classes, argmax(probs))
	}
	return nil
}

func (c *Corpus) random(n int) {
	r := rand.New(rand.NewPCG(1, 2))
	c.fill(n, r.Float32)
}

// UsePixels replaces the corpus's inputs by n of random integers in
// [lo, hi]: what a client sends for an image it decoded (pixels of 0 to
// 255 as float32, or a model's own integer scale, like digits' 0 to 16).
// The classes are unknown.
func (c *Corpus) UsePixels(n int, lo, hi float64) {
	r := rand.New(rand.NewPCG(3, 4))
	span := int(hi-lo) + 1
	c.fill(n, func() float32 { return float32(int(lo) + r.IntN(span)) })
}

// fill replaces the corpus's inputs by n items of values from value, of
// unknown classes.
func (c *Corpus) fill(n int, value func() float32) {
	c.items, c.classes = nil, nil
	for range n {
		it := make([]float32, c.itemSize())
		for j := range it {
			it[j] = value()
		}
		c.items = append(c.items, it)
		c.classes = append(c.classes, -1)
	}
}

func (c *Corpus) itemSize() int {
	size := 1
	for _, d := range c.Shape {
		size *= d
	}
	return size
}

func argmax(v []float32) int {
	best := -1
	for i, x := range v {
		if best < 0 || x > v[best] {
			best = i
		}
	}
	return best
}

// Body is a job body of n items in format f: its content type, bytes, and
// the class expected of each item (-1: not checked).
func (c *Corpus) Body(f string, n int) (ct string, body []byte, want []int, err error) {
	want = make([]int, n)
	for i := range want {
		want[i] = c.classes[i%len(c.items)]
	}
	var buf bytes.Buffer
	switch f {
	case "ndjson", "b64", "image":
		return "application/x-ndjson", c.ndjson(&buf, f, n, want), want, nil
	case "json":
		fmt.Fprintf(&buf, `{"model":%q,"inputs":[`, c.Model)
		for i := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(appendNumbers(nil, c.items[i%len(c.items)]))
		}
		buf.WriteString("]}")
		return "application/json", buf.Bytes(), want, nil
	case "csv":
		if c.csvHead == nil {
			return "", nil, nil, fmt.Errorf("model %s has no CSV sample", c.Model)
		}
		w := csv.NewWriter(&buf)
		_ = w.Write(c.csvHead)
		for i := range n {
			_ = w.Write(c.csvRows[i%len(c.csvRows)])
			want[i] = -1 // the CSV sample's rows are not the samples file's
		}
		w.Flush()
		return "text/csv", buf.Bytes(), want, nil
	case "octet":
		return "application/octet-stream", c.raw(&buf, n), want, nil
	case "npy":
		writeNPYHeader(&buf, n, c.Shape, "<f4")
		return "application/x-npy", c.raw(&buf, n), want, nil
	case "npy-u8": // uint8, what a client holding decoded images sends
		writeNPYHeader(&buf, n, c.Shape, "|u1")
		body, err := c.bytes(&buf, n)
		return "application/x-npy", body, want, err
	}
	return "", nil, nil, fmt.Errorf("format %q: want one of %v", f, Formats)
}

func (c *Corpus) ndjson(buf *bytes.Buffer, f string, n int, want []int) []byte {
	line := make([]byte, 0, 1024)
	for i := range n {
		it := c.items[i%len(c.items)]
		line = line[:0]
		switch f {
		case "ndjson":
			line = appendNumbers(line, it)
		case "b64":
			line = append(line, `{"b64":"`...)
			line = base64.StdEncoding.AppendEncode(line, float32Bytes(it))
			line = append(line, `"}`...)
		case "image":
			line = append(line, `{"image":"`...)
			line = base64.StdEncoding.AppendEncode(line, c.pngImage)
			line = append(line, `"}`...)
			want[i] = 7
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func (c *Corpus) raw(buf *bytes.Buffer, n int) []byte {
	for i := range n {
		buf.Write(float32Bytes(c.items[i%len(c.items)]))
	}
	return buf.Bytes()
}

// bytes writes the items one byte a value: every value must be an
// integer in [0, 255] (-inputs pixels).
func (c *Corpus) bytes(buf *bytes.Buffer, n int) ([]byte, error) {
	for i := range n {
		for _, x := range c.items[i%len(c.items)] {
			if x != float32(byte(x)) {
				return nil, fmt.Errorf("format npy-u8: value %v is not an integer in [0, 255] (use -inputs pixels)", x)
			}
			buf.WriteByte(byte(x))
		}
	}
	return buf.Bytes(), nil
}

func appendNumbers(b []byte, v []float32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// writeNPYHeader writes a .npy (version 1.0) header for n items of shape
// of dtype descr (<f4: little-endian float32, |u1: uint8).
func writeNPYHeader(buf *bytes.Buffer, n int, shape []int, descr string) {
	dims := strconv.Itoa(n)
	for _, d := range shape {
		dims += ", " + strconv.Itoa(d)
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims)
	pad := 64 - (10+len(h)+1)%64
	h += string(bytes.Repeat([]byte(" "), pad%64)) + "\n"
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
}
