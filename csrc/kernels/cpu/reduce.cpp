// Reductions (sum, mean, max, min, prod over a set of axes), the element count a mean divides
// by, reduce_prod's gradient, and argmax along one axis.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "ops/ranges.h"

namespace kiln::cpu {
namespace {

// Operand dims with the reduced axes (ops/ranges.h) set to 1 (the result as if keepdims), and the count.
std::vector<int64_t> kept_dims(const TensorView& x, const KernelArgs& a, int64_t* count) {
  std::vector<int64_t> d = x.dims;
  *count = 1;
  for (int64_t ax : ops::reduction_axes(x.rank(), a.attrs())) {
    *count *= d[ax];
    d[ax] = 1;
  }
  return d;
}

enum class Red { sum, max, min, prod };

void reduce(const KernelArgs& a, Red kind, bool mean) {
  const TensorView &x = a.in[0], &o = a.out[0];
  int64_t count;
  std::vector<int64_t> kd = kept_dims(x, a, &count);
  const float* xp = x.f();
  float* op = o.f();
  float init = kind == Red::sum ? 0.f : kind == Red::max ? -INFINITY : kind == Red::min ? INFINITY : 1.f;
  std::fill(op, op + o.numel, init);
  auto combine = [kind](float acc, float v) {
    return kind == Red::sum ? acc + v : kind == Red::max ? std::fmax(acc, v) : kind == Red::min ? std::fmin(acc, v) : acc * v;
  };
  int r = x.rank();
  bool last_only = r > 0 && kd[r - 1] == 1 && std::equal(kd.begin(), kd.end() - 1, x.dims.begin());
  if (o.numel == 1) {
    double s = 0;
    float m = init;
    for (int64_t i = 0; i < x.numel; ++i) {
      if (kind == Red::sum) s += xp[i];
      else m = combine(m, xp[i]);
    }
    op[0] = kind == Red::sum ? static_cast<float>(s) : m;
  } else if (last_only) {
    int64_t cols = x.dims[r - 1];
    parallel_for(o.numel, x.numel > kParallelMin, [&](int64_t i) {
      const float* row = xp + i * cols;
      float acc = init;
      for (int64_t j = 0; j < cols; ++j) acc = combine(acc, row[j]);
      op[i] = acc;
    });
  } else {
    BroadcastIndex bi(x.dims, {kd});
    bi.for_each_row([&](int64_t in, const std::vector<int64_t>& off, int64_t len, const std::vector<int64_t>& st) {
      for (int64_t j = 0; j < len; ++j) {
        float& dst = op[off[0] + j * st[0]];
        dst = combine(dst, xp[in + j]);
      }
    });
  }
  if (mean && count > 0) {
    float inv = 1.f / static_cast<float>(count);
    for (int64_t i = 0; i < o.numel; ++i) op[i] *= inv;
  }
}

void reduce_sum_k(const KernelArgs& a) { reduce(a, Red::sum, false); }
void reduce_mean_k(const KernelArgs& a) { reduce(a, Red::sum, true); }
void reduce_max_k(const KernelArgs& a) { reduce(a, Red::max, false); }
void reduce_min_k(const KernelArgs& a) { reduce(a, Red::min, false); }
void reduce_prod_k(const KernelArgs& a) { reduce(a, Red::prod, false); }

// Offsets of every element of x over the axes where `pick` is true, relative to index 0, in
// row-major order of those axes.
std::vector<int64_t> offsets_over(const TensorView& x, const std::vector<bool>& pick) {
  std::vector<int64_t> off{0}, st(x.rank());
  int64_t s = 1;
  for (int i = x.rank() - 1; i >= 0; --i) {
    st[i] = s;
    s *= x.dims[i];
  }
  for (int i = 0; i < x.rank(); ++i) {
    if (!pick[i]) continue;
    std::vector<int64_t> next;
    next.reserve(off.size() * x.dims[i]);
    for (int64_t o : off)
      for (int64_t j = 0; j < x.dims[i]; ++j) next.push_back(o + j * st[i]);
    off = std::move(next);
  }
  return off;
}

// reduce_prod_grad(dy, x): group g (the elements reduced into dy[g]) starts at group[g] and
// holds elements group[g] + member[j]. Its gradient is dy[g] * prefix product * suffix
// product: two passes per group, no division, so zeros in x are exact.
void reduce_prod_grad_k(const KernelArgs& a) {
  const TensorView &dy = a.in[0], &x = a.in[1];
  int r = x.rank();
  std::vector<bool> reduced(r, false);
  for (int64_t ax : ops::reduction_axes(r, a.attrs())) reduced[ax] = true;
  std::vector<bool> kept(r);
  for (int i = 0; i < r; ++i) kept[i] = !reduced[i];
  std::vector<int64_t> group = offsets_over(x, kept), member = offsets_over(x, reduced);
  const float* xp = x.f();
  const float* g = dy.f();
  float* dx = a.out[0].f();
  int64_t n = static_cast<int64_t>(member.size());
  for (size_t k = 0; k < group.size(); ++k) {
    const float* xs = xp + group[k];
    float* ds = dx + group[k];
    float run = 1.f;
    for (int64_t j = 0; j < n; ++j) {
      ds[member[j]] = run;
      run *= xs[member[j]];
    }
    run = g[k];
    for (int64_t j = n; j-- > 0;) {
      ds[member[j]] *= run;
      run *= xs[member[j]];
    }
  }
}

void reduce_count_k(const KernelArgs& a) {
  int64_t count;
  kept_dims(a.in[0], a, &count);
  a.out[0].f()[0] = static_cast<float>(count);
}

void argmax_k(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  int r = x.rank();
  int64_t ax = a.attrs().get_int("axis");
  int axis = static_cast<int>(ax < 0 ? ax + r : ax);
  int64_t outer = 1, inner = 1, n = x.dims[axis];
  for (int i = 0; i < axis; ++i) outer *= x.dims[i];
  for (int i = axis + 1; i < r; ++i) inner *= x.dims[i];
  const float* xp = x.f();
  float* op = a.out[0].f();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = xp + o * n * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k)
        if (p[k * inner] > p[best * inner]) best = k;
      op[o * inner + i] = static_cast<float>(best);
    }
}

}  // namespace

KILN_CPU_KERNEL(reduce_sum, reduce_sum_k);
KILN_CPU_KERNEL(reduce_mean, reduce_mean_k);
KILN_CPU_KERNEL(reduce_max, reduce_max_k);
KILN_CPU_KERNEL(reduce_min, reduce_min_k);
KILN_CPU_KERNEL(reduce_prod, reduce_prod_k);
KILN_CPU_KERNEL(reduce_prod_grad, reduce_prod_grad_k);
KILN_CPU_KERNEL(reduce_count, reduce_count_k);
KILN_CPU_KERNEL(argmax, argmax_k);

}  // namespace kiln::cpu
