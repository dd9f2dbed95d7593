// The parts of the recurrent kernels that do not depend on the cell (see recurrent.h).
#include "kernels/cpu/recurrent.h"

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/random.h"
#include "kernels/cpu/small_gemm.h"

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

const float* transposed(const float* B, int64_t rows, int64_t cols, int64_t ld, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = B[r * ld + c];
  return out;
}

CellArgs cell_args(const KernelArgs& a, size_t xi, size_t first_optional, int gates) {
  const TensorView &x = a.in[xi], &U = a.in[xi + 2];
  ops::AttrReader attrs = a.attrs();
  CellArgs r;
  r.s = {x.dim(0), x.dim(1), x.dim(2), U.dim(0), gates, attrs.get_bool("go_backwards")};
  r.act = act_named(attrs.get_str("activation"));
  r.inner = gates > 1 ? act_named(attrs.get_str("inner_activation")) : Act::linear;
  r.return_sequences = attrs.get_bool("return_sequences");
  r.x = x.f(), r.W = a.in[xi + 1].f(), r.U = U.f(), r.b = a.in[xi + 3].f();
  r.mask = operand_or_null(a, first_optional);
  r.h0 = operand_or_null(a, first_optional + 1);
  r.c0 = operand_or_null(a, first_optional + 2);
  // Dropout masks, one per sequence and gate: the dropout_mask op's values for [B, G*D] and
  // [B, G*u] (random.h), so an unrolled layer drawing those gets the same masks; drawn by the
  // sequence's row in the whole batch, as dropout_mask draws (ExecContext::row_offset).
  auto draw = [&](const char* rate_key, uint64_t seed, int64_t width, WorkspaceSlot slot) -> const float* {
    double rate = attrs.get_float(rate_key);
    if (rate <= 0.0) return nullptr;
    DropoutStream keep(rate, seed, a.ctx.step);
    int64_t n = r.s.B * r.s.G * width;
    uint64_t base = static_cast<uint64_t>(a.ctx.row_offset) * static_cast<uint64_t>(r.s.G * width);
    float* m = workspace(slot, n);
    for (int64_t i = 0; i < n; ++i) m[i] = keep(base + static_cast<uint64_t>(i));
    return m;
  };
  uint64_t seed = static_cast<uint64_t>(attrs.get_int("seed"));
  r.mW = draw("dropout_W", seed, r.s.D, kWsDropoutW);
  r.mU = draw("dropout_U", seed + 1, r.s.u, kWsDropoutU);
  return r;
}

namespace {
// rows[i] = src row i times gate g's mask for that row's sequence: src is [B, T, n] (T rows per
// sequence) and m [B, G*n].
void masked_rows(const Seq& s, const float* src, int64_t n, const float* m, int g, float* rows) {
  int64_t G = s.G;
#pragma omp parallel for schedule(static) if (s.B * s.T * n > kParallelMin)
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = 0; t < s.T; ++t) {
      const float *x = src + (b * s.T + t) * n, *mg = m + (b * G + g) * n;
      float* o = rows + (b * s.T + t) * n;
      for (int64_t j = 0; j < n; ++j) o[j] = x[j] * mg[j];
    }
}
}  // namespace

void recurrent_step(const Seq& s, Prev hp, const float* U, const float* mU, int64_t b0, int64_t b1, int g0, int ng,
                    float* z) {
  if (!hp.p) return;
  PhaseTimer timer(kRecurrentGemm);
  const int64_t u = s.u, Gu = s.G * u, M = b1 - b0, ldz = s.T * Gu;
  if (!mU) return small_gemm(false, true, M, ng * u, u, hp.p, hp.stride, U + g0 * u, Gu, z + g0 * u, ldz);
  float* hm = workspace(kWsDropoutRows, M * u);
  for (int g = g0; g < g0 + ng; ++g) {
    for (int64_t r = 0; r < M; ++r) {
      const float *h = hp.row(r), *m = mU + (b0 + r) * Gu + g * u;
      for (int64_t j = 0; j < u; ++j) hm[r * u + j] = h[j] * m[j];
    }
    small_gemm(false, true, M, u, u, hm, u, U + g * u, Gu, z + g * u, ldz);
  }
}

