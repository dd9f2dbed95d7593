// apply_constraint (ops/constraints.cpp): per "row" (an index of the axes not normed), the L2
// norm over the normed axes, then the kind's scaling. Weights are small; one pass to norm, one
// to scale, in double.
#include <cmath>
#include <vector>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

static void apply_constraint_k(const KernelArgs& a) {
  auto at = a.attrs();
  const std::string kind = at.get_str("kind");
  float* w = a.in[0].f();
  const int64_t n = a.in[0].numel;
  if (kind == "non_neg") {
    for (int64_t i = 0; i < n; ++i) w[i] = w[i] >= 0.f ? w[i] : 0.f;
    return;
  }
  const TensorView& v = a.in[0];
  std::vector<bool> normed(v.rank(), false);
  for (int64_t ax : at.get_ints("axes")) normed[ax < 0 ? ax + v.rank() : ax] = true;
  // The row of element i: its index with the normed axes dropped (row-major over the rest).
  std::vector<int64_t> row_of(static_cast<size_t>(n));
  int64_t rows = 1;
  for (int d = 0; d < v.rank(); ++d)
    if (!normed[d]) rows *= v.dims[d];
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, row = 0, stride = 1;
    for (int d = v.rank() - 1; d >= 0; --d) {
      int64_t idx = rest % v.dims[d];
      rest /= v.dims[d];
      if (!normed[d]) {
        row += idx * stride;
        stride *= v.dims[d];
      }
    }
    row_of[i] = row;
  }
  std::vector<double> sq(static_cast<size_t>(rows), 0.0);
  for (int64_t i = 0; i < n; ++i) sq[row_of[i]] += static_cast<double>(w[i]) * w[i];
  const double eps = 1e-7, hi = at.get_float("max_value"), lo = at.get_float("min_value"), rate = at.get_float("rate");
  std::vector<double> scale(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double norm = std::sqrt(sq[r]);
    if (kind == "unit_norm") scale[r] = 1.0 / (eps + norm);
    else if (kind == "max_norm") scale[r] = std::min(std::max(norm, 0.0), hi) / (eps + norm);
    else scale[r] = (rate * std::min(std::max(norm, lo), hi) + (1.0 - rate) * norm) / (eps + norm);
  }
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(w[i] * scale[row_of[i]]);
}

KILN_CPU_KERNEL(apply_constraint, apply_constraint_k);

}  // namespace kiln::cpu
