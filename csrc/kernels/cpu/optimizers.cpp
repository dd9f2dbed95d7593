// Optimizer updates, in place, one pass over each parameter (Keras 1.2 formulas, see
// docs/optimizers.md). lr is read from its state scalar at every step, so a callback's change
// takes effect at the next batch. `iterations` counts completed steps (Keras' value before this
// step's increment). Each update is a multi-versioned loop (AVX-512/AVX2/baseline) over one
// chunk per thread; scalar factors (bias corrections, schedules) are computed once per step.
#include <cmath>

#include "kernels/cpu/parallel.h"

namespace kiln::cpu {

// The per-element updates. g is clipped to [-clip, clip] (clip = +inf when off).
KILN_VECTOR void update_sgd(float* p, const float* g, float* v, int64_t n, float lr, float m, bool nesterov, float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float vi = m * v[i] - lr * gi;
    v[i] = vi;
    p[i] += nesterov ? m * vi - lr * gi : vi;
  }
}

KILN_VECTOR void update_rmsprop(float* p, const float* g, float* a, int64_t n, float lr, float rho, float eps, float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float ai = rho * a[i] + (1.f - rho) * gi * gi;
    a[i] = ai;
    p[i] -= lr * gi / (std::sqrt(ai) + eps);
  }
}

KILN_VECTOR void update_adagrad(float* p, const float* g, float* a, int64_t n, float lr, float eps, float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float ai = a[i] + gi * gi;
    a[i] = ai;
    p[i] -= lr * gi / (std::sqrt(ai) + eps);
  }
}

KILN_VECTOR void update_adadelta(float* p, const float* g, float* a, float* d, int64_t n, float lr, float rho, float eps,
                                 float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float ai = rho * a[i] + (1.f - rho) * gi * gi;
    a[i] = ai;
    float u = gi * std::sqrt(d[i] + eps) / std::sqrt(ai + eps);
    p[i] -= lr * u;
    d[i] = rho * d[i] + (1.f - rho) * u * u;
  }
}

KILN_VECTOR void update_adam(float* p, const float* g, float* m, float* v, int64_t n, float lr_t, float b1, float b2,
                             float eps, float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr_t * mi / (std::sqrt(vi) + eps);
  }
}

KILN_VECTOR void update_adamax(float* p, const float* g, float* m, float* u, int64_t n, float lr_t, float b1, float b2,
                               float eps, float clip) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float ag = gi < 0 ? -gi : gi, bu = b2 * u[i];
    float ui = bu > ag ? bu : ag;
    m[i] = mi;
    u[i] = ui;
    p[i] -= lr_t * mi / (ui + eps);
  }
}

KILN_VECTOR void update_nadam(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2,
                              float eps, float clip, float g_scale, float m_scale, float v_scale, float mc_t,
                              float mc_t1) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float m_bar = (1.f - mc_t) * gi * g_scale + mc_t1 * mi * m_scale;
    p[i] -= lr * m_bar / (std::sqrt(vi * v_scale) + eps);
  }
}

namespace {

struct Step {
  float* p;
  const float* g;
  int64_t n;
  float lr;    // with decay applied
  double t;    // this step's number, from 1
  float clip;  // +inf when off
};

Step step_of(const KernelArgs& a) {
  Step s;
  s.p = a.in[0].f();
  s.g = a.in[1].f();
  s.n = a.in[0].numel;
  ops::AttrReader attrs = a.attrs();
  double it = a.in[3].f()[0];
  double decay = attrs.get_float("decay");
  s.lr = static_cast<float>(a.in[2].f()[0] * (decay > 0 ? 1.0 / (1.0 + decay * it) : 1.0));
  s.t = it + 1;
  double c = attrs.get_float("clipvalue");
  s.clip = c > 0 ? static_cast<float>(c) : INFINITY;
  return s;
}

// A hyper-parameter as the f32 the update loops compute with.
float hyper(const ops::AttrReader& attrs, const char* key) { return static_cast<float>(attrs.get_float(key)); }

void sgd_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  float m = hyper(attrs, "momentum");
  bool nesterov = attrs.get_bool("nesterov");
  float* v = a.in[4].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) { update_sgd(s.p + b, s.g + b, v + b, e - b, s.lr, m, nesterov, s.clip); });
}

