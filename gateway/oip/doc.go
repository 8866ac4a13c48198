// Package oip reads and writes the bodies of the Open Inference Protocol
// v2 (KServe's and Triton's REST protocol) for the gateway's /v2 routes:
// an inference request's input tensor, in JSON or with the binary tensor
// data extension, becomes the model's float32 items (checked against its
// metadata and the limits, any other numeric datatype converted where it
// is exact), and the items' results become the output tensors asked for
// (the model's probabilities, the top label and class, the classification
// extension's top-k strings), in JSON or binary. It knows nothing of HTTP
// handlers or NATS: the gateway reads the body and the header, and sends
// the items through the service's synchronous prediction.
package oip
