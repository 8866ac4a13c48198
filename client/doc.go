// Package client is the Go client of the batchinfer gateway: one Client
// for its HTTP API and its WebSocket, typed with the api package's
// contract. It predicts; submits jobs as a JSON body, as a file streamed
// (NDJSON, CSV, .npy, raw float32) or as a dataset uploaded first through
// the resumable uploads (tus); follows a job's results and progress over
// the WebSocket, resuming by sequence after a dropped connection; downloads
// a finished job's output and errors files, resuming with Range; cancels
// and lists jobs; lists models, pushes model versions to the registry;
// and reads and redrives the dead letters.
//
// Every error the gateway answers is an *api.Error with its code, message
// and HTTP status (errors.As). What may succeed later (a gateway that
// restarts, 503 busy, 429 with Retry-After) is retried for Client.RetryFor
// by the calls that are safe to repeat; uploads, downloads and follows go
// on from where they stopped.
//
// The batchinfer command (cmd/batchinfer) is built on it, and so are the
// load generators and the system tests of this repository.
package client