void rmsprop_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  float rho = hyper(attrs, "rho"), eps = hyper(attrs, "epsilon");
  float* acc = a.in[4].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) { update_rmsprop(s.p + b, s.g + b, acc + b, e - b, s.lr, rho, eps, s.clip); });
}

void adagrad_k(const KernelArgs& a) {
  Step s = step_of(a);
  float eps = hyper(a.attrs(), "epsilon");
  float* acc = a.in[4].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) { update_adagrad(s.p + b, s.g + b, acc + b, e - b, s.lr, eps, s.clip); });
}

void adadelta_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  float rho = hyper(attrs, "rho"), eps = hyper(attrs, "epsilon");
  float* acc = a.in[4].f();
  float* dacc = a.in[5].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) {
    update_adadelta(s.p + b, s.g + b, acc + b, dacc + b, e - b, s.lr, rho, eps, s.clip);
  });
}

void adam_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  double b1 = attrs.get_float("beta_1"), b2 = attrs.get_float("beta_2");
  float eps = hyper(attrs, "epsilon");
  float lr_t = static_cast<float>(s.lr * std::sqrt(1.0 - std::pow(b2, s.t)) / (1.0 - std::pow(b1, s.t)));
  float* m = a.in[4].f();
  float* v = a.in[5].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) {
    update_adam(s.p + b, s.g + b, m + b, v + b, e - b, lr_t, float(b1), float(b2), eps, s.clip);
  });
}

void adamax_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  double b1 = attrs.get_float("beta_1");
  float b2 = hyper(attrs, "beta_2"), eps = hyper(attrs, "epsilon");
  float lr_t = static_cast<float>(s.lr / (1.0 - std::pow(b1, s.t)));
  float* m = a.in[4].f();
  float* u = a.in[5].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) {
    update_adamax(s.p + b, s.g + b, m + b, u + b, e - b, lr_t, float(b1), b2, eps, s.clip);
  });
}

double momentum_cache(double b1, double sd, double t) { return b1 * (1.0 - 0.5 * std::pow(0.96, t * sd)); }

void nadam_k(const KernelArgs& a) {
  Step s = step_of(a);
  ops::AttrReader attrs = a.attrs();
  double b1 = attrs.get_float("beta_1"), b2 = attrs.get_float("beta_2");
  double sd = attrs.get_float("schedule_decay");
  float eps = hyper(attrs, "epsilon");
  double mc_t = momentum_cache(b1, sd, s.t), mc_t1 = momentum_cache(b1, sd, s.t + 1);
  double sched = a.in[6].f()[0];
  float g_scale = static_cast<float>(1.0 / (1.0 - sched * mc_t));
  float m_scale = static_cast<float>(1.0 / (1.0 - sched * mc_t * mc_t1));
  float v_scale = static_cast<float>(1.0 / (1.0 - std::pow(b2, s.t)));
  float* m = a.in[4].f();
  float* v = a.in[5].f();
  parallel_chunks(s.n, [&](int64_t b, int64_t e) {
    update_nadam(s.p + b, s.g + b, m + b, v + b, e - b, s.lr, float(b1), float(b2), eps, s.clip, g_scale, m_scale,
                 v_scale, float(mc_t), float(mc_t1));
  });
}

void nadam_schedule_k(const KernelArgs& a) {
  ops::AttrReader attrs = a.attrs();
  double b1 = attrs.get_float("beta_1"), sd = attrs.get_float("schedule_decay");
  double t = a.in[1].f()[0] + 1;
  float* s = a.in[0].f();
  s[0] = static_cast<float>(s[0] * momentum_cache(b1, sd, t));
}

void increment_k(const KernelArgs& a) {
  float by = hyper(a.attrs(), "by");
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
