// Package input turns what clients send into the items of a chunk, checked
// against the model's metadata before anything is queued: JSON arrays
// (flat or nested to the input shape), {"b64"}, {"image"} and
// {"features"} items, in a JSON body, NDJSON lines or CSV rows. Every
// mistake is an *api.Error naming the item and the problem.
package input

import (
	"encoding/json"
	"io"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Limits bound one request's items.
type Limits struct {
	MaxItems      int
	MaxImageBytes int
	// MaxImagePixels bounds an image's width × height, read from its
	// header (0: no bound but model.MaxImageSide).
	MaxImagePixels int
	// MaxLineBytes bounds one NDJSON line.
	MaxLineBytes int
}

// Source is one form in which a client sends a batch's items.
type Source interface {
	into(d *Decoder, l Limits) error
}

type jsonItems []json.RawMessage

func (s jsonItems) into(d *Decoder, _ Limits) error {
	for _, raw := range s {
		if err := d.add(raw, 0); err != nil {
			return err
		}
	}
	return nil
}

type ndjsonLines struct{ r io.Reader }

func (s ndjsonLines) into(d *Decoder, l Limits) error { return d.decodeNDJSON(s.r, l.MaxLineBytes) }

type csvRows struct{ r io.Reader }

func (s csvRows) into(d *Decoder, _ Limits) error { return d.decodeCSV(s.r) }

// JSONItems are items already split from a JSON document (the inputs of a
// JSON body or of a WebSocket message).
func JSONItems(raws []json.RawMessage) Source { return jsonItems(raws) }

// NDJSON reads one item per non-empty line.
func NDJSON(r io.Reader) Source { return ndjsonLines{r} }

// CSV reads one item per row, with an optional header of feature names.
func CSV(r io.Reader) Source { return csvRows{r} }

// Options shape a streamed read.
type Options struct {
	// IDColumn names a CSV column passed through as each item's id.
	IDColumn string
	// Skip passes over the first Skip items without checking them (a
	// reading resumed where an earlier one stopped): they count, but are
	// not handed to the sink.
	Skip int
}

// Stream reads and checks src's items for meta within l, handing each to
// sink as it is read (nothing is kept): the way a body or a dataset of any
// size is read with bounded memory. It returns how many items it read, and
// the decoder, whose Invalid lists the invalid ones.
func Stream(meta *model.Metadata, l Limits, src Source, o Options, sink Sink) (*Decoder, error) {
	if raws, ok := src.(jsonItems); ok && len(raws) > l.MaxItems {
		return nil, api.Errorf(api.CodeTooManyItems, "%d items, the limit is %d", len(raws), l.MaxItems)
	}
	d := NewDecoder(meta, l.MaxItems, l.MaxImageBytes)
	d.sink, d.idColumn, d.maxImagePixels, d.skip = sink, o.IDColumn, l.MaxImagePixels, o.Skip
	if err := src.into(d, l); err != nil {
		return d, err
	}
	return d, nil
}

// Count is the number of items read.
func (d *Decoder) Count() int { return d.n }

// Decode reads and checks src's items for meta within l.
func Decode(meta *model.Metadata, l Limits, src Source) ([]wire.Item, error) {
	if raws, ok := src.(jsonItems); ok && len(raws) > l.MaxItems {
		return nil, api.Errorf(api.CodeTooManyItems, "%d items, the limit is %d", len(raws), l.MaxItems)
	}
	d := NewDecoder(meta, l.MaxItems, l.MaxImageBytes)
	d.maxImagePixels = l.MaxImagePixels
	if err := src.into(d, l); err != nil {
		return nil, err
	}
	return d.result()
}
