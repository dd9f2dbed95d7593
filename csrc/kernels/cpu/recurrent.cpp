// The parts of the recurrent kernels that do not depend on the cell (see recurrent.h).
#include "kernels/cpu/recurrent.h"

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vmath.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace kiln::cpu::rnn {

namespace {
std::atomic<int64_t> g_nanos[kPhases];
}

bool timers_on() {
  static const bool on = [] {
    const char* e = std::getenv("KILN_RNN_TIMERS");
    return e && std::string(e) == "1";
  }();
  return on;
}

void add_time(Phase p, double seconds) { g_nanos[p] += static_cast<int64_t>(seconds * 1e9); }

std::vector<double> phase_seconds() {
  std::vector<double> out;
  for (auto& n : g_nanos) out.push_back(n.exchange(0) * 1e-9);
  return out;
}

const char* phase_name(int p) {
  static const char* names[] = {"input GEMM", "recurrent GEMMs", "gates", "weight-gradient GEMMs"};
  return p >= 0 && p < kPhases ? names[p] : "?";
}

Act act_named(const std::string& n) {
  if (n == "linear") return Act::linear;
  if (n == "relu") return Act::relu;
  if (n == "sigmoid") return Act::sigmoid;
  if (n == "hard_sigmoid") return Act::hard_sigmoid;
  if (n == "tanh") return Act::tanh;
  if (n == "softsign") return Act::softsign;
  if (n == "softplus") return Act::softplus;
  if (n == "elu") return Act::elu;
  throw ValueError("unknown recurrent activation '" + n +
                   "' (accepted: linear, relu, sigmoid, hard_sigmoid, tanh, softsign, softplus, elu)");
}

namespace {
// One loop per activation, multi-versioned (KILN_VECTOR): the switch stays outside the loops.
KILN_VECTOR void relu_loop(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = p[i] > 0.f ? p[i] : 0.f;
}
KILN_VECTOR void sigmoid_loop(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = vmath::sigmoid(p[i]);
}
KILN_VECTOR void hard_sigmoid_loop(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = 0.2f * p[i] + 0.5f;
    p[i] = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
  }
}
KILN_VECTOR void tanh_loop(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = vmath::tanh(p[i]);
}
KILN_VECTOR void softsign_loop(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = p[i] / (1.f + (p[i] < 0.f ? -p[i] : p[i]));
}
KILN_VECTOR void sigmoid_grad_loop(const float* y, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= y[i] * (1.f - y[i]);
}
KILN_VECTOR void hard_sigmoid_grad_loop(const float* y, float* d, int64_t n) {  // slope 0.2 strictly inside
  for (int64_t i = 0; i < n; ++i) d[i] = (y[i] > 0.f && y[i] < 1.f) ? 0.2f * d[i] : 0.f;
}
KILN_VECTOR void tanh_grad_loop(const float* y, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= 1.f - y[i] * y[i];
}
}  // namespace

void apply(Act a, float* p, int64_t n) {
  switch (a) {
    case Act::linear: return;
    case Act::relu: return relu_loop(p, n);
    case Act::sigmoid: return sigmoid_loop(p, n);
    case Act::hard_sigmoid: return hard_sigmoid_loop(p, n);
    case Act::tanh: return tanh_loop(p, n);
    case Act::softsign: return softsign_loop(p, n);
    case Act::softplus:
      for (int64_t i = 0; i < n; ++i) p[i] = p[i] > 20.f ? p[i] : std::log1p(std::exp(p[i]));
      return;
    case Act::elu:
      for (int64_t i = 0; i < n; ++i) p[i] = p[i] > 0.f ? p[i] : std::expm1(p[i]);
      return;
  }
}

void times_grad(Act a, const float* y, float* d, int64_t n) {
  switch (a) {
    case Act::linear: return;
    case Act::relu:
      for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.f ? d[i] : 0.f;
      return;
    case Act::sigmoid: return sigmoid_grad_loop(y, d, n);
    case Act::hard_sigmoid: return hard_sigmoid_grad_loop(y, d, n);
    case Act::tanh: return tanh_grad_loop(y, d, n);
    case Act::softsign:  // 1 / (1 + |x|)^2 = (1 - |y|)^2
      for (int64_t i = 0; i < n; ++i) d[i] *= (1.f - std::fabs(y[i])) * (1.f - std::fabs(y[i]));
      return;
    case Act::softplus:  // sigmoid(x) = 1 - exp(-y)
      for (int64_t i = 0; i < n; ++i) d[i] *= -std::expm1(-y[i]);
      return;
    case Act::elu:  // 1 above 0, else exp(x) = y + 1
      for (int64_t i = 0; i < n; ++i) d[i] *= y[i] > 0.f ? 1.f : y[i] + 1.f;
      return;
  }
}

void input_projection(const Seq& s, const float* x, const float* W, const float* b, float* z) {
  PhaseTimer timer(kInputGemm);
  int64_t rows = s.B * s.T, n = s.G * s.u;
  sgemm(false, false, rows, n, s.D, 1.f, x, s.D, W, n, 0.f, z, n);
#pragma omp parallel for schedule(static) if (rows * n > kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) z[r * n + j] += b[j];
}

void input_gradients(const Seq& s, const float* dz, const float* x, const float* W, float* dx, float* dW, float* db) {
  PhaseTimer timer(kWeightGrads);
  int64_t rows = s.B * s.T, n = s.G * s.u;
  if (dx) sgemm(false, true, rows, s.D, n, 1.f, dz, n, W, n, 0.f, dx, s.D);
  sgemm(true, false, s.D, n, rows, 1.f, x, s.D, dz, n, 0.f, dW, n);
  // Column sums, row after row: one fixed order whatever the thread count.
  std::fill(db, db + n, 0.f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) db[j] += dz[r * n + j];
}

void previous_states(const Seq& s, const float* hs, const float* h0, float* hprev) {
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t k = 0; k < s.T; ++k) {
      float* dst = hprev + (b * s.T + s.time(k)) * s.u;
      if (k == 0) {
        if (h0) std::memcpy(dst, h0 + b * s.u, s.u * sizeof(float));
        else std::fill(dst, dst + s.u, 0.f);
      } else {
        std::memcpy(dst, hs + (b * s.T + s.time(k - 1)) * s.u, s.u * sizeof(float));
      }
    }
}

void write_output(const Seq& s, const float* hs, bool return_sequences, float* y) {
  for (int64_t b = 0; b < s.B; ++b) {
    if (!return_sequences) {
      std::memcpy(y + b * s.u, hs + (b * s.T + s.time(s.T - 1)) * s.u, s.u * sizeof(float));
      continue;
    }
    for (int64_t k = 0; k < s.T; ++k)
      std::memcpy(y + (b * s.T + k) * s.u, hs + (b * s.T + s.time(k)) * s.u, s.u * sizeof(float));
  }
}

}  // namespace kiln::cpu::rnn
