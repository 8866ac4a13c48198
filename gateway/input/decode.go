package input

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register decoders for DecodeConfig
	_ "image/jpeg" // register decoders for DecodeConfig
	_ "image/png"  // register decoders for DecodeConfig
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// maxItemErrors bounds the itemised details of a rejected request.
const maxItemErrors = 20

// Decoder turns client inputs into chunk items for one model version,
// validating each against the model's metadata.
type Decoder struct {
	meta          *model.Metadata
	itemSize      int
	maxItems      int
	maxImageBytes int
	// maxImagePixels, when set, bounds an image's pixels (Limits).
	maxImagePixels int
	items          []wire.Item
	n              int // items read
	details        []api.Detail
	invalid        int
	featureIndex   map[string]int
	// sink, when set, takes each item as it is read instead of items.
	sink Sink
	// idColumn names a CSV column passed through as each item's id.
	idColumn string
	// skip is how many items to pass over unread (a resumed reading).
	skip int
	// vals is the values of the item being read (reused); packed, their
	// one-byte form while it is tried (reused).
	vals   []float32
	packed []byte
	// lo and hi bound a valid value: the model's range within float32's;
	// byteLo and byteHi bound a valid byte (one-byte form) the same way.
	lo, hi         float64
	byteLo, byteHi int
	// block is room for the next items' bytes (Decoder.data), what is
	// left of the last block allocated, of blockSize bytes.
	block     []byte
	blockSize int
}

// Sink takes each item in input order: its index, the item, its input line
// (0 when the input has none), its id (a CSV id column, else ""), and why it
// is invalid (nil when valid; the item is then empty). An error stops the
// reading.
type Sink func(index int, it wire.Item, line int, id string, invalid error) error

// NewDecoder returns a decoder of at most maxItems items for meta.
func NewDecoder(meta *model.Metadata, maxItems, maxImageBytes int) *Decoder {
	d := &Decoder{meta: meta, itemSize: meta.ItemSize(), maxItems: maxItems, maxImageBytes: maxImageBytes,
		lo: -math.MaxFloat32, hi: math.MaxFloat32}
	if mn := meta.Input.Min; mn != nil {
		d.lo = max(d.lo, *mn)
	}
	if mx := meta.Input.Max; mx != nil {
		d.hi = min(d.hi, *mx)
	}
	d.byteLo = int(min(max(math.Ceil(d.lo), 0), 256))
	d.byteHi = int(max(min(math.Floor(d.hi), 255), -1))
	if len(meta.Features) > 0 {
		d.featureIndex = make(map[string]int, len(meta.Features))
		for i, f := range meta.Features {
			d.featureIndex[f] = i
		}
	}
	return d
}

// add decodes one ItemInput given as raw JSON. line is the NDJSON line (0
// for JSON bodies) used in error details.
func (d *Decoder) add(raw []byte, line int) error {
	if d.n >= d.maxItems {
		return d.tooMany()
	}
	if d.skipped() {
		return nil
	}
	it, err := d.decodeItem(raw)
	return d.emit(it, line, "", err)
}

// skipped passes over the next item when it is one of the first skip.
func (d *Decoder) skipped() bool {
	if d.n < d.skip {
		d.n++
		return true
	}
	return false
}

func (d *Decoder) tooMany() error {
	return api.Errorf(api.CodeTooManyItems, "more than %d items (limit GATEWAY_MAX_ITEMS)", d.maxItems)
}

// emit hands one item read to the sink (or keeps it).
func (d *Decoder) emit(it wire.Item, line int, id string, err error) error {
	idx := d.n
	d.n++
	if err != nil {
		d.fail(idx, line, err)
		it = wire.Item{}
	}
	if d.sink != nil {
		return d.sink(idx, it, line, id, err)
	}
	d.items = append(d.items, it)
	return nil
}

func (d *Decoder) fail(idx, line int, err error) {
	d.invalid++
	if len(d.details) < maxItemErrors {
		i := idx
		d.details = append(d.details, api.Detail{Item: &i, Line: line, Message: err.Error()})
	}
}

// result returns the items, or an invalid_input error listing the invalid ones.
func (d *Decoder) result() ([]wire.Item, error) {
	if d.invalid > 0 {
		first := d.details[0]
		msg := fmt.Sprintf("%d invalid item(s); first: item %d: %s", d.invalid, *first.Item, first.Message)
		return nil, &api.Error{Code: api.CodeInvalidInput, Message: msg, Details: d.details}
	}
	if d.n == 0 {
		return nil, api.Errorf(api.CodeInvalidInput, "no inputs: the batch is empty")
	}
	return d.items, nil
}

