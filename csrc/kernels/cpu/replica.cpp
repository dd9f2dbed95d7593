// replica_mean: one allreduce over every operand (packed), summed in float64.
#include <cstring>
#include <vector>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

// Each rank packs rows * x for every operand and its rows, all in float64; after the sum every
// rank divides by the total rows. The float64 sum of float32 values carries 29 more bits than
// the float32 result keeps, so the order the communicator adds in changes the result only in
// the rare case of a tie at rounding (and MPI's reductions give every rank the same bits).
static void replica_mean_k(const KernelArgs& a) {
  if (!a.ctx.comm || a.ctx.comm->size() == 1) {
    for (size_t i = 0; i < a.in.size(); ++i) std::memcpy(a.out[i].data, a.in[i].data, a.in[i].numel * 4);
    return;
  }
  int64_t total = 1;
  for (const TensorView& t : a.in) total += t.numel;
  static thread_local std::vector<double> buf;  // kept: a fresh one is mmapped (and faulted in) every step
  buf.resize(static_cast<size_t>(total));
  double rows = static_cast<double>(a.ctx.rows);
  int64_t k = 0;
  for (const TensorView& t : a.in) {
    const float* x = t.f();
    for (int64_t e = 0; e < t.numel; ++e) buf[k++] = rows * x[e];
  }
  buf[k] = rows;
  a.ctx.comm->allreduce_sum(buf.data(), total);
  double all = buf[k];
  double scale = all > 0 ? 1.0 / all : 0.0;
  k = 0;
  for (const TensorView& t : a.out) {
    float* y = t.f();
    for (int64_t e = 0; e < t.numel; ++e) y[e] = static_cast<float>(buf[k++] * scale);
  }
}

KILN_CPU_KERNEL(replica_mean, replica_mean_k);

}  // namespace kiln::cpu
