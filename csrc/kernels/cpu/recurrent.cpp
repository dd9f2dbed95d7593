// The parts of the recurrent kernels that do not depend on the cell (see recurrent.h).
#include "kernels/cpu/recurrent.h"

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/activations.h"

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
  if (std::optional<Act> a = ops::recurrent_activation(n)) return *a;
  throw ValueError("unknown recurrent activation '" + n + "' (accepted: " + ops::recurrent_activation_names() + ")");
}

namespace {
// One loop per activation, multi-versioned (KILN_VECTOR) so the gate math vectorizes; the switch
// stays outside the loops. The math itself is activations.h's, the one definition.
template <float (*f)(float)>
KILN_VECTOR void map(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = f(p[i]);
}
template <float (*g)(float, float)>
KILN_VECTOR void scale_by_grad(const float* y, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = g(d[i], y[i]);
}
float elu1(float x) { return act::elu(x, 1.f); }
float elu1_grad(float dy, float y) { return act::elu_grad(dy, y, 1.f); }
}  // namespace

void apply(Act a, float* p, int64_t n) {
  switch (a) {
    case Act::linear: return;
    case Act::relu: return map<act::relu>(p, n);
    case Act::sigmoid: return map<act::sigmoid>(p, n);
    case Act::hard_sigmoid: return map<act::hard_sigmoid>(p, n);
    case Act::tanh: return map<act::tanh>(p, n);
    case Act::softsign: return map<act::softsign>(p, n);
    case Act::softplus: return map<act::softplus>(p, n);
    case Act::elu: return map<elu1>(p, n);
  }
}

void times_grad(Act a, const float* y, float* d, int64_t n) {
  switch (a) {
    case Act::linear: return;
    case Act::relu: return scale_by_grad<act::relu_grad>(y, d, n);
    case Act::sigmoid: return scale_by_grad<act::sigmoid_grad>(y, d, n);
    case Act::hard_sigmoid: return scale_by_grad<act::hard_sigmoid_grad_from_y>(y, d, n);
    case Act::tanh: return scale_by_grad<act::tanh_grad>(y, d, n);
    case Act::softsign: return scale_by_grad<act::softsign_grad_from_y>(y, d, n);
    case Act::softplus: return scale_by_grad<act::softplus_grad_from_y>(y, d, n);
    case Act::elu: return scale_by_grad<elu1_grad>(y, d, n);
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
