// simple_rnn and simple_rnn_grad: h = act(x W + b + h_prev U) (see recurrent.h); a masked step
// keeps h from the step before. hs holds the pre-activations until each step activates them.
#include <cstring>

#include "kernels/cpu/recurrent.h"

namespace kiln::cpu {
namespace {

// simple_rnn(x, W, U, b [, mask [, h0]]) -> y, hs
void simple_rnn_k(const KernelArgs& a) {
  rnn::CellArgs p = rnn::cell_args(a, 0, 4, 1);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, T = s.T;
  float* hs = a.out[1].f();
  if (rnn::empty_sequence(p, a)) return;
  rnn::input_projection(s, p.x, p.W, p.b, hs, p.mW);
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T; ++k) {
      int64_t t = s.time(k);
      rnn::Prev hp = rnn::previous(s, hs, p.h0, k, b0);
      float* z = hs + (b0 * T + t) * u;
      rnn::recurrent_step(s, hp, p.U, p.mU, b0, b1, 0, 1, z);
      for (int64_t r = b0; r < b1; ++r) {
        float* h = hs + (r * T + t) * u;
        if (rnn::kept(p.mask, s, r, t) == 0.f) {
          const float* hprev = hp.row(r - b0);
          if (hprev) std::memcpy(h, hprev, u * sizeof(float));
          else std::fill(h, h + u, 0.f);
          continue;
        }
        rnn::apply(p.act, h, u);
      }
    }
  });
  rnn::write_output(s, hs, p.return_sequences, a.out[0].f());
}

// simple_rnn_grad(dy, x, W, U, b, hs [, mask [, h0]]) -> dx, dW, dU, db, dh0, dz, hprev
void simple_rnn_grad_k(const KernelArgs& a) {
  const float *dy = a.in[0].f(), *hs = a.in[5].f();
  rnn::CellArgs p = rnn::cell_args(a, 1, 6, 1);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, T = s.T;
  float *dx = rnn::input_grad_or_null(a), *dW = a.out[1].f(), *dU = a.out[2].f(), *db = a.out[3].f();
  float *dh = a.out[4].f(), *dz = a.out[5].f(), *hprev = a.out[6].f();
  std::fill(dh, dh + a.out[4].numel, 0.f);
  if (s.B == 0 || T == 0) {
    for (int i : {0, 1, 2, 3}) std::fill(a.out[i].f(), a.out[i].f() + a.out[i].numel, 0.f);
    return;
  }
  const float* UT = rnn::transposed(p.U, u, u, u, workspace(kWsRecurrentWeights, u * u));
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = T; k-- > 0;) {
      int64_t t = s.time(k);
      for (int64_t r = b0; r < b1; ++r) {
        float *dhr = dh + r * u, *dzr = dz + (r * T + t) * u;
        if (const float* gy = rnn::output_cotangent(s, dy, p.return_sequences, k, r))
          for (int64_t j = 0; j < u; ++j) dhr[j] += gy[j];
        if (rnn::kept(p.mask, s, r, t) == 0.f) {
          std::fill(dzr, dzr + u, 0.f);
          continue;
        }
        std::memcpy(dzr, dhr, u * sizeof(float));
        rnn::times_grad(p.act, hs + (r * T + t) * u, dzr, u);
        std::fill(dhr, dhr + u, 0.f);
      }
      rnn::recurrent_step_back(s, dz + (b0 * T + t) * u, UT, p.mU, b0, b1, 0, 1, dh + b0 * u);
    }
  });
  rnn::previous_states(s, hs, p.h0, hprev);
  rnn::input_gradients(s, dz, p.x, p.W, dx, dW, db, p.mW);
  rnn::recurrent_weight_grad(s, hprev, dz, p.mU, 0, 1, dU);
}

}  // namespace

KILN_CPU_KERNEL(simple_rnn, simple_rnn_k);
KILN_CPU_KERNEL(simple_rnn_grad, simple_rnn_grad_k);

}  // namespace kiln::cpu
