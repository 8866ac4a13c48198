// Package model describes the models the system serves: their metadata
// (metadata.json beside each SavedModel), input validation against that
// metadata, and image preprocessing. It is pure Go and knows nothing of
// TensorFlow, HTTP or NATS; the TensorFlow runtime lives in model/tfmodel.
package model
