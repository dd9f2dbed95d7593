// tile, repeat and their gradients. tile is a strided walk over [reps0, d0, reps1, d1, ...]
// (y's index along dim i is t*d_i + j, and x's is j), its gradient the same walk accumulating
// into x. repeat views x as [outer, A, inner] around its axis and y as [outer, A, R, inner].
#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernel.h"
#include "kernels/cpu/strided.h"

namespace kiln::cpu {
namespace {

// The tile walk: dims [reps_i, d_i ...] with element strides into y (the tiled) and x.
struct TileWalk {
  std::vector<int64_t> dims, y_st, x_st;
};

TileWalk tile_walk(const KernelArgs& a, const TensorView& x, const TensorView& y) {
  std::vector<int64_t> reps = a.attrs().get_ints("reps");
  std::vector<int64_t> ys = contiguous_strides(y.dims), xs = contiguous_strides(x.dims);
  TileWalk w;
  for (int i = 0; i < x.rank(); ++i) {
    w.dims.insert(w.dims.end(), {reps[i], x.dims[i]});
    w.y_st.insert(w.y_st.end(), {x.dims[i] * ys[i], ys[i]});
    w.x_st.insert(w.x_st.end(), {0, xs[i]});
  }
  return w;
}

void tile_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &y = a.out[0];
  TileWalk w = tile_walk(a, x, y);
  const float* xp = x.f();
  float* yp = y.f();
  strided_walk(w.dims, w.y_st, w.x_st, [&](int64_t d, int64_t s, int64_t n, int64_t dst, int64_t sst) {
    if (dst == 1 && sst == 1) {
      std::memcpy(yp + d, xp + s, n * sizeof(float));
      return;
    }
    for (int64_t j = 0; j < n; ++j) yp[d + j * dst] = xp[s + j * sst];
  });
}

// tile_grad(dy, x): the sum of dy's tiles.
void tile_grad_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &dx = a.out[0];
  TileWalk w = tile_walk(a, dx, dy);
  const float* g = dy.f();
  float* out = dx.f();
  std::fill(out, out + dx.numel, 0.f);
  strided_walk(w.dims, w.x_st, w.y_st, [&](int64_t d, int64_t s, int64_t n, int64_t dst, int64_t sst) {
    for (int64_t j = 0; j < n; ++j) out[d + j * dst] += g[s + j * sst];
  });
}

struct RepeatView {
  int64_t outer = 1, A, R, inner = 1;
};

RepeatView repeat_view(const KernelArgs& a, const TensorView& x) {
  ops::AttrReader attrs = a.attrs();
  int64_t ax = attrs.get_int("axis");
  int axis = static_cast<int>(ax < 0 ? ax + x.rank() : ax);
  RepeatView v;
  for (int i = 0; i < axis; ++i) v.outer *= x.dims[i];
  for (int i = axis + 1; i < x.rank(); ++i) v.inner *= x.dims[i];
  v.A = x.dims[axis];
  v.R = attrs.get_int("repeats");
  return v;
}

void repeat_k(const KernelArgs& a) {
  RepeatView v = repeat_view(a, a.in[0]);
  const float* xp = a.in[0].f();
  float* yp = a.out[0].f();
  for (int64_t row = 0; row < v.outer * v.A; ++row)
    for (int64_t k = 0; k < v.R; ++k) std::memcpy(yp + (row * v.R + k) * v.inner, xp + row * v.inner, v.inner * sizeof(float));
}

// repeat_grad(dy, x): each run of R copies summed.
void repeat_grad_k(const KernelArgs& a) {
  RepeatView v = repeat_view(a, a.in[1]);
  const float* g = a.in[0].f();
  float* dx = a.out[0].f();
  for (int64_t row = 0; row < v.outer * v.A; ++row) {
    float* d = dx + row * v.inner;
    std::fill(d, d + v.inner, 0.f);
    for (int64_t k = 0; k < v.R; ++k) {
      const float* s = g + (row * v.R + k) * v.inner;
      for (int64_t i = 0; i < v.inner; ++i) d[i] += s[i];
    }
  }
}

}  // namespace

KILN_CPU_KERNEL(tile, tile_k);
KILN_CPU_KERNEL(tile_grad, tile_grad_k);
KILN_CPU_KERNEL(repeat, repeat_k);
KILN_CPU_KERNEL(repeat_grad, repeat_grad_k);

}  // namespace kiln::cpu
