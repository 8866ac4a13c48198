package benchload

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

func TestUsePixelsGivesIntegersInTheRange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi float64
	}{
		{"image", 0, 255},
		{"digits scale", 0, 16},
		{"offset", 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Corpus{Model: "m", Shape: []int{16, 16, 3}}
			c.UsePixels(8, tc.lo, tc.hi)
			ct, body, want, err := c.Body("octet", 10)
			if err != nil || ct != "application/octet-stream" {
				t.Fatalf("Body: %q, %v", ct, err)
			}
			if len(body) != 10*768*4 || len(want) != 10 {
				t.Fatalf("%d bytes and %d classes for 10 items of 768 values", len(body), len(want))
			}
			seen := map[float32]bool{}
			for i := 0; i < len(body); i += 4 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(body[i:]))
				if v != float32(math.Trunc(float64(v))) || float64(v) < tc.lo || float64(v) > tc.hi {
					t.Fatalf("value %v: want an integer in [%v, %v]", v, tc.lo, tc.hi)
				}
				seen[v] = true
			}
			if len(seen) != int(tc.hi-tc.lo)+1 {
				t.Errorf("%d distinct values, want every one of [%v, %v]", len(seen), tc.lo, tc.hi)
			}
		})
	}
}

// npy-u8 sends pixels one byte a value after a uint8 header, and refuses
// inputs that are not bytes.
func TestNPYUint8Body(t *testing.T) {
	c := &Corpus{Model: "m", Shape: []int{4, 4, 3}}
	c.UsePixels(2, 0, 255)
	ct, body, _, err := c.Body("npy-u8", 3)
	if err != nil || ct != "application/x-npy" {
		t.Fatalf("Body: %q, %v", ct, err)
	}
	hdr := bytes.IndexByte(body, '\n') + 1
	if !bytes.Contains(body[:hdr], []byte("'descr': '|u1'")) || !bytes.Contains(body[:hdr], []byte("'shape': (3, 4, 4, 3)")) || hdr%64 != 0 {
		t.Fatalf("header %q", body[:hdr])
	}
	if n := len(body) - hdr; n != 3*48 {
		t.Fatalf("%d bytes of data, want %d", n, 3*48)
	}
	c.random(2) // floats in [0, 1)
	if _, _, _, err := c.Body("npy-u8", 3); err == nil {
		t.Fatal("floats sent as bytes")
	}
}
