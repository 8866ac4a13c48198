package model

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register the GIF decoder
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
)

// Limits on the images DecodeImage accepts, checked from the image header
// before anything is decoded.
const (
	// MaxImageSide is the largest accepted width or height, in pixels.
	MaxImageSide = 4096
	// MaxImageBytes is the largest accepted decoded size, in bytes.
	MaxImageBytes = 16 << 20
)

// ErrBadImage is matched (errors.Is) by DecodeImage's error when the image
// cannot be decoded or is over the limits.
var ErrBadImage = errors.New("bad image")

// DecodeImage turns an encoded PNG, JPEG or GIF (its first frame) into a
// model input item as p describes: it converts the image to grayscale (luma,
// 0.299 R + 0.587 G + 0.114 B) when p.Channels is 1 or to RGB when it is 3,
// resizes it to p.Width×p.Height by area averaging (each output pixel is the
// mean of the source area it covers, with fractional coverage at the
// edges), inverts it if p.Invert, and scales 0..255 linearly to
// [p.RangeMin, p.RangeMax]. The result is row-major height × width ×
// channels.
//
// Transparent pixels are composited over the background: white when
// p.Invert (dark ink on a light background), black otherwise.
//
// Images over MaxImageSide pixels on a side or MaxImageBytes decoded are
// refused before decoding. Every error about the image data matches
// ErrBadImage.
func DecodeImage(p *ImagePreprocessing, data []byte) ([]float32, error) {
	if p == nil {
		return nil, errors.New("decode image: no image preprocessing")
	}
	if p.Width <= 0 || p.Height <= 0 || (p.Channels != 1 && p.Channels != 3) {
		return nil, fmt.Errorf("decode image: bad preprocessing %dx%dx%d", p.Width, p.Height, p.Channels)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s is %dx%d", ErrBadImage, format, cfg.Width, cfg.Height)
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return nil, fmt.Errorf("%w: %s is %dx%d, over the limit of %dx%d", ErrBadImage, format, cfg.Width, cfg.Height, MaxImageSide, MaxImageSide)
	}
	if size := int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel); size > MaxImageBytes {
		return nil, fmt.Errorf("%w: %s of %dx%d is %d MiB decoded, over the limit of %d MiB", ErrBadImage, format, cfg.Width, cfg.Height, (size+1<<20-1)>>20, MaxImageBytes>>20)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadImage, format, err)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%w: %s header says %dx%d, image is %dx%d", ErrBadImage, format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return preprocess(p, img), nil
}

// bytesPerPixel estimates the decoded size of a pixel in color model m.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// preprocess applies p to a decoded image: channel conversion, area-average
// resize, inversion and scaling.
func preprocess(p *ImagePreprocessing, img image.Image) []float32 {
	b := img.Bounds()
	sw, sh, ch := b.Dx(), b.Dy(), p.Channels
	xs := boxAxisWeights(sw, p.Width).byOutput
	ys := boxAxisWeights(sh, p.Height)

	// Pixel values are kept as fractions of full intensity (0..1) so that
	// power-of-two scale factors give exact results.
	acc := make([]float64, p.Width*p.Height*ch) // output rows, accumulated
	row := make([]float64, sw*ch)               // one source row
	hrow := make([]float64, p.Width*ch)         // that row resized horizontally
	bg := 0.0
	if p.Invert {
		bg = 1
	}
	read := rowReader(img, ch, bg)
	for sy := range sh {
		read(b.Min.Y+sy, row)
		for ox, ws := range xs {
			for c := range ch {
				var s float64
				for _, w := range ws {
					s += w.w * row[w.i*ch+c]
				}
				hrow[ox*ch+c] = s
			}
		}
		for _, w := range ys.bySource[sy] {
			out := acc[w.i*p.Width*ch : (w.i+1)*p.Width*ch]
			for i, v := range hrow {
				out[i] += w.w * v
			}
		}
	}

	res := make([]float32, len(acc))
	lo, span := p.RangeMin, p.RangeMax-p.RangeMin
	for i, v := range acc {
		if p.Invert {
			v = 1 - v
		}
		res[i] = float32(lo + v*span)
	}
	return res
}

// weight is a resize coefficient: the share w of source (or output) pixel i.
type weight struct {
	i int
	w float64
}

// boxAxis holds the area-average coefficients along one axis, indexed by
// output pixel (the slice) and by source pixel (bySource).
type boxAxis struct {
	byOutput [][]weight
	bySource [][]weight
}