void recurrent_step_back(const Seq& s, const float* dz, const float* UT, const float* mU, int64_t b0, int64_t b1, int g0,
                         int ng, float* dh) {
  PhaseTimer timer(kRecurrentGemm);
  const int64_t u = s.u, Gu = s.G * u, M = b1 - b0, ldz = s.T * Gu;
  if (!mU) return small_gemm(false, true, M, u, ng * u, dz + g0 * u, ldz, UT, u, dh, u);
  float* part = workspace(kWsDropoutRows, M * u);
  for (int g = g0; g < g0 + ng; ++g) {
    std::fill(part, part + M * u, 0.f);
    small_gemm(false, true, M, u, u, dz + g * u, ldz, UT + (g - g0) * u * u, u, part, u);
    for (int64_t r = 0; r < M; ++r) {
      const float* m = mU + (b0 + r) * Gu + g * u;
      for (int64_t j = 0; j < u; ++j) dh[r * u + j] += part[r * u + j] * m[j];
    }
  }
}

void recurrent_weight_grad(const Seq& s, const float* hprev, const float* dz, const float* mU, int g0, int ng, float* dU) {
  PhaseTimer timer(kWeightGrads);
  const int64_t u = s.u, Gu = s.G * u, rows = s.B * s.T;
  if (!mU) return sgemm(true, false, u, ng * u, rows, 1.f, hprev, u, dz + g0 * u, Gu, 0.f, dU + g0 * u, Gu);
  float* hm = workspace(kWsDropoutRows2, rows * u);
  for (int g = g0; g < g0 + ng; ++g) {
    masked_rows(s, hprev, u, mU, g, hm);
    sgemm(true, false, u, u, rows, 1.f, hm, u, dz + g * u, Gu, 0.f, dU + g * u, Gu);
  }
}

void input_projection(const Seq& s, const float* x, const float* W, const float* b, float* z, const float* mW) {
  PhaseTimer timer(kInputGemm);
  int64_t rows = s.B * s.T, n = s.G * s.u;
  if (!mW) {
    sgemm(false, false, rows, n, s.D, 1.f, x, s.D, W, n, 0.f, z, n);
  } else {
    float* xm = workspace(kWsDropoutRows2, rows * s.D);
    for (int g = 0; g < s.G; ++g) {
      masked_rows(s, x, s.D, mW, g, xm);
      sgemm(false, false, rows, s.u, s.D, 1.f, xm, s.D, W + g * s.u, n, 0.f, z + g * s.u, n);
    }
  }
#pragma omp parallel for schedule(static) if (rows * n > kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) z[r * n + j] += b[j];
}

void input_gradients(const Seq& s, const float* dz, const float* x, const float* W, float* dx, float* dW, float* db,
                     const float* mW) {
  PhaseTimer timer(kWeightGrads);
  int64_t rows = s.B * s.T, n = s.G * s.u;
  if (!mW) {
    if (dx) sgemm(false, true, rows, s.D, n, 1.f, dz, n, W, n, 0.f, dx, s.D);
    sgemm(true, false, s.D, n, rows, 1.f, x, s.D, dz, n, 0.f, dW, n);
  } else {
    // Gate by gate: dW_g = (x * mW_g)^T dz_g, and dx = sum over g of (dz_g W_g^T) * mW_g.
    float* xm = workspace(kWsDropoutRows2, rows * s.D);
    float* part = dx ? workspace(kWsDropoutRows, rows * s.D) : nullptr;
    if (dx) std::fill(dx, dx + rows * s.D, 0.f);
    for (int g = 0; g < s.G; ++g) {
      masked_rows(s, x, s.D, mW, g, xm);
      sgemm(true, false, s.D, s.u, rows, 1.f, xm, s.D, dz + g * s.u, n, 0.f, dW + g * s.u, n);
      if (!dx) continue;
      sgemm(false, true, rows, s.D, s.u, 1.f, dz + g * s.u, n, W + g * s.u, n, 0.f, part, s.D);
      masked_rows(s, part, s.D, mW, g, part);  // in place: each element read once, then written
      for (int64_t i = 0; i < rows * s.D; ++i) dx[i] += part[i];
    }
  }
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
