#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

unsigned litert_layout_rank(const LiteRtLayout* l) { return l->rank; }

void litert_set_layout(LiteRtLayout* l, unsigned rank) {
  l->rank = rank;
  l->has_strides = 0;
}

// The GPU and NPU accelerators would be looked for as shared libraries that
// the images do not carry. LiteRT logs from warnings up (to stderr): its
// info lines say nothing an operator needs.
LiteRtStatus litert_create_cpu_env(LiteRtEnvironment* env) {
  LiteRtEnvOption o[2];
  o[0].tag = kLiteRtEnvOptionTagAutoRegisterAccelerators;
  o[0].value.type = kLiteRtAnyTypeInt;
  o[0].value.int_value = kLiteRtHwAcceleratorCpu;
  o[1].tag = kLiteRtEnvOptionTagMinLoggerSeverity;
  o[1].value.type = kLiteRtAnyTypeInt;
  o[1].value.int_value = kLiteRtLogSeverityWarning;
  return LiteRtCreateEnvironment(2, o, env);
}

static void litert_free_payload(void* p) { free(p); }

// CPU accelerator options travel as opaque options: identifier "xnnpack",
// payload a NUL-terminated TOML string (what LiteRT's LrtGetOpaqueCpuOptionsData
// makes; that helper is not exported from libLiteRt.so). options takes
// ownership of the opaque options.
LiteRtStatus litert_add_cpu_threads(LiteRtOptions options, int threads) {
  char* toml = malloc(48);
  if (toml == NULL) return 2;  // kLiteRtStatusErrorMemoryAllocationFailure
  snprintf(toml, 48, "num_threads = %d\n", threads);
  LiteRtOpaqueOptions opaque;
  LiteRtStatus s = LiteRtCreateOpaqueOptions("xnnpack", toml, litert_free_payload, &opaque);
  if (s != kLiteRtStatusOk) {
    free(toml);
    return s;
  }
  s = LiteRtAddOpaqueOptions(options, opaque);
  if (s != kLiteRtStatusOk) LiteRtDestroyOpaqueOptions(opaque);
  return s;
}
