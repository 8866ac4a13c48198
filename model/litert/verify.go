package litert

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// LiteRT reads a model's FlatBuffer without verifying it: an offset past
// the end of a truncated or corrupt file makes it read outside the mapped
// file and crash the process. verify walks the parts of the TFLite schema
// that LiteRT reads when it loads a model (the root table, its vectors of
// operator codes, subgraphs, buffers and signatures, and their tables,
// vectors and strings) and checks that every offset stays within the file.

// fbKind is how a field is stored.
type fbKind int

const (
	fbTables  fbKind = iota // vector of tables
	fbScalars               // vector of fixed-size elements
	fbString
)

// fbField is a field of a table, by its id in the schema.
type fbField struct {
	id   int
	kind fbKind
	elem int      // fbScalars: an element's bytes
	sub  *fbTable // fbTables: the tables' fields checked
}

type fbTable struct{ fields []fbField }

var (
	fbTensorMap = &fbTable{[]fbField{{id: 0, kind: fbString}}}
	fbOperator  = &fbTable{[]fbField{{id: 1, kind: fbScalars, elem: 4}, {id: 2, kind: fbScalars, elem: 4},
		{id: 5, kind: fbScalars, elem: 1}, {id: 7, kind: fbScalars, elem: 1}, {id: 8, kind: fbScalars, elem: 4}}}
	fbTensor = &fbTable{[]fbField{{id: 0, kind: fbScalars, elem: 4}, {id: 3, kind: fbString},
		{id: 7, kind: fbScalars, elem: 4}}}
	fbSubGraph = &fbTable{[]fbField{{id: 0, kind: fbTables, sub: fbTensor}, {id: 1, kind: fbScalars, elem: 4},
		{id: 2, kind: fbScalars, elem: 4}, {id: 3, kind: fbTables, sub: fbOperator}, {id: 4, kind: fbString}}}
	fbModel = &fbTable{[]fbField{
		{id: 1, kind: fbTables, sub: &fbTable{[]fbField{{id: 1, kind: fbString}}}}, // operator codes
		{id: 2, kind: fbTables, sub: fbSubGraph},
		{id: 3, kind: fbString},
		{id: 4, kind: fbTables, sub: &fbTable{[]fbField{{id: 0, kind: fbScalars, elem: 1}}}}, // buffers' data
		{id: 5, kind: fbScalars, elem: 4},
		{id: 6, kind: fbTables, sub: &fbTable{[]fbField{{id: 0, kind: fbString}}}},
		{id: 7, kind: fbTables, sub: &fbTable{[]fbField{{id: 0, kind: fbTables, sub: fbTensorMap},
			{id: 1, kind: fbTables, sub: fbTensorMap}, {id: 2, kind: fbString}}}},
	}}
)

var errOutside = errors.New("an offset points outside the file")

// verify checks the model's FlatBuffer in b (the whole file).
func verify(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%d bytes", len(b))
	}
	v := fbVerifier{b: b}
	if err := v.table(int64(binary.LittleEndian.Uint32(b)), fbModel); err != nil {
		return err
	}
	return nil
}

type fbVerifier struct{ b []byte }

func (v fbVerifier) in(p, n int64) bool { return p >= 0 && n >= 0 && p+n <= int64(len(v.b)) }

func (v fbVerifier) u32(p int64) (int64, error) {
	if !v.in(p, 4) {
		return 0, errOutside
	}
	return int64(binary.LittleEndian.Uint32(v.b[p:])), nil
}

// table checks the table at p and the fields of t in it.
func (v fbVerifier) table(p int64, t *fbTable) error {
	if !v.in(p, 4) {
		return errOutside
	}
	vt := p - int64(int32(binary.LittleEndian.Uint32(v.b[p:])))
	if !v.in(vt, 4) {
		return errOutside
	}
	vtSize, tSize := int64(binary.LittleEndian.Uint16(v.b[vt:])), int64(binary.LittleEndian.Uint16(v.b[vt+2:]))
	if vtSize < 4 || vtSize%2 != 0 || !v.in(vt, vtSize) || !v.in(p, tSize) {
		return fmt.Errorf("table at %d: bad vtable", p)
	}
	for _, f := range t.fields {
		slot := int64(4 + 2*f.id)
		if slot+2 > vtSize {
			continue
		}
		off := int64(binary.LittleEndian.Uint16(v.b[vt+slot:]))
		if off == 0 {
			continue
		}
		if off+4 > tSize {
			return fmt.Errorf("table at %d: field %d outside it", p, f.id)
		}
		rel, err := v.u32(p + off)
		if err != nil {
			return err
		}
		if err := v.field(p+off+rel, f); err != nil {
			return err
		}
	}
	return nil
}

// field checks what a field's offset points at.
func (v fbVerifier) field(p int64, f fbField) error {
	n, err := v.u32(p)
	if err != nil {
		return err
	}
	switch f.kind {
	case fbString:
		if !v.in(p+4, n+1) {
			return errOutside
		}
	case fbScalars:
		if !v.in(p+4, n*int64(f.elem)) {
			return errOutside
		}
	case fbTables:
		if !v.in(p+4, n*4) {
			return errOutside
		}
		for i := int64(0); i < n; i++ {
			e := p + 4 + 4*i
			rel, _ := v.u32(e)
			if err := v.table(e+rel, f.sub); err != nil {
				return err
			}
		}
	}
	return nil
}
