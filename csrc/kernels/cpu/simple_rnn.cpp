// simple_rnn and simple_rnn_grad: h = act(x W + b + h_prev U) (see recurrent.h); a masked step
// keeps h from the step before. hs holds the pre-activations until each step activates them.
#include <cstring>
#include <vector>

#include "kernels/cpu/recurrent.h"

namespace kiln::cpu {
namespace {

struct RnnArgs {
  rnn::Seq s;
  rnn::Act act;
  bool return_sequences;
  const float *x, *W, *U, *b, *mask, *h0;
};

RnnArgs rnn_args(const KernelArgs& a, size_t xi, size_t first_optional) {
  const TensorView &x = a.in[xi], &U = a.in[xi + 2];
  RnnArgs r;
  r.s = {x.dim(0), x.dim(1), x.dim(2), U.dim(0), 1, a.attrs().get_bool("go_backwards")};
  r.act = rnn::act_named(a.attrs().get_str("activation"));
  r.return_sequences = a.attrs().get_bool("return_sequences");
  r.x = x.f(), r.W = a.in[xi + 1].f(), r.U = U.f(), r.b = a.in[xi + 3].f();
  r.mask = rnn::operand_or_null(a, first_optional);
  r.h0 = rnn::operand_or_null(a, first_optional + 1);
  return r;
}

// simple_rnn(x, W, U, b [, mask [, h0]]) -> y, hs
void simple_rnn_k(const KernelArgs& a) {
  RnnArgs p = rnn_args(a, 0, 4);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, T = s.T;
  float* hs = a.out[1].f();
  if (s.B == 0 || T == 0) {
    if (!p.return_sequences) std::fill(a.out[0].f(), a.out[0].f() + a.out[0].numel, 0.f);
    return;
  }
  rnn::input_projection(s, p.x, p.W, p.b, hs);
  rnn::for_blocks(s.B, [&](int64_t b0, int64_t b1) {
    for (int64_t k = 0; k < T; ++k) {
      int64_t t = s.time(k), tp = k ? s.time(k - 1) : 0;
      const float* hp = k ? hs + (b0 * T + tp) * u : (p.h0 ? p.h0 + b0 * u : nullptr);
      int64_t stride = k ? T * u : u;
      float* z = hs + (b0 * T + t) * u;
      if (hp) sgemm_serial(false, false, b1 - b0, u, u, 1.f, hp, stride, p.U, u, 1.f, z, T * u);
      for (int64_t r = b0; r < b1; ++r) {
        float* h = hs + (r * T + t) * u;
        if (rnn::kept(p.mask, s, r, t) == 0.f) {
          const float* hprev = hp ? hp + (r - b0) * stride : nullptr;
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
  RnnArgs p = rnn_args(a, 1, 6);
  const rnn::Seq& s = p.s;
  const int64_t u = s.u, T = s.T;
  float *dx = rnn::input_grad_or_null(a), *dW = a.out[1].f(), *dU = a.out[2].f(), *db = a.out[3].f();
  float *dh = a.out[4].f(), *dz = a.out[5].f(), *hprev = a.out[6].f();
  std::fill(dh, dh + a.out[4].numel, 0.f);
  if (s.B == 0 || T == 0) {
    for (int i : {0, 1, 2, 3}) std::fill(a.out[i].f(), a.out[i].f() + a.out[i].numel, 0.f);
    return;
  }
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
      sgemm_serial(false, true, b1 - b0, u, u, 1.f, dz + (b0 * T + t) * u, T * u, p.U, u, 1.f, dh + b0 * u, u);
    }
  });
  rnn::previous_states(s, hs, p.h0, hprev);
  rnn::input_gradients(s, dz, p.x, p.W, dx, dW, db);
  sgemm(true, false, u, u, s.B * T, 1.f, hprev, u, dz, u, 0.f, dU, u);
}

}  // namespace

KILN_CPU_KERNEL(simple_rnn, simple_rnn_k);
KILN_CPU_KERNEL(simple_rnn_grad, simple_rnn_grad_k);

}  // namespace kiln::cpu
