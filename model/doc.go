// Package model describes the models the system serves: their metadata
// (metadata.json beside each model version, optional: Complete fills it in
// from the signature a runtime reads from the model file), input validation
// against that metadata, warm-up and image preprocessing. It is pure Go and
// knows nothing of TensorFlow, LiteRT, HTTP or NATS; the runtimes live in
// model/tfmodel (SavedModels) and model/litert (TFLite models), and
// model/loader picks a version's runtime from its files.
package model
