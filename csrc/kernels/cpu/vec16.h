// A 16-float vector for register-blocked kernels: one AVX-512 register, two AVX2 ones, four
// SSE ones, in the clones KILN_VECTOR (parallel.h) makes. Loads and stores are unaligned.
// Functions that take or return a v16 by value are always inlined into a KILN_VECTOR function,
// so no call uses the baseline ABI GCC warns about (-Wpsabi, silenced here for the includer).
#pragma once

#include <cstring>

#pragma GCC diagnostic ignored "-Wpsabi"

namespace kiln::cpu {

typedef float v16 __attribute__((vector_size(64)));

__attribute__((always_inline)) inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store16(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }

}  // namespace kiln::cpu
