// softmax along one axis (max-subtracted, so logits near 1e4 stay finite) and its backward.
// Shapes are viewed as [outer, n, inner] around the axis.
#include <cmath>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vmath.h"

namespace kiln::cpu {

// The exponentials are vmath's (vectorized; libm's scalar expf took most of a softmax over
// 10 classes), with exact zeros below -87.33, where vmath clamps: e^-87.33 is near the
// smallest normal float, so the sums are unchanged and a far-off class still gets 0.
KILN_VECTOR void softmax_rows(float* y, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = y + i * cols;
    float m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) m = std::fmax(m, r[j]);
    if (std::isinf(m) && m < 0) m = 0;  // a row of -inf: exp gives 0/0 -> NaN, as NumPy
    float s = 0;
    for (int64_t j = 0; j < cols; ++j) {
      float d = r[j] - m;
      s += (r[j] = d < -87.33f ? 0.f : vmath::exp(d));
    }
    float inv = 1.f / s;
    for (int64_t j = 0; j < cols; ++j) r[j] *= inv;
  }
}

namespace {

void split(const TensorView& t, const KernelArgs& a, int64_t* outer, int64_t* n, int64_t* inner) {
  int r = t.rank();
  int64_t ax = a.attrs().get_int("axis");
  int axis = static_cast<int>(ax < 0 ? ax + r : ax);
  *outer = 1;
  *inner = 1;
  *n = t.dims[axis];
  for (int i = 0; i < axis; ++i) *outer *= t.dims[i];
  for (int i = axis + 1; i < r; ++i) *inner *= t.dims[i];
}

void softmax_k(const KernelArgs& a) {
  int64_t outer, n, inner;
  split(a.in[0], a, &outer, &n, &inner);
  const float* x = a.in[0].f();
  float* y = a.out[0].f();
  if (inner == 1) {
    std::copy(x, x + a.in[0].numel, y);
    parallel_for(outer, a.in[0].numel > kParallelMin, [&](int64_t o) { softmax_rows(y + o * n, 1, n); });
    return;
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = x + o * n * inner + i;
      float* q = y + o * n * inner + i;
      float m = -INFINITY;
      for (int64_t k = 0; k < n; ++k) m = std::fmax(m, p[k * inner]);
      float s = 0;
      for (int64_t k = 0; k < n; ++k) s += (q[k * inner] = std::exp(p[k * inner] - m));
      for (int64_t k = 0; k < n; ++k) q[k * inner] /= s;
    }
}

void softmax_grad_k(const KernelArgs& a) {
  int64_t outer, n, inner;
  split(a.in[0], a, &outer, &n, &inner);
  const float* dy = a.in[0].f();
  const float* y = a.in[1].f();
  float* dx = a.out[0].f();
  parallel_for(outer, a.in[0].numel > kParallelMin, [&](int64_t o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * n * inner + i;
      float dot = 0;
      for (int64_t k = 0; k < n; ++k) dot += dy[base + k * inner] * y[base + k * inner];
      for (int64_t k = 0; k < n; ++k) dx[base + k * inner] = y[base + k * inner] * (dy[base + k * inner] - dot);
    }
  });
}

}  // namespace

KILN_CPU_KERNEL(softmax, softmax_k);
KILN_CPU_KERNEL(softmax_grad, softmax_grad_k);

}  // namespace kiln::cpu
