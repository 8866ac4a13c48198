package loadgen

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"batchinfer/client"
)

// corpus holds the inputs the load is made of, in the formats users send,
// and the class the system gave each one when asked alone (a synchronous
// prediction at start): every result of the run must agree with it.
type corpus struct {
	digits      [][]float32 // 8x8 digit images, JSON numbers
	digitClass  []int
	cancer      [][]string // breast_cancer CSV rows
	cancerHead  []string
	cancerClass []int
}

func loadCorpus(dir string) (*corpus, error) {
	var c corpus
	b, err := os.ReadFile(filepath.Join(dir, "digits_samples.json"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var ds []struct {
		Pixels []float32 `json:"pixels"`
	}
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, fmt.Errorf("corpus: digits: %w", err)
	}
	for _, d := range ds {
		c.digits = append(c.digits, d.Pixels)
	}
	f, err := os.Open(filepath.Join(dir, "breast_cancer_sample.csv"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("corpus: breast_cancer csv: %v", err)
	}
	c.cancerHead, c.cancer = rows[0], rows[1:]
	return &c, nil
}

// learn asks the system for the class of every corpus input, one at a
// time, so that batch results can be checked item by item.
func (c *corpus) learn(ctx context.Context, h *client.Client) error {
	c.digitClass = make([]int, len(c.digits))
	for i, px := range c.digits {
		cl, err := predictOne(ctx, h, "digits", client.Numbers(px))
		if err != nil {
			return fmt.Errorf("learn digits %d: %w", i, err)
		}
		c.digitClass[i] = cl
	}
	c.cancerClass = make([]int, len(c.cancer))
	for i, row := range c.cancer {
		feats := map[string]float64{}
		for k, name := range c.cancerHead {
			v, err := strconv.ParseFloat(row[k], 64)
			if err != nil {
				return fmt.Errorf("learn breast_cancer %d: %w", i, err)
			}
			feats[name] = v
		}
		cl, err := predictOne(ctx, h, "breast_cancer", client.Features(feats))
		if err != nil {
			return fmt.Errorf("learn breast_cancer %d: %w", i, err)
		}
		c.cancerClass[i] = cl
	}
	return nil
}

// jobBody is one batch job of n items in a format picked by k: NDJSON or
// a JSON body of digits, or CSV of breast_cancer rows. It returns the
// model, content type, body and the expected class of each item.
func (c *corpus) jobBody(k, n int) (string, string, []byte, []int) {
	var buf bytes.Buffer
	want := make([]int, n)
	switch k % 4 {
	case 0, 1: // NDJSON, the common case
		for i := 0; i < n; i++ {
			s := (k + i) % len(c.digits)
			writeNumbers(&buf, c.digits[s])
			buf.WriteByte('\n')
			want[i] = c.digitClass[s]
		}
		return "digits", "application/x-ndjson", buf.Bytes(), want
	case 2: // one JSON document
		buf.WriteString(`{"model":"digits","inputs":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			s := (k + i) % len(c.digits)
			writeNumbers(&buf, c.digits[s])
			want[i] = c.digitClass[s]
		}
		buf.WriteString("]}")
		return "digits", "application/json", buf.Bytes(), want
	default: // CSV with a header
		w := csv.NewWriter(&buf)
		_ = w.Write(c.cancerHead)
		for i := 0; i < n; i++ {
			s := (k + i) % len(c.cancer)
			_ = w.Write(c.cancer[s])
			want[i] = c.cancerClass[s]
		}
		w.Flush()
		return "breast_cancer", "text/csv", buf.Bytes(), want
	}
}

func writeNumbers(w io.Writer, v []float32) {
	b := make([]byte, 0, 8*len(v))
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	b = append(b, ']')
	_, _ = w.Write(b)
}

// predictOne runs a one-item synchronous prediction and returns its class.
func predictOne(ctx context.Context, c *client.Client, model string, in client.Input) (int, error) {
	p, err := c.Predict(ctx, model, []client.Input{in}, client.PredictOptions{})
	if err != nil {
		return 0, fmt.Errorf("predict %s: %w", model, err)
	}
	if len(p.Items) != 1 || p.Items[0].Class == nil {
		return 0, fmt.Errorf("predict %s: unexpected answer %+v", model, p.Items)
	}
	return *p.Items[0].Class, nil
}
