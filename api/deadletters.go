package api

import (
	"time"

	"batchinfer/internal/wire"
)

// DeadLetter is a chunk given up after its deliveries, as
// GET /v1/deadletters lists it.
type DeadLetter struct {
	// ID is opaque (the letter's sequence in the dead-letter stream).
	ID string `json:"id"`
	// Kind is batch (a job's chunk) or sync (a synchronous request's:
	// operators only, never redriven).
	Kind    string `json:"kind"`
	Job     string `json:"job"`
	Chunk   int    `json:"chunk"`
	Start   int    `json:"start"`
	Count   int    `json:"count"`
	Model   string `json:"model"`
	Version string `json:"version"`
	// Tenant owns the job (absent for a synchronous request).
	Tenant     string    `json:"tenant,omitempty"`
	Reason     string    `json:"reason"`
	Deliveries uint64    `json:"deliveries"`
	DeadAt     time.Time `json:"dead_at"`
}

// DeadLetterList is GET /v1/deadletters: a page of letters, oldest first.
type DeadLetterList struct {
	Letters []DeadLetter `json:"letters"`
	// NextCursor is the cursor of the next page; absent on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// DeadLetterItem is one input of a letter's payload, as the gateway
// queued it: a tensor (little-endian float32 values), an image (its
// encoded bytes) or an invalid input accepted under max_invalid (the
// reason, as text).
type DeadLetterItem struct {
	Index   int    `json:"index"`
	Line    int    `json:"line,omitempty"`
	ID      string `json:"id,omitempty"`
	Kind    string `json:"kind"`
	DataB64 string `json:"data_b64"`
}

// Item kinds of a letter's payload.
const (
	ItemKindTensor  = "tensor"
	ItemKindImage   = "image"
	ItemKindInvalid = "invalid"
)

// DeadLetterDetail is GET /v1/deadletters/{id}: the letter and a page of
// its payload's items. NextOffset is null on the last page.
type DeadLetterDetail struct {
	DeadLetter
	Items      []DeadLetterItem `json:"items"`
	Offset     int              `json:"offset"`
	NextOffset *int             `json:"next_offset"`
}

// Redriven answers POST /v1/deadletters/{id}/redrive: the letter's chunk
// runs again in its job, whose status (open again) it gives.
type Redriven struct {
	Letter string         `json:"letter"`
	Job    wire.JobStatus `json:"job"`
}

// Purged answers DELETE /v1/deadletters?job=: how many letters went.
// Letters being redriven stay.
type Purged struct {
	Purged int `json:"purged"`
}
