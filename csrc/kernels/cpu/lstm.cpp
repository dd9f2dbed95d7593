// lstm and lstm_grad: the fused LSTM of Keras 1.2 (see recurrent.h for the layout and the
// structure shared with gru and simple_rnn). Gates are packed i, f, c, o:
//   i = inner(z_i), f = inner(z_f), g = act(z_c), o = inner(z_o),
//   c_t = f * c_prev + i * g,  h_t = o * act(c_t);
// a masked step keeps h and c from the step before.
#include <cstring>
#include <optional>

#include "kernels/cpu/recurrent.h"

namespace kiln::cpu {
namespace {

// lstm(x, W, U, b [, mask [, h0, c0]]) -> y, hs, cs, gates
void lstm_k(const KernelArgs& a) {
  rnn::CellArgs p = rnn::cell_args(a, 0, 4, 4);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, G = 4 * u, T = s.T;
  float *hs = a.out[1].f(), *cs = a.out[2].f(), *gates = a.out[3].f();
  if (rnn::empty_sequence(p, a)) return;
  rnn::input_projection(s, p.x, p.W, p.b, gates, p.mW);
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    float* tc = workspace(kWsRecurrentRow, u);
    for (int64_t k = 0; k < T; ++k) {
      int64_t t = s.time(k);
      // The state this step starts from: the previous step's, or h0/c0, or zeros (null).
      rnn::Prev hp = rnn::previous(s, hs, p.h0, k, b0), cp = rnn::previous(s, cs, p.c0, k, b0);
      float* z = gates + (b0 * T + t) * G;
      rnn::recurrent_step(s, hp, p.U, p.mU, b0, b1, 0, 4, z);
      rnn::PhaseTimer timer(rnn::kGates);
      for (int64_t r = b0; r < b1; ++r) {
        float* g = gates + (r * T + t) * G;
        float *c = cs + (r * T + t) * u, *h = hs + (r * T + t) * u;
        const float* hprev = hp.row(r - b0);
        const float* cprev = cp.row(r - b0);
        rnn::apply(p.inner, g, 2 * u);          // i, f
        rnn::apply(p.act, g + 2 * u, u);        // g
        rnn::apply(p.inner, g + 3 * u, u);      // o
        if (rnn::kept(p.mask, s, r, t) == 0.f) {  // masked: the state carries over
          if (cprev) std::memcpy(c, cprev, u * sizeof(float));
          else std::fill(c, c + u, 0.f);
          if (hprev) std::memcpy(h, hprev, u * sizeof(float));
          else std::fill(h, h + u, 0.f);
          continue;
        }
        const float *gi = g, *gf = g + u, *gg = g + 2 * u, *go = g + 3 * u;
        for (int64_t j = 0; j < u; ++j) c[j] = gi[j] * gg[j] + (cprev ? gf[j] * cprev[j] : 0.f);
        std::memcpy(tc, c, u * sizeof(float));
        rnn::apply(p.act, tc, u);
        for (int64_t j = 0; j < u; ++j) h[j] = go[j] * tc[j];
      }
    }
  });
  rnn::write_output(s, hs, p.return_sequences, a.out[0].f());
}

// lstm_grad(dy, x, W, U, b, hs, cs, gates [, mask [, h0, c0]]) -> dx, dW, dU, db, dh0, dc0, dz, hprev
void lstm_grad_k(const KernelArgs& a) {
  const float *dy = a.in[0].f(), *hs = a.in[5].f(), *cs = a.in[6].f(), *gates = a.in[7].f();
  rnn::CellArgs p = rnn::cell_args(a, 1, 8, 4);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, G = 4 * u, T = s.T;
  float *dx = rnn::input_grad_or_null(a), *dW = a.out[1].f(), *dU = a.out[2].f(), *db = a.out[3].f();
  float *dh = a.out[4].f(), *dc = a.out[5].f(), *dz = a.out[6].f(), *hprev = a.out[7].f();
  // dh and dc (the outputs dh0, dc0) carry the running gradient of each row's state back in time.
  std::fill(dh, dh + a.out[4].numel, 0.f);
  std::fill(dc, dc + a.out[5].numel, 0.f);
  if (s.B == 0 || T == 0) {
    for (int i : {0, 1, 2, 3}) std::fill(a.out[i].f(), a.out[i].f() + a.out[i].numel, 0.f);
    return;
  }
  const float* UT = rnn::transposed(p.U, u, G, G, workspace(kWsRecurrentWeights, G * u));  // [G, u]
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    float *tc = workspace(kWsRecurrentRow, u), *dct = workspace(kWsRecurrentRow2, u);
    for (int64_t k = T; k-- > 0;) {
      int64_t t = s.time(k), tp = k ? s.time(k - 1) : 0;
      std::optional<rnn::PhaseTimer> gates_timer(rnn::kGates);
      for (int64_t r = b0; r < b1; ++r) {
        float *dhr = dh + r * u, *dcr = dc + r * u, *dzr = dz + (r * T + t) * G;
        if (const float* gy = rnn::output_cotangent(s, dy, p.return_sequences, k, r))
          for (int64_t j = 0; j < u; ++j) dhr[j] += gy[j];
        if (rnn::kept(p.mask, s, r, t) == 0.f) {  // the state passed through: so does its gradient
          std::fill(dzr, dzr + G, 0.f);
          continue;
        }
        const float* g = gates + (r * T + t) * G;
        const float *gi = g, *gf = g + u, *gg = g + 2 * u, *go = g + 3 * u;
        const float* cprev = k ? cs + (r * T + tp) * u : (p.c0 ? p.c0 + r * u : nullptr);
        std::memcpy(tc, cs + (r * T + t) * u, u * sizeof(float));
        rnn::apply(p.act, tc, u);
        for (int64_t j = 0; j < u; ++j) dct[j] = dhr[j] * go[j];
        rnn::times_grad(p.act, tc, dct, u);  // d act(c) / dc
        float *dzi = dzr, *dzf = dzr + u, *dzg = dzr + 2 * u, *dzo = dzr + 3 * u;
        for (int64_t j = 0; j < u; ++j) {
          float dcj = dct[j] + dcr[j];
          dzo[j] = dhr[j] * tc[j];
          dzi[j] = dcj * gg[j];
          dzg[j] = dcj * gi[j];
          dzf[j] = cprev ? dcj * cprev[j] : 0.f;
          dcr[j] = dcj * gf[j];
          dhr[j] = 0.f;  // h_t reaches h_prev only through z: added by the GEMM below
        }
        rnn::times_grad(p.inner, gi, dzi, 2 * u);  // i, f (adjacent)
        rnn::times_grad(p.act, gg, dzg, u);
        rnn::times_grad(p.inner, go, dzo, u);
      }
      gates_timer.reset();
      rnn::recurrent_step_back(s, dz + (b0 * T + t) * G, UT, p.mU, b0, b1, 0, 4, dh + b0 * u);
    }
  });
  rnn::previous_states(s, hs, p.h0, hprev);
  rnn::input_gradients(s, dz, p.x, p.W, dx, dW, db, p.mW);
  rnn::recurrent_weight_grad(s, hprev, dz, p.mU, 0, 4, dU);
}

}  // namespace

KILN_CPU_KERNEL(lstm, lstm_k);
KILN_CPU_KERNEL(lstm_grad, lstm_grad_k);

}  // namespace kiln::cpu
