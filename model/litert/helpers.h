// Small C helpers for package litert: what cgo cannot do itself (bit-fields,
// unions, C callbacks) over the LiteRT C API of litert_c.h.

#ifndef BATCHINFER_LITERT_HELPERS_H_
#define BATCHINFER_LITERT_HELPERS_H_

#include "litert_c.h"

// The rank bit-field of a LiteRtLayout.
unsigned litert_layout_rank(const LiteRtLayout* l);
// Sets a dense layout's rank (no strides).
void litert_set_layout(LiteRtLayout* l, unsigned rank);
// Creates an environment that registers the CPU accelerator only.
LiteRtStatus litert_create_cpu_env(LiteRtEnvironment* env);
// Adds CPU accelerator options with a thread count to options.
LiteRtStatus litert_add_cpu_threads(LiteRtOptions options, int threads);

#endif  // BATCHINFER_LITERT_HELPERS_H_
