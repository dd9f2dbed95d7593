// dropout_mask, random_uniform/normal/binomial: counter-based randomness (random.h); and
// stop_gradient, a view of its operand (kernel.h).
#include <cmath>
#include <cstring>

#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/random.h"

namespace kiln::cpu {

// Element i of a batched mask is drawn as element i + (row offset) * (elements per row) of the
// whole batch's, so a rank of a data-parallel run masks its rows as one process would.
static void dropout_mask_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  DropoutStream keep(attrs.get_float("rate"), static_cast<uint64_t>(attrs.get_int("seed")), a.ctx.step);
  float* m = a.out[0].f();
  int64_t n = a.out[0].numel;
  uint64_t base = 0;
  if (a.ctx.row_offset && a.graph && a.out[0].rank() > 0 && a.out[0].dims[0] > 0) {
    const ir::Type& t = a.graph->values[a.node.outputs[0]].type;
    if (!t.dims.empty() && ir::is_batch(t.dims[0]))
      base = static_cast<uint64_t>(a.ctx.row_offset) * static_cast<uint64_t>(n / a.out[0].dims[0]);
  }
  parallel_for(n, n > kParallelMin, [&](int64_t i) { m[i] = keep(base + static_cast<uint64_t>(i)); });
}

KILN_CPU_KERNEL(dropout_mask, dropout_mask_k);

// Fills the result with f(stream, i) for every element i.
template <typename F>
static void fill(const KernelArgs& a, F f) {
  UniformStream u(static_cast<uint64_t>(a.attrs().get_int("seed")), a.ctx.step);
  float* out = a.out[0].f();
  int64_t n = a.out[0].numel;
  parallel_for(n, n > kParallelMin, [&](int64_t i) { out[i] = static_cast<float>(f(u, static_cast<uint64_t>(i))); });
}

static void random_uniform_k(const KernelArgs& a) {
  double lo = a.attrs().get_float("low"), hi = a.attrs().get_float("high");
  fill(a, [&](const UniformStream& u, uint64_t i) { return lo + (hi - lo) * u(i); });
}

static void random_normal_k(const KernelArgs& a) {
  double mean = a.attrs().get_float("mean"), sd = a.attrs().get_float("stddev");
  fill(a, [&](const UniformStream& u, uint64_t i) {
    return mean + sd * std::sqrt(-2.0 * std::log(u(2 * i))) * std::cos(6.283185307179586 * u(2 * i + 1));
  });
}

static void random_binomial_k(const KernelArgs& a) {
  double p = a.attrs().get_float("p");
  fill(a, [&](const UniformStream& u, uint64_t i) { return u(i) < p ? 1.0 : 0.0; });
}

KILN_CPU_KERNEL(random_uniform, random_uniform_k);
KILN_CPU_KERNEL(random_normal, random_normal_k);
KILN_CPU_KERNEL(random_binomial, random_binomial_k);
KILN_CPU_KERNEL(stop_gradient, view_k);

}  // namespace kiln::cpu