// Invalid is the error listing the invalid items read (nil when none).
func (d *Decoder) Invalid() *api.Error {
	if d.invalid == 0 {
		return nil
	}
	first := d.details[0]
	msg := fmt.Sprintf("%d invalid item(s); first: item %d", d.invalid, *first.Item)
	if first.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", first.Line)
	}
	return &api.Error{Code: api.CodeInvalidInput, Message: msg + ": " + first.Message, Details: d.details}
}

func (d *Decoder) decodeItem(raw []byte) (wire.Item, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return wire.Item{}, errors.New("empty item")
	}
	switch raw[0] {
	case '[':
		vals, err := parseNumberArray(raw, d.meta.Input.Shape[1:], d.vals[:0])
		if err != nil {
			return wire.Item{}, err
		}
		d.vals = vals[:0]
		return d.tensor(vals)
	case '{':
		if b64, ok := stringField(raw, `{"b64":"`); ok {
			return d.b64(b64)
		}
		if img, ok := stringField(raw, `{"image":"`); ok {
			return d.image(img)
		}
		var obj struct {
			B64      *string             `json:"b64"`
			Image    *string             `json:"image"`
			Features map[string]*float64 `json:"features"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&obj); err != nil {
			return wire.Item{}, fmt.Errorf("invalid item object: %s (expected one of \"b64\", \"image\", \"features\")", JSONErrText(err))
		}
		if dec.InputOffset() != int64(len(raw)) {
			return wire.Item{}, errors.New("invalid item object: trailing data after the object")
		}
		n := 0
		for _, set := range []bool{obj.B64 != nil, obj.Image != nil, obj.Features != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return wire.Item{}, errors.New(`an item object needs exactly one of "b64", "image" or "features"`)
		}
		switch {
		case obj.B64 != nil:
			return d.b64(*obj.B64)
		case obj.Image != nil:
			return d.image(*obj.Image)
		default:
			return d.features(obj.Features)
		}
	default:
		return wire.Item{}, errors.New(`an item must be an array of numbers or an object with "b64", "image" or "features"`)
	}
}

// stringField recognises the compact form prefix"<string>"} (no spaces, no
// escapes: base64 has none) without a JSON decoder, the hot path of large
// uploads. Anything else goes through encoding/json.
func stringField(raw []byte, prefix string) (string, bool) {
	if len(raw) < len(prefix)+2 || string(raw[:len(prefix)]) != prefix || string(raw[len(raw)-2:]) != `"}` {
		return "", false
	}
	body := raw[len(prefix) : len(raw)-2]
	if bytes.IndexByte(body, '"') >= 0 || bytes.IndexByte(body, '\\') >= 0 {
		return "", false
	}
	return string(body), true
}

func (d *Decoder) b64(s string) (wire.Item, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > 4*d.itemSize+3 {
		return wire.Item{}, fmt.Errorf("b64: more than %d bytes (%d little-endian float32 values)", 4*d.itemSize, d.itemSize)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return wire.Item{}, fmt.Errorf("b64: %v", err)
	}
	if len(b) != 4*d.itemSize {
		return wire.Item{}, fmt.Errorf("b64: %d bytes, want %d (%d little-endian float32 values)", len(b), 4*d.itemSize, d.itemSize)
	}
	return d.tensorBytes(b)
}

