package service

import "batchinfer/internal/store"

// StoredResult is one stored chunk result with its sequence (a follower's
// cursor); store.ResultReader reads them.
type StoredResult = store.StoredResult
