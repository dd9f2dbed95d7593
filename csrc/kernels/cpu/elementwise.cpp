// Elementwise CPU kernels: unary math and activations (their formulas in activations.h), the
// derivative helpers (dy, saved), binary ops with broadcasting, comparisons, constants, and
// sum_like / broadcast_like.
#include <cmath>
#include <limits>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"

namespace kiln::cpu {
namespace {

template <typename F>
void unary(const KernelArgs& a, F f) {
  const float* x = a.in[0].f();
  float* y = a.out[0].f();
  int64_t n = a.out[0].numel;
  parallel_for(n, n > kParallelMin, [&](int64_t i) { y[i] = f(x[i]); });
}

// out = f(dy, s) where s is the saved forward result or operand.
template <typename F>
void pair(const KernelArgs& a, F f) {
  const float* dy = a.in[0].f();
  const float* s = a.in[1].f();
  float* dx = a.out[0].f();
  int64_t n = a.out[0].numel;
  parallel_for(n, n > kParallelMin, [&](int64_t i) { dx[i] = f(dy[i], s[i]); });
}

template <typename F>
void binary(const KernelArgs& a, F f) {
  const TensorView &x = a.in[0], &y = a.in[1], &o = a.out[0];
  const float* xp = x.f();
  const float* yp = y.f();
  float* op = o.f();
  int64_t n = o.numel;
  if (x.dims == y.dims) {
    parallel_for(n, n > kParallelMin, [&](int64_t i) { op[i] = f(xp[i], yp[i]); });
    return;
  }
  if (y.numel == 1) {
    float c = yp[0];
    parallel_for(n, n > kParallelMin, [&](int64_t i) { op[i] = f(xp[i], c); });
    return;
  }
  if (x.numel == 1) {
    float c = xp[0];
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) op[i] = f(c, yp[i]);
    return;
  }
  BroadcastIndex bi(o.dims, {x.dims, y.dims});
  bi.for_each_row([&](int64_t out, const std::vector<int64_t>& off, int64_t len, const std::vector<int64_t>& st) {
    for (int64_t j = 0; j < len; ++j) op[out + j] = f(xp[off[0] + j * st[0]], yp[off[1] + j * st[1]]);
  });
}

void clip_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  float lo = static_cast<float>(attrs.get_float("min")), hi = static_cast<float>(attrs.get_float("max"));
  unary(a, [=](float x) { return std::fmin(std::fmax(x, lo), hi); });
}
void clip_grad_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  float lo = static_cast<float>(attrs.get_float("min")), hi = static_cast<float>(attrs.get_float("max"));
  pair(a, [=](float dy, float x) { return (x >= lo && x <= hi) ? dy : 0.f; });
}
void elu_k(const KernelArgs& a) {
  float al = static_cast<float>(a.attrs().get_float("alpha"));
  unary(a, [=](float x) { return act::elu(x, al); });
}
void elu_grad_k(const KernelArgs& a) {
  float al = static_cast<float>(a.attrs().get_float("alpha"));
  pair(a, [=](float dy, float y) { return act::elu_grad(dy, y, al); });
}

void constant_k(const KernelArgs& a) { a.out[0].f()[0] = static_cast<float>(a.attrs().get_float("value")); }

// sum_like(x, ref): accumulate x into ref's shape.
void sum_like_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &r = a.out[0];
  const float* xp = x.f();
  float* rp = r.f();
  std::fill(rp, rp + r.numel, 0.f);
  // Fast path: ref is the trailing dims of x (the bias gradient: sum over rows).
  bool trailing = r.rank() <= x.rank();
  for (int i = 0; trailing && i < r.rank(); ++i) trailing = r.dims[i] == x.dims[x.rank() - r.rank() + i];
  if (trailing) {
    int64_t cols = r.numel, rows = cols ? x.numel / cols : 0;
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = xp + i * cols;
      for (int64_t j = 0; j < cols; ++j) rp[j] += row[j];
    }
    return;
  }
  BroadcastIndex bi(x.dims, {r.dims});
  bi.for_each_row([&](int64_t out, const std::vector<int64_t>& off, int64_t len, const std::vector<int64_t>& st) {
    for (int64_t j = 0; j < len; ++j) rp[off[0] + j * st[0]] += xp[out + j];
  });
}