func (d *Decoder) image(s string) (wire.Item, error) {
	if d.meta.Preprocessing.Image == nil {
		return wire.Item{}, fmt.Errorf("model %s does not accept images", d.meta.ID())
	}
	if base64.StdEncoding.DecodedLen(len(s)) > d.maxImageBytes+3 {
		return wire.Item{}, fmt.Errorf("image larger than %d bytes (limit GATEWAY_MAX_IMAGE_BYTES)", d.maxImageBytes)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return wire.Item{}, fmt.Errorf("image: invalid base64: %v", err)
	}
	if len(b) > d.maxImageBytes {
		return wire.Item{}, fmt.Errorf("image larger than %d bytes (limit GATEWAY_MAX_IMAGE_BYTES)", d.maxImageBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return wire.Item{}, fmt.Errorf("image: not a PNG, JPEG or GIF: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > model.MaxImageSide || cfg.Height > model.MaxImageSide {
		return wire.Item{}, fmt.Errorf("image: %s of %dx%d, sides must be 1..%d", format, cfg.Width, cfg.Height, model.MaxImageSide)
	}
	if px := cfg.Width * cfg.Height; d.maxImagePixels > 0 && px > d.maxImagePixels {
		p := d.meta.Preprocessing.Image
		return wire.Item{}, fmt.Errorf("image: %s of %dx%d (%d pixels), more than the %d allowed for model %s, whose input is %dx%d "+
			"(GATEWAY_MAX_IMAGE_PIXELS_FACTOR times its pixels): scale it down", format, cfg.Width, cfg.Height, px, d.maxImagePixels,
			d.meta.ID(), p.Width, p.Height)
	}
	return wire.Item{Kind: wire.ItemImage, Data: b}, nil
}

func (d *Decoder) features(m map[string]*float64) (wire.Item, error) {
	if d.featureIndex == nil {
		return wire.Item{}, fmt.Errorf("model %s takes no named features", d.meta.ID())
	}
	vals := d.values()
	seen := 0
	for name, v := range m {
		i, ok := d.featureIndex[name]
		if !ok {
			return wire.Item{}, fmt.Errorf("unknown feature %q", name)
		}
		if v == nil {
			return wire.Item{}, fmt.Errorf("feature %q is null", name)
		}
		vals[i] = float32(*v)
		seen++
	}
	if seen != len(d.meta.Features) {
		for _, f := range d.meta.Features {
			if _, ok := m[f]; !ok {
				return wire.Item{}, fmt.Errorf("missing feature %q (%d of %d given)", f, seen, len(d.meta.Features))
			}
		}
	}
	return d.tensor(vals)
}

func (d *Decoder) tensor(vals []float32) (wire.Item, error) {
	if len(vals) != d.itemSize {
		return wire.Item{}, fmt.Errorf("expected %d values (shape %v), got %d", d.itemSize, d.meta.Input.Shape[1:], len(vals))
	}
	if err := d.checkValues(vals); err != nil {
		return wire.Item{}, err
	}
	if cap(d.packed) < len(vals) {
		d.packed = make([]byte, len(vals))
	}
	if packed := d.packed[:len(vals)]; wire.PackU8(packed, vals) { // tried aside: a row of decimals takes no room for it
		b := d.data(len(vals))
		copy(b, packed)
		return wire.Item{Kind: wire.ItemTensorU8, Data: b}, nil
	}
	b := d.data(4 * len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return wire.Item{Kind: wire.ItemTensor, Data: b}, nil
}

// values is room for one item's values, zeroed (reused from item to item:
// tensor copies them out).
func (d *Decoder) values() []float32 {
	if cap(d.vals) < d.itemSize {
		d.vals = make([]float32, d.itemSize)
	}
	vals := d.vals[:d.itemSize]
	clear(vals)
	return vals
}

// Item bytes are carved from blocks shared by consecutive items, so that a
// small item costs no allocation of its own: a block grows from
// minBlockBytes to maxBlockBytes (a request of one item allocates little),
// and lives as long as any item in it. Items larger than maxBlockBytes/8
// get their own.
const (
	minBlockBytes = 1 << 10
	maxBlockBytes = 64 << 10
)

// data returns room for n bytes of one item, which it keeps.
func (d *Decoder) data(n int) []byte {
	if n > maxBlockBytes/8 {
		return make([]byte, n)
	}
	if len(d.block) < n {
		d.blockSize = min(maxBlockBytes, max(minBlockBytes, 2*d.blockSize))
		d.block = make([]byte, d.blockSize)
	}
	b := d.block[:n:n]
	d.block = d.block[n:]
	return b
}

// tensorBytes checks an item's little-endian float32 values (b, 4 ×
// ItemSize bytes, which it may rewrite) and gives the item: in the one-byte
// form when every value fits it (narrowed in place, in the same pass that
// checks them), else as float32s.
func (d *Decoder) tensorBytes(b []byte) (wire.Item, error) {
	if u8, ok := wire.NarrowU8(b); ok {
		if err := d.checkBytes(u8); err != nil {
			return wire.Item{}, err
		}
		return wire.Item{Kind: wire.ItemTensorU8, Data: u8}, nil
	}
	for i := range d.itemSize {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if f := float64(v); !(f >= d.lo && f <= d.hi) {
			if err := d.checkValue(i, v); err != nil {
				return wire.Item{}, err
			}
		}
	}
	return wire.Item{Kind: wire.ItemTensor, Data: b}, nil
}

// checkBytes checks values in the one-byte form against the model's range.
func (d *Decoder) checkBytes(u8 []byte) error {
	if d.byteLo <= 0 && d.byteHi >= 255 { // no byte is outside the range
		return nil
	}
	for i, v := range u8 {
		if int(v) < d.byteLo || int(v) > d.byteHi {
			return d.checkValue(i, float32(v))
		}
	}
	return nil
}

// checkValues checks every value as checkValue does, comparing first with
// the bounds alone (NaN and infinities fail them too).
func (d *Decoder) checkValues(vals []float32) error {
	for i, v := range vals {
		if f := float64(v); !(f >= d.lo && f <= d.hi) {
			if err := d.checkValue(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Decoder) checkValue(i int, v float32) error {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return fmt.Errorf("value %d is %v: values must be finite", i, v)
	}
	if mn := d.meta.Input.Min; mn != nil && float64(v) < *mn {
		return fmt.Errorf("value %d is %g, below the minimum %g", i, v, *mn)
	}
	if mx := d.meta.Input.Max; mx != nil && float64(v) > *mx {
		return fmt.Errorf("value %d is %g, above the maximum %g", i, v, *mx)
	}
	return nil
}

// parseNumberArray parses a JSON array of numbers, either flat or nested to
// exactly dims, appending the values to dst. It is allocation-free per
// number, unlike encoding/json into []any.
func parseNumberArray(b []byte, dims []int64, dst []float32) ([]float32, error) {
	p := numParser{b: b}
	p.ws()
	nested := false
	if p.i < len(b) && b[p.i] == '[' {
		j := p.i + 1
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		nested = j < len(b) && b[j] == '['
	}
	var err error
	if nested {
		if dst, err = p.nested(dims, dst); err != nil {
			return nil, fmt.Errorf("nested array does not match shape %v: %w", dims, err)
		}
	} else {
		dst, err = p.list(-1, dst)
	}
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(b) {
		return nil, fmt.Errorf("unexpected %q after the array", b[p.i])
	}
	return dst, nil
}

type numParser struct {
	b []byte
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *numParser) ws() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

func (p *numParser) expect(c byte) error {
	p.ws()
	if p.i >= len(p.b) {
		return fmt.Errorf("unexpected end of array, expected %q", c)
	}
	if p.b[p.i] != c {
		return fmt.Errorf("unexpected %q at offset %d, expected %q", p.b[p.i], p.i, c)
	}
	p.i++
	return nil
}

func (p *numParser) nested(dims []int64, dst []float32) ([]float32, error) {
	if len(dims) == 1 {
		return p.list(int(dims[0]), dst)
	}
	if err := p.expect('['); err != nil {
		return nil, err
	}
	n := 0
	for {
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' && n == 0 {
			p.i++
			break
		}
		var err error
		if dst, err = p.nested(dims[1:], dst); err != nil {
			return nil, err
		}
		n++
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		break
	}
	if int64(n) != dims[0] {
		return nil, fmt.Errorf("nested array has %d elements where the shape wants %d", n, dims[0])
	}
	return dst, nil
}

// list parses a flat array of numbers; want < 0 accepts any length.
func (p *numParser) list(want int, dst []float32) ([]float32, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	n := 0
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
	} else {
		for {
			p.ws()
			start := p.i
			for p.i < len(p.b) && isNumChar(p.b[p.i]) {
				p.i++
			}
			if start == p.i {
				if p.i >= len(p.b) {
					return nil, errors.New("unexpected end of array")
				}
				return nil, fmt.Errorf("value %d: unexpected %q: values must be numbers", n, p.b[p.i])
			}
			tok := unsafe.String(&p.b[start], p.i-start)
			f, ok := parseFloat32(tok)
			if !ok {
				return nil, fmt.Errorf("value %d: %q is not a finite float32", n, tok)
			}
			dst = append(dst, f)
			n++
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			break
		}
	}
	if want >= 0 && n != want {
		return nil, fmt.Errorf("innermost array has %d values where the shape wants %d", n, want)
	}
	return dst, nil
}

func isNumChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// JSONErrText names a JSON decoding error for a client, with its offset.
func JSONErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at offset %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("expected %s, got %s", te.Type, te.Value)
	}
	return err.Error()
}

// decodeNDJSON reads one ItemInput per non-empty line.
func (d *Decoder) decodeNDJSON(r io.Reader, maxLine int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine) // max only applies above cap(buf)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := d.add(b, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if tooLarge := bodyTooLarge(err); tooLarge != nil {
			return tooLarge
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return api.Errorf(api.CodeBodyTooLarge, "NDJSON line %d longer than %d bytes", line+1, maxLine)
		}
		return fmt.Errorf("read ndjson: %w", err)
	}
	return nil
}

