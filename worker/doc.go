// Package worker pulls input chunks from the JetStream work queue, forms
// dynamic batches across chunks and jobs, runs them through the models,
// stores one result message per chunk and acknowledges the chunk only after
// its results are stored and counted. Workers scale horizontally: they share
// one durable pull consumer per model version and priority.
package worker
