// Counter-based randomness: value i of run `step` is a hash of (seed, step, i), so masks are
// repeatable for a seed and identical whatever the thread count.
#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

static inline uint64_t mix64(uint64_t z) {  // splitmix64 finalizer
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void dropout_mask_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  double rate = attrs.get_float("rate");
  uint64_t seed = static_cast<uint64_t>(attrs.get_int("seed"));
  uint64_t base = mix64(seed ^ mix64(a.ctx.step));
  float keep_scale = static_cast<float>(1.0 / (1.0 - rate));
  // Keep when the top 24 bits, as a fraction of 2^24, are >= rate.
  uint32_t threshold = static_cast<uint32_t>(rate * 16777216.0);
  float* m = a.out[0].f();
  int64_t n = a.out[0].numel;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    uint32_t r = static_cast<uint32_t>(mix64(base + static_cast<uint64_t>(i)) >> 40);
    m[i] = r >= threshold ? keep_scale : 0.f;
  }
}

KILN_CPU_KERNEL(dropout_mask, dropout_mask_k);

}  // namespace kiln::cpu
