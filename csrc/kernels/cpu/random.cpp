// dropout_mask: counter-based randomness (random.h).
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/random.h"

namespace kiln::cpu {

static void dropout_mask_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  DropoutStream keep(attrs.get_float("rate"), static_cast<uint64_t>(attrs.get_int("seed")), a.ctx.step);
  float* m = a.out[0].f();
  int64_t n = a.out[0].numel;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) m[i] = keep(static_cast<uint64_t>(i));
}

KILN_CPU_KERNEL(dropout_mask, dropout_mask_k);

}  // namespace kiln::cpu