// decodeCSV reads one item per row: item_size numbers, with an optional
// header row of feature names (in any order) for tabular models.
func (d *Decoder) decodeCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	var order []int // column -> feature position, from the header
	idCol := -1     // the id column, from the header
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return api.Errorf(api.CodeInvalidInput, "csv: %v", pe)
			}
			if tooLarge := bodyTooLarge(err); tooLarge != nil {
				return tooLarge
			}
			return fmt.Errorf("read csv: %w", err)
		}
		if line == 1 && len(rec) > 0 && (!looksNumeric(rec[0]) || d.idColumn != "") {
			if order, idCol, err = d.csvHeader(rec); err != nil {
				return err
			}
			continue
		}
		if d.n >= d.maxItems {
			return d.tooMany()
		}
		if d.skipped() {
			continue
		}
		id := ""
		if idCol >= 0 && idCol < len(rec) {
			id = rec[idCol]
			rec = append(rec[:idCol], rec[idCol+1:]...)
		}
		it, err := d.csvRow(rec, order)
		if err := d.emit(it, line, id, err); err != nil {
			return err
		}
	}
}

// csvHeader reads the header row: the position of each column's feature
// (nil for a model without named features: the columns are in order), and
// the id column's index (-1: none).
func (d *Decoder) csvHeader(rec []string) ([]int, int, error) {
	rec = trimBOM(rec)
	idCol := -1
	if d.idColumn != "" {
		for c, name := range rec {
			if strings.TrimSpace(name) == d.idColumn {
				idCol = c
			}
		}
		if idCol < 0 {
			return nil, -1, api.Errorf(api.CodeInvalidInput, "csv header: no column %q (id_column)", d.idColumn)
		}
		rec = append(append([]string(nil), rec[:idCol]...), rec[idCol+1:]...)
	}
	if d.featureIndex == nil {
		if len(rec) > 0 && !looksNumeric(rec[0]) && d.idColumn == "" {
			return nil, -1, api.Errorf(api.CodeInvalidInput, "csv: header %q given but model %s has no named features", rec[0], d.meta.ID())
		}
		return nil, idCol, nil
	}
	if len(rec) != len(d.meta.Features) {
		return nil, -1, api.Errorf(api.CodeInvalidInput, "csv header: %d columns, model %s has %d features", len(rec), d.meta.ID(), len(d.meta.Features))
	}
	order := make([]int, len(rec))
	seen := make(map[int]bool, len(rec))
	for c, name := range rec {
		i, ok := d.featureIndex[strings.TrimSpace(name)]
		if !ok {
			return nil, -1, api.Errorf(api.CodeInvalidInput, "csv header: unknown feature %q", name)
		}
		if seen[i] {
			return nil, -1, api.Errorf(api.CodeInvalidInput, "csv header: feature %q twice", name)
		}
		seen[i] = true
		order[c] = i
	}
	return order, idCol, nil
}

// trimBOM drops a UTF-8 byte order mark before the first header name.
func trimBOM(rec []string) []string {
	if len(rec) > 0 && strings.HasPrefix(rec[0], "\ufeff") {
		rec = append([]string{strings.TrimPrefix(rec[0], "\ufeff")}, rec[1:]...)
	}
	return rec
}

func (d *Decoder) csvRow(rec []string, order []int) (wire.Item, error) {
	if len(rec) != d.itemSize {
		return wire.Item{}, fmt.Errorf("%d columns, expected %d", len(rec), d.itemSize)
	}
	vals := d.values()
	for c, s := range rec {
		f, ok := parseFloat32(strings.TrimSpace(s))
		if !ok {
			return wire.Item{}, fmt.Errorf("column %d: %q is not a finite number", c+1, s)
		}
		pos := c
		if order != nil {
			pos = order[c]
		}
		vals[pos] = f
	}
	return d.tensor(vals)
}

func looksNumeric(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}
