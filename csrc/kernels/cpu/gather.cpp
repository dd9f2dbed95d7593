// gather, gather_grad and one_hot. Indices are f32 holding integers; each is checked before
// use and a bad one is a ValueError naming it and the valid range. Serial on purpose: a throw
// must not cross an OpenMP region, and these loops are memory-bound copies.
// Shape letters: N rows of the table, D elements per row, K indices.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {
namespace {

// v as the shortest text that reads back as the same float: 5, -1, 1.5, 1e+30, nan.
std::string show(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

// The integer v holds, if it is one in [0, n). Compared in double so that no cast of a NaN or
// huge float happens before the check.
int64_t index_in(float v, int64_t n, const char* op) {
  double d = v;
  if (!(d >= 0 && d < static_cast<double>(n)) || d != std::floor(d))
    throw ValueError(std::string("[") + op + "] index " + show(v) + " is not an integer in [0, " +
                     std::to_string(n) + ")");
  return static_cast<int64_t>(d);
}

// Row size D of a table [N, D...].
int64_t row_size(const TensorView& table) {
  int64_t D = 1;
  for (int i = 1; i < table.rank(); ++i) D *= table.dims[i];
  return D;
}

void gather_k(const KernelArgs& a) {
  const TensorView &params = a.in[0], &indices = a.in[1];
  int64_t N = params.dims[0], D = row_size(params), K = indices.numel;
  const float* table = params.f();
  const float* idx = indices.f();
  float* out = a.out[0].f();
  for (int64_t k = 0; k < K; ++k) {
    int64_t row = index_in(idx[k], N, "gather");
    if (D) std::memcpy(out + k * D, table + row * D, D * sizeof(float));
  }
}

// gather_grad(dy, indices, params): dy's rows added into zeros of the table's shape.
void gather_grad_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &indices = a.in[1], &dparams = a.out[0];
  int64_t N = dparams.dims[0], D = row_size(dparams), K = indices.numel;
  const float* g = dy.f();
  const float* idx = indices.f();
  float* out = dparams.f();
  std::fill(out, out + dparams.numel, 0.f);
  for (int64_t k = 0; k < K; ++k) {
    float* dst = out + index_in(idx[k], N, "gather_grad") * D;
    const float* src = g + k * D;
    for (int64_t j = 0; j < D; ++j) dst[j] += src[j];
  }
}

void one_hot_k(const KernelArgs& a) {
  const TensorView& indices = a.in[0];
  int64_t depth = a.out[0].dims.back(), K = indices.numel;
  const float* idx = indices.f();
  float* out = a.out[0].f();
  std::fill(out, out + a.out[0].numel, 0.f);
  for (int64_t k = 0; k < K; ++k) out[k * depth + index_in(idx[k], depth, "one_hot")] = 1.f;
}

}  // namespace

KILN_CPU_KERNEL(gather, gather_k);
KILN_CPU_KERNEL(gather_grad, gather_grad_k);
KILN_CPU_KERNEL(one_hot, one_hot_k);

}  // namespace kiln::cpu
