// Cross-entropy kernels with Keras 1 semantics. Per row of C classes:
//   S = sum(o), q = o / S, p = clip(q, eps, 1-eps), loss = -sum(t * log p)
// and the gradient through the renormalization: with g_i = -t_i / q_i where q_i is inside the
// clip range (0 outside), d loss / d o_j = (g_j - sum_i g_i q_i) / S.
#include <cmath>
#include <string>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {
namespace {

float eps_of(const KernelArgs& a) { return static_cast<float>(a.attrs().get_float("epsilon")); }

void cce_k(const KernelArgs& a) {
  const float* t = a.in[0].f();
  const float* o = a.in[1].f();
  float* loss = a.out[0].f();
  int64_t C = a.in[1].dims.back(), rows = a.out[0].numel;
  float eps = eps_of(a);
  for (int64_t i = 0; i < rows; ++i) {
    const float* orow = o + i * C;
    const float* trow = t + i * C;
    float S = 0;
    for (int64_t j = 0; j < C; ++j) S += orow[j];
    float l = 0;
    for (int64_t j = 0; j < C; ++j) {
      if (trow[j] == 0.f) continue;  // 0 * log(p) with p clipped to [eps, 1-eps]: exactly 0
      float p = std::fmin(std::fmax(orow[j] / S, eps), 1.f - eps);
      l -= trow[j] * std::log(p);
    }
    loss[i] = l;
  }
}

void cce_grad_k(const KernelArgs& a) {
  const float* dy = a.in[0].f();
  const float* t = a.in[1].f();
  const float* o = a.in[2].f();
  float* d = a.out[0].f();
  int64_t C = a.in[2].dims.back(), rows = a.in[0].numel;
  float eps = eps_of(a);
  for (int64_t i = 0; i < rows; ++i) {
    const float* orow = o + i * C;
    const float* trow = t + i * C;
    float* drow = d + i * C;
    float S = 0;
    for (int64_t j = 0; j < C; ++j) S += orow[j];
    float gq = 0;
    for (int64_t j = 0; j < C; ++j) {
      float g = 0.f;
      if (trow[j] != 0.f) {
        float q = orow[j] / S;
        g = (q >= eps && q <= 1.f - eps) ? -trow[j] / q : 0.f;
        gq += g * q;
      }
      drow[j] = g;
    }
    float scale = dy[i] / S;
    for (int64_t j = 0; j < C; ++j) drow[j] = (drow[j] - gq) * scale;
  }
}

int64_t class_index(float v, int64_t C) {
  // Compare as floating point first: converting NaN or 1e30 to an integer is undefined.
  if (!(v >= 0 && static_cast<double>(v) < static_cast<double>(C)) || std::floor(v) != v)
    throw ValueError("[sparse_categorical_crossentropy] target " + std::to_string(v) +
                     " is not a class index in [0, " + std::to_string(C) + ")");
  int64_t c = static_cast<int64_t>(v);
  return c;
}

void scce_k(const KernelArgs& a) {
  const float* t = a.in[0].f();
  const float* o = a.in[1].f();
  float* loss = a.out[0].f();
  int64_t C = a.in[1].dims.back(), rows = a.out[0].numel;
  float eps = eps_of(a);
  for (int64_t i = 0; i < rows; ++i) {
    const float* orow = o + i * C;
    int64_t c = class_index(t[i], C);
    float S = 0;
    for (int64_t j = 0; j < C; ++j) S += orow[j];
    loss[i] = -std::log(std::fmin(std::fmax(orow[c] / S, eps), 1.f - eps));
  }
}

void scce_grad_k(const KernelArgs& a) {
  const float* dy = a.in[0].f();
  const float* t = a.in[1].f();
  const float* o = a.in[2].f();
  float* d = a.out[0].f();
  int64_t C = a.in[2].dims.back(), rows = a.in[0].numel;
  float eps = eps_of(a);
  for (int64_t i = 0; i < rows; ++i) {
    const float* orow = o + i * C;
    float* drow = d + i * C;
    int64_t c = class_index(t[i], C);
    float S = 0;
    for (int64_t j = 0; j < C; ++j) S += orow[j];
    float q = orow[c] / S;
    float g = (q >= eps && q <= 1.f - eps) ? -1.f / q : 0.f;
    float scale = dy[i] / S;
    for (int64_t j = 0; j < C; ++j) drow[j] = -g * q * scale;
    drow[c] += g * scale;
  }
}

}  // namespace

KILN_CPU_KERNEL(categorical_crossentropy, cce_k);
KILN_CPU_KERNEL(categorical_crossentropy_grad, cce_grad_k);
KILN_CPU_KERNEL(sparse_categorical_crossentropy, scce_k);
KILN_CPU_KERNEL(sparse_categorical_crossentropy_grad, scce_grad_k);

}  // namespace kiln::cpu