// broadcast_like(x, ref) {axes}: copy x into ref's shape.
void broadcast_like_k(const KernelArgs& a) {
  const TensorView &x = a.in[0], &o = a.out[0];
  std::vector<int64_t> xd = x.dims;
  ops::AttrReader attrs = a.attrs();
  if (attrs.has("axes")) {
    std::vector<int64_t> axes = attrs.get_ints("axes");
    int r = o.rank();
    std::vector<bool> is_axis(r, false);
    for (int64_t ax : axes) is_axis[ax < 0 ? ax + r : ax] = true;
    xd.clear();
    int k = 0;
    for (int i = 0; i < r; ++i) xd.push_back(is_axis[i] ? 1 : x.dims[k++]);
  }
  const float* xp = x.f();
  float* op = o.f();
  if (x.numel == 1) {
    std::fill(op, op + o.numel, xp[0]);
    return;
  }
  BroadcastIndex bi(o.dims, {xd});
  bi.for_each_row([&](int64_t out, const std::vector<int64_t>& off, int64_t len, const std::vector<int64_t>& st) {
    for (int64_t j = 0; j < len; ++j) op[out + j] = xp[off[0] + j * st[0]];
  });
}

}  // namespace

#define KILN_UNARY(name, expr)                                        \
  static void name##_kernel(const KernelArgs& a) {                    \
    unary(a, [](float x) { return expr; });                           \
  }                                                                   \
  KILN_CPU_KERNEL(name, name##_kernel)
#define KILN_PAIR(name, expr)                                         \
  static void name##_kernel(const KernelArgs& a) {                    \
    pair(a, [](float dy, float s) { return expr; });                  \
  }                                                                   \
  KILN_CPU_KERNEL(name, name##_kernel)
#define KILN_BINARY(name, expr)                                       \
  static void name##_kernel(const KernelArgs& a) {                    \
    binary(a, [](float x, float y) { return expr; });                 \
  }                                                                   \
  KILN_CPU_KERNEL(name, name##_kernel)

KILN_UNARY(identity, x);
KILN_UNARY(neg, -x);
KILN_UNARY(exp, std::exp(x));
KILN_UNARY(log, std::log(x));
KILN_UNARY(sqrt, std::sqrt(x));
KILN_UNARY(sin, std::sin(x));
KILN_UNARY(cos, std::cos(x));
KILN_UNARY(square, x * x);
KILN_UNARY(abs, std::fabs(x));
KILN_UNARY(sign, static_cast<float>((x > 0) - (x < 0)));
KILN_UNARY(round, std::nearbyint(x));  // half to even, as NumPy and Keras' K.round
KILN_UNARY(relu, act::relu(x));
KILN_UNARY(sigmoid, act::sigmoid(x));
KILN_UNARY(tanh, act::tanh(x));
KILN_UNARY(softplus, act::softplus(x));
KILN_UNARY(softsign, act::softsign(x));
KILN_UNARY(hard_sigmoid, act::hard_sigmoid(x));
KILN_UNARY(pow_log, x > 0 ? std::log(x) : 0.f);
KILN_CPU_KERNEL(clip, clip_k);
KILN_CPU_KERNEL(elu, elu_k);

KILN_PAIR(relu_grad, act::relu_grad(dy, s));
KILN_PAIR(sigmoid_grad, act::sigmoid_grad(dy, s));
KILN_PAIR(tanh_grad, act::tanh_grad(dy, s));
KILN_PAIR(softplus_grad, act::softplus_grad(dy, s));
KILN_PAIR(softsign_grad, act::softsign_grad(dy, s));
KILN_PAIR(hard_sigmoid_grad, act::hard_sigmoid_grad(dy, s));
KILN_CPU_KERNEL(clip_grad, clip_grad_k);
KILN_CPU_KERNEL(elu_grad, elu_grad_k);

KILN_BINARY(add, x + y);
KILN_BINARY(sub, x - y);
KILN_BINARY(mul, x * y);
KILN_BINARY(div, x / y);
KILN_BINARY(maximum, std::fmax(x, y));
KILN_BINARY(minimum, std::fmin(x, y));
KILN_BINARY(pow, std::pow(x, y));
KILN_BINARY(equal, x == y ? 1.f : 0.f);
KILN_BINARY(not_equal, x != y ? 1.f : 0.f);
KILN_BINARY(greater, x > y ? 1.f : 0.f);
KILN_BINARY(greater_equal, x >= y ? 1.f : 0.f);
KILN_BINARY(less, x < y ? 1.f : 0.f);
KILN_BINARY(less_equal, x <= y ? 1.f : 0.f);

KILN_CPU_KERNEL(constant, constant_k);
KILN_CPU_KERNEL(sum_like, sum_like_k);
KILN_CPU_KERNEL(broadcast_like, broadcast_like_k);

}  // namespace kiln::cpu