// boxAxisWeights computes the exact box-filter coefficients that map src pixels
// onto dst pixels: output pixel o covers the source interval
// [o*src/dst, (o+1)*src/dst), and source pixel i contributes the length of
// its overlap with that interval divided by the interval's length. Lengths
// are computed in integer units of 1/dst source pixels, so only the final
// division rounds.
func boxAxisWeights(src, dst int) boxAxis {
	ax := boxAxis{byOutput: make([][]weight, dst), bySource: make([][]weight, src)}
	for o := range dst {
		lo, hi := o*src, (o+1)*src // in units of 1/dst source pixels
		for i := lo / dst; i*dst < hi; i++ {
			ov := min(hi, (i+1)*dst) - max(lo, i*dst)
			if ov <= 0 {
				continue
			}
			w := float64(ov) / float64(src)
			ax.byOutput[o] = append(ax.byOutput[o], weight{i, w})
			ax.bySource[i] = append(ax.bySource[i], weight{o, w})
		}
	}
	return ax
}

// rowReader returns a function that stores row y of img into row as ch
// channels per pixel (gray or RGB), each 0..1, composited over the gray level
// bg where the image is transparent. The common decoder outputs take fast
// paths; other image types go through the color model.
func rowReader(img image.Image, ch int, bg float64) func(y int, row []float64) {
	b := img.Bounds()
	put := func(row []float64, x int, r, g, bl float64) {
		if ch == 1 {
			row[x] = luma(r, g, bl)
		} else {
			row[3*x], row[3*x+1], row[3*x+2] = r, g, bl
		}
	}
	switch m := img.(type) {
	case *image.Gray:
		return func(y int, row []float64) {
			pix := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				v := float64(pix[x]) / 255
				put(row, x, v, v, v)
			}
		}
	case *image.YCbCr:
		return func(y int, row []float64) {
			for x := range b.Dx() {
				yi, ci := m.YOffset(b.Min.X+x, y), m.COffset(b.Min.X+x, y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(row, x, float64(r)/255, float64(g)/255, float64(bl)/255)
			}
		}
	case *image.NRGBA:
		return func(y int, row []float64) {
			pix := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				px := pix[4*x : 4*x+4]
				a := float64(px[3]) / 255
				put(row, x, over(px[0], a, bg), over(px[1], a, bg), over(px[2], a, bg))
			}
		}
	case *image.RGBA:
		return func(y int, row []float64) {
			pix := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				px := pix[4*x : 4*x+4]
				t := bg * (1 - float64(px[3])/255) // premultiplied: add the background's share
				put(row, x, float64(px[0])/255+t, float64(px[1])/255+t, float64(px[2])/255+t)
			}
		}
	case *image.Paletted:
		pal := make([][3]float64, len(m.Palette))
		for i, c := range m.Palette {
			pal[i] = rgbOver(c, bg)
		}
		return func(y int, row []float64) {
			pix := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				var c [3]float64 // out-of-range index: black, as image.Paletted.At
				if int(pix[x]) < len(pal) {
					c = pal[pix[x]]
				}
				put(row, x, c[0], c[1], c[2])
			}
		}
	}
	return func(y int, row []float64) {
		for x := range b.Dx() {
			c := rgbOver(img.At(b.Min.X+x, y), bg)
			put(row, x, c[0], c[1], c[2])
		}
	}
}

// luma is the ITU-R BT.601 luma of an RGB color. Gray colors map to
// themselves exactly.
func luma(r, g, b float64) float64 {
	if r == g && g == b {
		return r
	}
	return 0.299*r + 0.587*g + 0.114*b
}

// over composites an 8-bit non-premultiplied channel value with alpha a over
// the gray level bg, giving 0..1.
func over(v uint8, a, bg float64) float64 {
	if a == 1 {
		return float64(v) / 255
	}
	return float64(v)/255*a + bg*(1-a)
}

// rgbOver converts c to 0..1 RGB composited over the gray level bg.
func rgbOver(c color.Color, bg float64) [3]float64 {
	r, g, b, a := c.RGBA() // premultiplied, 0..0xffff
	t := bg * (1 - float64(a)/0xffff)
	return [3]float64{float64(r)/0xffff + t, float64(g)/0xffff + t, float64(b)/0xffff + t}
}
