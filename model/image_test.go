package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// binaryDigit makes a 32×32 binary image whose 4×4 block (bx, by) has
// counts[by*8+bx] pixels set to ink (the first ones in raster order within
// the block) and the others to background.
func binaryDigit(counts []int, ink, background uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for by := range 8 {
		for bx := range 8 {
			c := counts[by*8+bx]
			for i := range 16 {
				v := background
				if i < c {
					v = ink
				}
				img.SetGray(bx*4+i%4, by*4+i/4, color.Gray{v})
			}
		}
	}
	return img
}

func TestDecodeImageAreaAverage(t *testing.T) {
	// Block counts 0..16, as in scikit-learn's digits, in a pattern that
	// makes every position different from its neighbours.
	counts := make([]int, 64)
	for i := range counts {
		counts[i] = (i * 7) % 17
	}
	want := make([]float32, 64)
	for i, c := range counts {
		want[i] = float32(c)
	}
	digits := &ImagePreprocessing{Width: 8, Height: 8, Channels: 1, RangeMin: 0, RangeMax: 16}
	inverted := *digits
	inverted.Invert = true
	for _, tc := range []struct {
		name string
		p    *ImagePreprocessing
		img  image.Image
	}{
		{"white ink on black", digits, binaryDigit(counts, 255, 0)},
		{"black ink on white, inverted", &inverted, binaryDigit(counts, 0, 255)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImage(tc.p, encodePNG(t, tc.img))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d values, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] { // exact: the block counts, no rounding
					t.Errorf("pixel (%d, %d) = %v, want %v", i%8, i/8, got[i], want[i])
				}
			}
		})
	}
}

// near checks that got equals want within tol, element by element; tol 0
// means equal to want rounded to float32.
func near(t *testing.T, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if tol == 0 && got[i] != float32(want[i]) || math.Abs(float64(got[i])-want[i]) > max(tol, 1e-7) {
			t.Errorf("value %d = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

func gray(w, h int, v ...uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, v)
	return img
}

func TestDecodeImage(t *testing.T) {
	unit := func(w, h, ch int) *ImagePreprocessing {
		return &ImagePreprocessing{Width: w, Height: h, Channels: ch, RangeMin: 0, RangeMax: 1}
	}
	// A 3×3 image to 2×2: output pixel (0, 0) covers source [0, 1.5)², so
	// pixel (0, 0) counts fully, (1, 0) and (0, 1) half, (1, 1) a quarter.
	g := []float64{0, 90, 180, 255, 0, 45, 30, 60, 90}
	px := func(x, y int) float64 { return g[y*3+x] / 255 }
	box := func(x0, y0 int) float64 {
		x1, y1 := x0+1, y0+1
		if x0 == 1 {
			x0, x1 = 2, 1 // right column: [1.5, 3) covers x=2 fully and x=1 half
		}
		if y0 == 1 {
			y0, y1 = 2, 1
		}
		return (px(x0, y0) + px(x1, y0)/2 + px(x0, y1)/2 + px(x1, y1)/4) / 2.25
	}
	transparent := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	transparent.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 255}) // opaque black ink
	transparent.SetNRGBA(1, 0, color.NRGBA{200, 0, 0, 0}) // fully transparent
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 1))
	rgb.SetRGBA(0, 0, color.RGBA{255, 0, 0, 255})
	rgb.SetRGBA(1, 0, color.RGBA{0, 51, 255, 255})

	for _, tc := range []struct {
		name string
		p    *ImagePreprocessing
		data []byte
		want []float64
		tol  float64
	}{
		{"fractional coverage", unit(2, 2, 1), encodePNG(t, gray(3, 3, 0, 90, 180, 255, 0, 45, 30, 60, 90)),
			[]float64{box(0, 0), box(1, 0), box(0, 1), box(1, 1)}, 1e-7},
		{"identity", unit(3, 1, 1), encodePNG(t, gray(3, 1, 0, 51, 255)), []float64{0, 0.2, 1}, 0},
		{"upscale", unit(4, 2, 1), encodePNG(t, gray(2, 1, 51, 255)), []float64{0.2, 0.2, 1, 1, 0.2, 0.2, 1, 1}, 0},
		{"non-square", unit(1, 2, 1), encodePNG(t, gray(2, 4, 0, 255, 255, 255, 0, 0, 0, 51)), []float64{0.75, 0.05}, 1e-7},
		{"invert", &ImagePreprocessing{Width: 2, Height: 1, Channels: 1, Invert: true, RangeMin: 0, RangeMax: 16},
			encodePNG(t, gray(2, 1, 0, 255)), []float64{16, 0}, 0},
		{"range", &ImagePreprocessing{Width: 3, Height: 1, Channels: 1, RangeMin: -1, RangeMax: 1},
			encodePNG(t, gray(3, 1, 0, 51, 255)), []float64{-1, -0.6, 1}, 1e-7},
		{"RGB in HWC order", unit(2, 1, 3), encodePNG(t, rgb), []float64{1, 0, 0, 0, 0.2, 1}, 0},
		{"RGB averaged", unit(1, 1, 3), encodePNG(t, rgb), []float64{0.5, 0.1, 0.5}, 1e-7},
		{"RGB to luma", unit(2, 1, 1), encodePNG(t, rgb), []float64{0.299, 0.587*0.2 + 0.114}, 1e-7},
		{"gray to RGB", unit(1, 1, 3), encodePNG(t, gray(1, 1, 51)), []float64{0.2, 0.2, 0.2}, 0},
		{"transparent over black", unit(2, 1, 1), encodePNG(t, transparent), []float64{0, 0}, 0},
		{"transparent over white when inverted", &ImagePreprocessing{Width: 2, Height: 1, Channels: 1, Invert: true, RangeMin: 0, RangeMax: 1},
			encodePNG(t, transparent), []float64{1, 0}, 0},
		{"JPEG", unit(2, 2, 1), encodeJPEG(t, gray(16, 16, bytes.Repeat([]byte{153}, 256)...)), []float64{0.6, 0.6, 0.6, 0.6}, 2.0 / 255},
		{"JPEG color", unit(1, 1, 3), encodeJPEG(t, uniformRGBA(16, 16, color.RGBA{255, 0, 0, 255})), []float64{1, 0, 0}, 4.0 / 255},
		{"GIF", unit(2, 1, 3), encodeGIF(t, rgb), []float64{1, 0, 0, 0, 0.2, 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImage(tc.p, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			near(t, got, tc.want, tc.tol)
		})
	}
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF encodes img with a palette of exactly its colors.
func encodeGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	b := img.Bounds()
	pm := image.NewPaletted(b, nil)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y))
			i := slices.Index(pm.Palette, c)
			if i < 0 {
				i = len(pm.Palette)
				pm.Palette = append(pm.Palette, c)
			}
			pm.SetColorIndex(x, y, uint8(i))
		}
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, pm, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func uniformRGBA(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// pngHeader is the start of a PNG file: enough for image.DecodeConfig, not
// for decoding.
func pngHeader(w, h uint32, colorType byte) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, colorType // bit depth 8
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(ihdr)))
	buf.Write(chunk)
	_ = binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return buf.Bytes()
}

