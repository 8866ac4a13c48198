package input

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"batchinfer/internal/wire"
)

// checkParseFloat32 checks that parseFloat32 gives what strconv gives, bit
// for bit (the sign of zero included), and refuses what strconv refuses or
// reads as an infinity.
func checkParseFloat32(t *testing.T, s string) {
	t.Helper()
	got, ok := parseFloat32(s)
	want, err := strconv.ParseFloat(s, 32)
	wantOK := err == nil && !math.IsInf(want, 0)
	if ok != wantOK {
		t.Fatalf("%q: ok %v, strconv %v (%v)", s, ok, wantOK, err)
	}
	if ok && math.Float32bits(got) != math.Float32bits(float32(want)) {
		t.Fatalf("%q: %v (%#x), strconv %v (%#x)", s, got, math.Float32bits(got), float32(want), math.Float32bits(float32(want)))
	}
}

func TestParseFloat32MatchesStrconv(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "+0", "16", "-16", "0.5", ".5", "5.", "+.5", "-.5", "1.2.3", ".", "+", "-", "", "--1", "1-",
		"0.1", "0.3", "3.14159", "0.0000000001", "0.00000000001", "1677721", "16777215", "16777216", "16777217",
		"9999999", "99999999", "0.9999999", "1.0000001", "123456.7", "0000000000000012", "00.000000000050",
		"1e3", "1E-3", "1e39", "-1e39", "1e-50", "Inf", "NaN", "0x10", "1_0", "12.75", "0.06623", "1349.0",
	} {
		checkParseFloat32(t, s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		checkParseFloat32(t, randomDecimal(r))
	}
}

// randomDecimal is a decimal of up to 9 digits with a point anywhere.
func randomDecimal(r *rand.Rand) string {
	digits := 1 + r.IntN(9)
	b := make([]byte, 0, 12)
	if r.IntN(4) == 0 {
		b = append(b, '-')
	}
	point := r.IntN(digits + 2)
	for i := range digits {
		if i == point {
			b = append(b, '.')
		}
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

func FuzzParseFloat32(f *testing.F) {
	for _, s := range []string{"0", "-0", "16", "0.5", ".5", "5.", "12.75", "0.0000000001", "16777215", "1e3", "x", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(checkParseFloat32)
}

// TestItemsKeepTheirValues reads thousands of distinct rows in every text
// form and checks that each item kept holds its own values: items share
// blocks of bytes (Decoder.data) and values are read into reused room.
func TestItemsKeepTheirValues(t *testing.T) {
	const n = 3000
	meta := cancerMeta(t) // 30 values, no range
	rows := make([][]float32, n)
	var nd, csvBody strings.Builder
	for i := range rows {
		rows[i] = make([]float32, 30)
		for k := range rows[i] {
			rows[i][k] = float32(i) + float32(k)/100
		}
		nd.WriteString(numArray(rows[i]) + "\n")
		csvBody.WriteString(strings.Trim(numArray(rows[i]), "[]") + "\n")
	}
	l := Limits{MaxItems: n, MaxImageBytes: testMaxImage, MaxLineBytes: 1 << 20}
	for name, src := range map[string]func() Source{
		"ndjson": func() Source { return NDJSON(strings.NewReader(nd.String())) },
		"csv":    func() Source { return CSV(strings.NewReader(csvBody.String())) },
	} {
		items, err := Decode(meta, l, src())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var kept []wire.Item
		if _, err := Stream(meta, l, src(), Options{}, func(_ int, it wire.Item, _ int, _ string, invalid error) error {
			kept = append(kept, it)
			return invalid
		}); err != nil {
			t.Fatalf("%s stream: %v", name, err)
		}
		for _, got := range [][]wire.Item{items, kept} {
			if len(got) != n {
				t.Fatalf("%s: %d items", name, len(got))
			}
			for i, it := range got {
				if v := tensorValues(t, it); !slices.Equal(v, rows[i]) || cap(it.Data) != len(it.Data) {
					t.Fatalf("%s: item %d is %v (cap %d), want %v", name, i, v, cap(it.Data), rows[i])
				}
			}
		}
	}
}
