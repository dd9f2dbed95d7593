// gru and gru_grad: the fused GRU of Keras 1.2 (see recurrent.h). Gates are packed z, r, h:
//   z = inner(x W_z + b_z + h_prev U_z),  r = inner(x W_r + b_r + h_prev U_r),
//   hh = act(x W_h + b_h + (r * h_prev) U_h),  h = z * h_prev + (1 - z) * hh;
// a masked step keeps h from the step before. Per step: one GEMM for z and r, one for hh.
#include <cstring>

#include "kernels/cpu/recurrent.h"
#include "kernels/cpu/small_gemm.h"

namespace kiln::cpu {
namespace {

// gru(x, W, U, b [, mask [, h0]]) -> y, hs, gates, rh
void gru_k(const KernelArgs& a) {
  rnn::CellArgs p = rnn::cell_args(a, 0, 4, 3);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, G = 3 * u, T = s.T;
  float *hs = a.out[1].f(), *gates = a.out[2].f(), *rh = a.out[3].f();
  if (rnn::empty_sequence(p, a)) return;
  rnn::input_projection(s, p.x, p.W, p.b, gates, p.mW);
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T; ++k) {
      int64_t t = s.time(k);
      rnn::Prev hp = rnn::previous(s, hs, p.h0, k, b0);
      float* z = gates + (b0 * T + t) * G;
      rnn::recurrent_step(s, hp, p.U, p.mU, b0, b1, 0, 2, z);
      for (int64_t r = b0; r < b1; ++r) {
        float* g = gates + (r * T + t) * G;
        rnn::apply(p.inner, g, 2 * u);  // z, r
        const float* hprev = hp.row(r - b0);
        float* rhr = rh + (r * T + t) * u;
        const float* m = p.mU ? p.mU + r * G + 2 * u : nullptr;  // dropout_U's mask of the hh gate
        for (int64_t j = 0; j < u; ++j) rhr[j] = hprev ? g[u + j] * hprev[j] * (m ? m[j] : 1.f) : 0.f;
      }
      if (hp.p)
        small_gemm(false, true, b1 - b0, u, u, rh + (b0 * T + t) * u, T * u, p.U + 2 * u, G, z + 2 * u, T * G);
      for (int64_t r = b0; r < b1; ++r) {
        float* g = gates + (r * T + t) * G;
        rnn::apply(p.act, g + 2 * u, u);  // hh
        const float* hprev = hp.row(r - b0);
        float* h = hs + (r * T + t) * u;
        if (rnn::kept(p.mask, s, r, t) == 0.f) {
          if (hprev) std::memcpy(h, hprev, u * sizeof(float));
          else std::fill(h, h + u, 0.f);
          continue;
        }
        const float *gz = g, *gh = g + 2 * u;
        for (int64_t j = 0; j < u; ++j) h[j] = (hprev ? gz[j] * hprev[j] : 0.f) + (1.f - gz[j]) * gh[j];
      }
    }
  });
  rnn::write_output(s, hs, p.return_sequences, a.out[0].f());
}

// gru_grad(dy, x, W, U, b, hs, gates, rh [, mask [, h0]]) -> dx, dW, dU, db, dh0, dz, hprev
void gru_grad_k(const KernelArgs& a) {
  const float *dy = a.in[0].f(), *hs = a.in[5].f(), *gates = a.in[6].f(), *rh = a.in[7].f();
  rnn::CellArgs p = rnn::cell_args(a, 1, 8, 3);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, G = 3 * u, T = s.T;
  float *dx = rnn::input_grad_or_null(a), *dW = a.out[1].f(), *dU = a.out[2].f(), *db = a.out[3].f();
  float *dh = a.out[4].f(), *dz = a.out[5].f(), *hprev = a.out[6].f();
  std::fill(dh, dh + a.out[4].numel, 0.f);  // the running gradient of each row's h (ends as dh0)
  if (s.B == 0 || T == 0) {
    for (int i : {0, 1, 2, 3}) std::fill(a.out[i].f(), a.out[i].f() + a.out[i].numel, 0.f);
    return;
  }
  const float* UzrT = rnn::transposed(p.U, u, 2 * u, G, workspace(kWsRecurrentWeights, 2 * u * u));
  const float* UhT = rnn::transposed(p.U + 2 * u, u, u, G, workspace(kWsRecurrentWeights2, u * u));
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    float* drh = workspace(kWsRecurrentRow, (b1 - b0) * u);
    for (int64_t k = T; k-- > 0;) {
      int64_t t = s.time(k), tp = k ? s.time(k - 1) : 0;
      auto prev_of = [&](int64_t r) -> const float* {
        return k ? hs + (r * T + tp) * u : (p.h0 ? p.h0 + r * u : nullptr);
      };
      for (int64_t r = b0; r < b1; ++r) {
        float *dhr = dh + r * u, *dzr = dz + (r * T + t) * G;
        if (const float* gy = rnn::output_cotangent(s, dy, p.return_sequences, k, r))
          for (int64_t j = 0; j < u; ++j) dhr[j] += gy[j];
        if (rnn::kept(p.mask, s, r, t) == 0.f) {
          std::fill(dzr, dzr + G, 0.f);
          continue;
        }
        const float* g = gates + (r * T + t) * G;
        const float *gz = g, *gh = g + 2 * u, *hp = prev_of(r);
        for (int64_t j = 0; j < u; ++j) {
          dzr[j] = dhr[j] * ((hp ? hp[j] : 0.f) - gh[j]);  // d/dz
          dzr[2 * u + j] = dhr[j] * (1.f - gz[j]);          // d/dhh
          dhr[j] *= gz[j];                                   // h_prev's direct share
        }
        rnn::times_grad(p.inner, gz, dzr, u);
        rnn::times_grad(p.act, gh, dzr + 2 * u, u);
      }
      // d(r * h_prev) = dz_h U_h^T; then dz_r and h_prev's share through r.
      std::fill(drh, drh + (b1 - b0) * u, 0.f);
      small_gemm(false, true, b1 - b0, u, u, dz + (b0 * T + t) * G + 2 * u, T * G, UhT, u, drh, u);
      for (int64_t r = b0; r < b1; ++r) {
        float *dhr = dh + r * u, *dzr = dz + (r * T + t) * G;
        if (rnn::kept(p.mask, s, r, t) == 0.f) continue;
        const float *gr = gates + (r * T + t) * G + u, *hp = prev_of(r), *d = drh + (r - b0) * u;
        const float* m = p.mU ? p.mU + r * G + 2 * u : nullptr;
        for (int64_t j = 0; j < u; ++j) {
          float dj = m ? d[j] * m[j] : d[j];  // rh = r * h_prev * mask
          dzr[u + j] = dj * (hp ? hp[j] : 0.f);
          dhr[j] += dj * gr[j];
        }
        rnn::times_grad(p.inner, gr, dzr + u, u);
      }
      rnn::recurrent_step_back(s, dz + (b0 * T + t) * G, UzrT, p.mU, b0, b1, 0, 2, dh + b0 * u);
    }
  });
  rnn::previous_states(s, hs, p.h0, hprev);
  rnn::input_gradients(s, dz, p.x, p.W, dx, dW, db, p.mW);
  rnn::recurrent_weight_grad(s, hprev, dz, p.mU, 0, 2, dU);
  sgemm(true, false, u, u, s.B * T, 1.f, rh, u, dz + 2 * u, G, 0.f, dU + 2 * u, G);
}

}  // namespace

KILN_CPU_KERNEL(gru, gru_k);
KILN_CPU_KERNEL(gru_grad, gru_grad_k);

}  // namespace kiln::cpu