func TestDecodeImageErrors(t *testing.T) {
	p := &ImagePreprocessing{Width: 8, Height: 8, Channels: 1, RangeMin: 0, RangeMax: 16}
	valid := encodePNG(t, gray(4, 4, make([]byte, 16)...))
	for _, tc := range []struct {
		name string
		p    *ImagePreprocessing
		data []byte
		bad  bool // the error must match ErrBadImage
		want string
	}{
		{"empty", p, nil, true, "image: unknown format"},
		{"not an image", p, []byte("GIF89 is not quite a header, and this is text"), true, "bad image"},
		{"truncated PNG", p, valid[:len(valid)-20], true, "bad image: png:"},
		{"corrupt PNG data", p, corrupt(valid), true, "bad image: png:"},
		{"too wide", p, pngHeader(4097, 1, 0), true, "png is 4097x1, over the limit of 4096x4096"},
		{"too tall", p, pngHeader(1, 5000, 0), true, "png is 1x5000, over the limit of 4096x4096"},
		{"too many bytes", p, pngHeader(2100, 2100, 6), true, "png of 2100x2100 is 17 MiB decoded, over the limit of 16 MiB"},
		{"no preprocessing", nil, valid, false, "no image preprocessing"},
		{"bad channels", &ImagePreprocessing{Width: 8, Height: 8, Channels: 2}, valid, false, "bad preprocessing 8x8x2"},
		{"bad size", &ImagePreprocessing{Width: 0, Height: 8, Channels: 1}, valid, false, "bad preprocessing 0x8x1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImage(tc.p, tc.data)
			if err == nil {
				t.Fatalf("no error, got %v", got)
			}
			if errors.Is(err, ErrBadImage) != tc.bad {
				t.Errorf("errors.Is(%v, ErrBadImage) != %v", err, tc.bad)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	// The largest images accepted decode fine.
	big := gray(MaxImageSide, 2, make([]byte, 2*MaxImageSide)...)
	if _, err := DecodeImage(p, encodePNG(t, big)); err != nil {
		t.Errorf("%dx2 image: %v", MaxImageSide, err)
	}
}

// corrupt flips bytes in the middle of a PNG's image data (after the header,
// before the end), so that the header still decodes.
func corrupt(b []byte) []byte {
	c := bytes.Clone(b)
	for i := 45; i < len(c)-16; i++ {
		c[i] ^= 0x5a
	}
	return c
}

func BenchmarkDecodeImage(b *testing.B) {
	p := &ImagePreprocessing{Width: 224, Height: 224, Channels: 3, RangeMin: -1, RangeMax: 1}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodeImage(p, buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeImage checks that DecodeImage never panics on untrusted bytes and
// that what it accepts has the configured size and range.
func FuzzDecodeImage(f *testing.F) {
	img := binaryDigit(make([]int, 64), 0, 255)
	var jb, gb bytes.Buffer
	_ = jpeg.Encode(&jb, img, nil)
	_ = gif.Encode(&gb, img, nil)
	var pb bytes.Buffer
	_ = png.Encode(&pb, img)
	for _, seed := range [][]byte{pb.Bytes(), jb.Bytes(), gb.Bytes(), pngHeader(3, 2, 2)} {
		f.Add(seed, false, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, invert bool, channels uint8) {
		p := &ImagePreprocessing{Width: 8, Height: 6, Channels: 1, Invert: invert, RangeMin: -1, RangeMax: 1}
		if channels%2 == 0 {
			p.Channels = 3
		}
		out, err := DecodeImage(p, data)
		if err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("error %v does not match ErrBadImage", err)
			}
			return
		}
		if len(out) != 8*6*p.Channels {
			t.Fatalf("%d values", len(out))
		}
		for _, v := range out {
			if !(v >= -1-1e-6 && v <= 1+1e-6) {
				t.Fatalf("value %v out of range", v)
			}
		}
	})
}
