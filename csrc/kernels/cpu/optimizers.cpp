// Optimizer updates, in place, one pass over each parameter (Keras 1.2 formulas). lr is read
// from its state scalar at every step, so a callback's change takes effect at the next batch.
// `iterations` counts completed steps (Keras' value before this step's increment).
#include <cmath>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {
namespace {

struct Common {
  float* p;
  const float* g;
  int64_t n;
  float lr;   // with decay applied
  double t;   // this step's number, from 1
  float clip; // clipvalue, 0 = off
};

Common common(const KernelArgs& a) {
  Common c;
  c.p = a.in[0].f();
  c.g = a.in[1].f();
  c.n = a.in[0].numel;
  double it = a.in[3].f()[0];
  double decay = ir::attr_float(a.node.attrs, "decay", 0.0);
  c.lr = static_cast<float>(a.in[2].f()[0] * (decay > 0 ? 1.0 / (1.0 + decay * it) : 1.0));
  c.t = it + 1;
  c.clip = static_cast<float>(ir::attr_float(a.node.attrs, "clipvalue", 0.0));
  return c;
}

inline float grad_at(const Common& c, int64_t i) {
  float g = c.g[i];
  return c.clip > 0 ? std::fmin(std::fmax(g, -c.clip), c.clip) : g;
}

float f(const KernelArgs& a, const char* key, double dflt) { return static_cast<float>(ir::attr_float(a.node.attrs, key, dflt)); }

void sgd_k(const KernelArgs& a) {
  Common c = common(a);
  float m = f(a, "momentum", 0.0);
  bool nesterov = ir::attr_int(a.node.attrs, "nesterov", 0) != 0;
  float* v = a.in[4].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    v[i] = m * v[i] - c.lr * g;
    c.p[i] += nesterov ? m * v[i] - c.lr * g : v[i];
  }
}

void rmsprop_k(const KernelArgs& a) {
  Common c = common(a);
  float rho = f(a, "rho", 0.9), eps = f(a, "epsilon", 1e-8);
  float* acc = a.in[4].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    acc[i] = rho * acc[i] + (1.f - rho) * g * g;
    c.p[i] -= c.lr * g / (std::sqrt(acc[i]) + eps);
  }
}

void adagrad_k(const KernelArgs& a) {
  Common c = common(a);
  float eps = f(a, "epsilon", 1e-8);
  float* acc = a.in[4].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    acc[i] += g * g;
    c.p[i] -= c.lr * g / (std::sqrt(acc[i]) + eps);
  }
}

void adadelta_k(const KernelArgs& a) {
  Common c = common(a);
  float rho = f(a, "rho", 0.95), eps = f(a, "epsilon", 1e-8);
  float* acc = a.in[4].f();
  float* dacc = a.in[5].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    acc[i] = rho * acc[i] + (1.f - rho) * g * g;
    float u = g * std::sqrt(dacc[i] + eps) / std::sqrt(acc[i] + eps);
    c.p[i] -= c.lr * u;
    dacc[i] = rho * dacc[i] + (1.f - rho) * u * u;
  }
}

void adam_k(const KernelArgs& a) {
  Common c = common(a);
  double b1 = ir::attr_float(a.node.attrs, "beta_1", 0.9), b2 = ir::attr_float(a.node.attrs, "beta_2", 0.999);
  float eps = f(a, "epsilon", 1e-8);
  float lr_t = static_cast<float>(c.lr * std::sqrt(1.0 - std::pow(b2, c.t)) / (1.0 - std::pow(b1, c.t)));
  float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  float* m = a.in[4].f();
  float* v = a.in[5].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    m[i] = fb1 * m[i] + (1.f - fb1) * g;
    v[i] = fb2 * v[i] + (1.f - fb2) * g * g;
    c.p[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
  }
}

void adamax_k(const KernelArgs& a) {
  Common c = common(a);
  double b1 = ir::attr_float(a.node.attrs, "beta_1", 0.9);
  float fb1 = static_cast<float>(b1), fb2 = f(a, "beta_2", 0.999), eps = f(a, "epsilon", 1e-8);
  float lr_t = static_cast<float>(c.lr / (1.0 - std::pow(b1, c.t)));
  float* m = a.in[4].f();
  float* u = a.in[5].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    m[i] = fb1 * m[i] + (1.f - fb1) * g;
    u[i] = std::fmax(fb2 * u[i], std::fabs(g));
    c.p[i] -= lr_t * m[i] / (u[i] + eps);
  }
}

double momentum_cache(double b1, double sd, double t) { return b1 * (1.0 - 0.5 * std::pow(0.96, t * sd)); }

void nadam_k(const KernelArgs& a) {
  Common c = common(a);
  double b1 = ir::attr_float(a.node.attrs, "beta_1", 0.9), b2 = ir::attr_float(a.node.attrs, "beta_2", 0.999);
  double sd = ir::attr_float(a.node.attrs, "schedule_decay", 0.004);
  float eps = f(a, "epsilon", 1e-8);
  double mc_t = momentum_cache(b1, sd, c.t), mc_t1 = momentum_cache(b1, sd, c.t + 1);
  double sched = a.in[6].f()[0];
  double sched_new = sched * mc_t, sched_next = sched * mc_t * mc_t1;
  float g_scale = static_cast<float>(1.0 / (1.0 - sched_new));
  float m_scale = static_cast<float>(1.0 / (1.0 - sched_next));
  float v_scale = static_cast<float>(1.0 / (1.0 - std::pow(b2, c.t)));
  float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  float fmc_t = static_cast<float>(mc_t), fmc_t1 = static_cast<float>(mc_t1);
  float* m = a.in[4].f();
  float* v = a.in[5].f();
#pragma omp parallel for if (c.n > kParallelMin)
  for (int64_t i = 0; i < c.n; ++i) {
    float g = grad_at(c, i);
    m[i] = fb1 * m[i] + (1.f - fb1) * g;
    v[i] = fb2 * v[i] + (1.f - fb2) * g * g;
    float m_bar = (1.f - fmc_t) * g * g_scale + fmc_t1 * m[i] * m_scale;
    c.p[i] -= c.lr * m_bar / (std::sqrt(v[i] * v_scale) + eps);
  }
}

void nadam_schedule_k(const KernelArgs& a) {
  double b1 = ir::attr_float(a.node.attrs, "beta_1", 0.9);
  double sd = ir::attr_float(a.node.attrs, "schedule_decay", 0.004);
  double t = a.in[1].f()[0] + 1;
  float* s = a.in[0].f();
  s[0] = static_cast<float>(s[0] * momentum_cache(b1, sd, t));
}

void increment_k(const KernelArgs& a) {
  float by = static_cast<float>(ir::attr_float(a.node.attrs, "by", 1.0));
  float* x = a.in[0].f();
  for (int64_t i = 0; i < a.in[0].numel; ++i) x[i] += by;
}

}  // namespace

KILN_CPU_KERNEL(apply_sgd, sgd_k);
KILN_CPU_KERNEL(apply_rmsprop, rmsprop_k);
KILN_CPU_KERNEL(apply_adagrad, adagrad_k);
KILN_CPU_KERNEL(apply_adadelta, adadelta_k);
KILN_CPU_KERNEL(apply_adam, adam_k);
KILN_CPU_KERNEL(apply_adamax, adamax_k);
KILN_CPU_KERNEL(apply_nadam, nadam_k);
KILN_CPU_KERNEL(nadam_schedule, nadam_schedule_k);
KILN_CPU_KERNEL(increment, increment_k);

}  // namespace kiln::cpu
