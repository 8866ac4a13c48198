package input

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

// Raw reads items as raw little-endian float32 values, item_size of them
// per item, back to back (application/octet-stream): large tensors skip
// JSON and base64 entirely.
func Raw(r io.Reader) Source { return rawTensors{r} }

// RawBytes reads items as raw uint8 values, item_size of them per item,
// back to back: a tensor already in the one-byte form the items travel
// in, checked against the model's range and taken as it is.
func RawBytes(r io.Reader) Source { return rawBytes{r} }

// NPY reads a NumPy .npy file (application/x-npy): a uint8, little-endian
// float32 or float64 array of shape (n, ...) in C order whose item
// dimensions are the model's input shape or item_size flat; float64 values
// are rounded to float32, and uint8 values (a decoded image's pixels) go on
// one byte a value.
func NPY(r io.Reader) Source { return npyTensors{r} }

type rawTensors struct{ r io.Reader }

func (s rawTensors) into(d *Decoder, _ Limits) error { return d.decodeRaw(s.r, 4, -1) }

type rawBytes struct{ r io.Reader }

func (s rawBytes) into(d *Decoder, _ Limits) error { return d.decodeRaw(s.r, 1, -1) }

type npyTensors struct{ r io.Reader }

func (s npyTensors) into(d *Decoder, _ Limits) error {
	br := bufio.NewReaderSize(s.r, 64<<10)
	h, err := readNPYHeader(br)
	if err != nil {
		return err
	}
	if err := h.fits(d); err != nil {
		return err
	}
	return d.decodeRaw(br, h.width, h.shape[0])
}

// decodeRaw reads items of item_size values of width bytes (1: uint8,
// 4: float32, 8: float64), want of them (-1: until the end).
func (d *Decoder) decodeRaw(r io.Reader, width, want int) error {
	size := width * d.itemSize
	n := 0
	var ae *api.Error // out of the loop: errors.As takes its address, which escapes
	for ; want < 0 || n < want; n++ {
		buf := d.data(size)
		k, err := io.ReadFull(r, buf)
		switch {
		case err == nil:
		case errors.As(err, &ae): // the body's own error (too slow, cut short)
			return ae
		case errors.Is(err, io.EOF) && want < 0:
			return nil
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return api.Errorf(api.CodeInvalidInput, "the body ends inside item %d (%d of its %d bytes): an item is %d %d-byte values (shape %v)",
				n, k, size, d.itemSize, width, d.meta.Input.Shape[1:])
		case err != nil:
			if tooLarge := bodyTooLarge(err); tooLarge != nil {
				return tooLarge
			}
			return fmt.Errorf("read tensors: %w", err)
		}
		if err := d.addRaw(buf, width); err != nil {
			return err
		}
	}
	if k, _ := io.ReadFull(r, make([]byte, 1)); k > 0 {
		return api.Errorf(api.CodeInvalidInput, "bytes after the %d items the .npy header announces", want)
	}
	return nil
}

// addRaw checks one item's values and adds it: in the one-byte form when
// every value fits it, else as float32.
func (d *Decoder) addRaw(buf []byte, width int) error {
	if d.n >= d.maxItems {
		return d.tooMany()
	}
	if d.skipped() {
		return nil
	}
	if width == 1 { // uint8: the one-byte form as it is
		return d.emit(wire.Item{Kind: wire.ItemTensorU8, Data: buf}, 0, "", d.checkBytes(buf))
	}
	if width == 8 {
		for i := range d.itemSize {
			v := float32(math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:])))
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		buf = buf[:4*d.itemSize]
	}
	it, bad := d.tensorBytes(buf[:4*d.itemSize])
	return d.emit(it, 0, "", bad)
}

// npyHeader is what a .npy header says.
type npyHeader struct {
	width int // bytes per value
	shape []int
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// readNPYHeader reads the magic, version and header dictionary of a .npy
// file (format versions 1 to 3).
func readNPYHeader(r io.Reader) (npyHeader, error) {
	bad := func(format string, a ...any) (npyHeader, error) {
		return npyHeader{}, api.Errorf(api.CodeInvalidInput, "not a usable .npy file: "+format, a...)
	}
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return bad("no \\x93NUMPY magic")
	}
	var hlen int
	switch pre[6] {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(r, b); err != nil {
			return bad("short header")
		}
		hlen = int(binary.LittleEndian.Uint16(b))
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(r, b); err != nil {
			return bad("short header")
		}
		hlen = int(binary.LittleEndian.Uint32(b))
	default:
		return bad("format version %d", pre[6])
	}
	if hlen > 1<<16 {
		return bad("header of %d bytes", hlen)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return bad("short header")
	}
	return parseNPYDict(string(h))
}

func parseNPYDict(h string) (npyHeader, error) {
	bad := func(format string, a ...any) (npyHeader, error) {
		return npyHeader{}, api.Errorf(api.CodeInvalidInput, "not a usable .npy file: "+format, a...)
	}
	descr, fortran, shape := npyDescr.FindStringSubmatch(h), npyFortran.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if descr == nil || fortran == nil || shape == nil {
		return bad("header %q lacks descr, fortran_order or shape", h)
	}
	var out npyHeader
	switch descr[1] {
	case "|u1", "<u1":
		out.width = 1
	case "<f4":
		out.width = 4
	case "<f8":
		out.width = 8
	default:
		return bad("dtype %q: want uint8 (|u1), little-endian float32 (<f4) or float64 (<f8)", descr[1])
	}
	if fortran[1] == "True" {
		return bad("Fortran order: save a C-ordered array (np.ascontiguousarray)")
	}
	for _, f := range strings.Split(shape[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return bad("shape (%s)", shape[1])
		}
		out.shape = append(out.shape, n)
	}
	if len(out.shape) == 0 {
		return bad("a scalar: want an array of shape (n, ...)")
	}
	return out, nil
}

// fits checks that the array is items of the model's input: (n, *shape) or
// (n, item_size).
func (h npyHeader) fits(d *Decoder) error {
	size := 1
	for _, n := range h.shape[1:] {
		size *= n
	}
	if size != d.itemSize || (len(h.shape) == 1 && d.itemSize != 1) {
		return api.Errorf(api.CodeInvalidInput, "array of shape %v: want (n, %s) or (n, %d) for model %s",
			h.shape, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(d.meta.Input.Shape[1:])), ", "), "[]"), d.itemSize, d.meta.ID())
	}
	if h.shape[0] > d.maxItems {
		return api.Errorf(api.CodeTooManyItems, "%d items, the limit is %d", h.shape[0], d.maxItems)
	}
	return nil
}
