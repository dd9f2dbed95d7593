// Copy kernels for reshape (and the other views: kernel.h), transpose, concat, slice and
// slice_grad. The schemas checked every attribute, so kernels only normalize them. Concat and
// slice view a tensor as [outer, axis, inner] around their axis and copy runs of axis-range *
// inner elements.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/strided.h"
#include "ops/ranges.h"

namespace kiln::cpu {
namespace {


// Products of the dims before and after `axis`.
void outer_inner(const std::vector<int64_t>& dims, int axis, int64_t* outer, int64_t* inner) {
  *outer = *inner = 1;
  for (int i = 0; i < axis; ++i) *outer *= dims[i];
  for (size_t i = axis + 1; i < dims.size(); ++i) *inner *= dims[i];
}

void copy_run(float* dst, const float* src, int64_t n) {
  if (n > 0) std::memcpy(dst, src, n * sizeof(float));
}


// Transposes whose innermost output dim is strided in x but some other output dim k is x's
// contiguous one (NCHW <-> NHWC and every batched matrix transpose) go tile by tile over dims
// (k, last): 16 x 16 blocks that read and write whole cache lines, split over the threads by
// (outer index, block row). Others walk runs.
constexpr int64_t kTile = 16;

bool transpose_blocked(const MergedViews& m, const float* x, float* y) {
  const int r = static_cast<int>(m.d.size());
  if (r < 2 || m.ss[r - 1] == 1) return false;
  int k = -1;
  for (int i = 0; i < r - 1; ++i)
    if (m.ss[i] == 1) k = i;
  if (k < 0) return false;
  std::vector<int> outer;  // the other dims
  int64_t count = 1;
  for (int i = 0; i < r - 1; ++i)
    if (i != k) outer.push_back(i), count *= m.d[i];
  const int64_t rows = m.d[k], cols = m.d[r - 1], row_blocks = (rows + kTile - 1) / kTile;
  const int64_t dk = m.ds[k], sc = m.ss[r - 1];
#pragma omp parallel for schedule(static) if (count * rows * cols > kParallelMin)
  for (int64_t item = 0; item < count * row_blocks; ++item) {
    int64_t o = item / row_blocks, i0 = item % row_blocks * kTile, i1 = std::min(rows, i0 + kTile);
    int64_t dst = 0, src = 0;
    for (size_t q = outer.size(); q-- > 0;) {
      int64_t n = m.d[outer[q]], idx = o % n;
      o /= n;
      dst += idx * m.ds[outer[q]], src += idx * m.ss[outer[q]];
    }
    for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
      int64_t j1 = std::min(cols, j0 + kTile);
      for (int64_t i = i0; i < i1; ++i) {
        float* yr = y + dst + i * dk;
        const float* xr = x + src + i;
        for (int64_t j = j0; j < j1; ++j) yr[j] = xr[j * sc];
      }
    }
  }
  return true;
}

void transpose_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &y = a.out[0];
  std::vector<int64_t> perm = a.attrs().get_ints("perm");
  std::vector<int64_t> xs = contiguous_strides(x.dims), src(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) src[i] = xs[perm[i]];
  const float* xp = x.f();
  float* yp = y.f();
  std::vector<int64_t> dst = contiguous_strides(y.dims);
  MergedViews m = merge_views(y.dims, dst, src);
  if (m.empty || transpose_blocked(m, xp, yp)) return;
  strided_walk(y.dims, dst, src, [&](int64_t d, int64_t s, int64_t n, int64_t dst, int64_t sst) {
    if (dst == 1 && sst == 1) return copy_run(yp + d, xp + s, n);
    for (int64_t j = 0; j < n; ++j) yp[d + j * dst] = xp[s + j * sst];
  });
}

void concat_k(const KernelArgs& a) {
  const TensorView& y = a.out[0];
  int64_t axis = a.attrs().get_int("axis");
  int ax = static_cast<int>(axis < 0 ? axis + y.rank() : axis);
  int64_t outer, inner;
  outer_inner(y.dims, ax, &outer, &inner);
  int64_t row = y.dims[ax] * inner;
  const int64_t parts = static_cast<int64_t>(a.in.size());
  std::vector<int64_t> begin(parts + 1, 0);
  for (int64_t k = 0; k < parts; ++k) begin[k + 1] = begin[k] + a.in[k].dims[ax] * inner;
  // one run per (outer index, operand), over the threads when there is enough to copy
  parallel_for(outer * parts, y.numel > kParallelMin, [&](int64_t item) {
    int64_t o = item / parts, k = item % parts, len = begin[k + 1] - begin[k];
    copy_run(y.f() + o * row + begin[k], a.in[k].f() + o * len, len);
  });
}

struct Range {
  int axis;
  int64_t outer, inner, dim, begin, end;
};

// The slice of x (operand or, for slice_grad, result) the node's attributes select, by the
// schema's own rule (ops/ranges.h).
Range slice_of(const KernelArgs& a, const TensorView& x) {
  ops::SliceRange s = ops::slice_range(ir::Type{x.dtype, x.dims}, a.attrs());
  Range r;
  r.axis = s.axis;
  outer_inner(x.dims, r.axis, &r.outer, &r.inner);
  r.dim = x.dims[r.axis];
  r.begin = s.begin;
  r.end = s.end;
  return r;
}

void slice_k(const KernelArgs& a) {
  Range r = slice_of(a, a.in[0]);
  int64_t len = (r.end - r.begin) * r.inner, row = r.dim * r.inner;
  for (int64_t o = 0; o < r.outer; ++o) copy_run(a.out[0].f() + o * len, a.in[0].f() + o * row + r.begin * r.inner, len);
}

// slice_grad(dy, x): dy into zeros of x's shape.
void slice_grad_k(const KernelArgs& a) {
  const TensorView& dx = a.out[0];
  Range r = slice_of(a, dx);
  std::fill(dx.f(), dx.f() + dx.numel, 0.f);
  int64_t len = (r.end - r.begin) * r.inner, row = r.dim * r.inner;
  for (int64_t o = 0; o < r.outer; ++o) copy_run(dx.f() + o * row + r.begin * r.inner, a.in[0].f() + o * len, len);
}

// reverse(x) {axis}: each run of `inner` values along the axis copied in reverse order of runs.
void reverse_k(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  int axis = static_cast<int>(a.attrs().get_int("axis"));
  if (axis < 0) axis += x.rank();
  int64_t outer, inner, n = x.dims[axis];
  outer_inner(x.dims, axis, &outer, &inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < n; ++i)
      copy_run(a.out[0].f() + (o * n + i) * inner, x.f() + (o * n + (n - 1 - i)) * inner, inner);
}

}  // namespace

void view_k(const KernelArgs& a) {
  if (a.out[0].data != a.in[0].data) copy_run(a.out[0].f(), a.in[0].f(), a.out[0].numel);
}

KILN_CPU_KERNEL(reverse, reverse_k);
KILN_CPU_KERNEL(reshape, view_k);
KILN_CPU_KERNEL(transpose, transpose_k);
KILN_CPU_KERNEL(concat, concat_k);
KILN_CPU_KERNEL(slice, slice_k);
KILN_CPU_KERNEL(slice_grad, slice_grad_k);

}  // namespace kiln::cpu
