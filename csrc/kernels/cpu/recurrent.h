// Shared by the fused recurrent kernels (lstm.cpp, gru.cpp, simple_rnn.cpp).
//
// Layout: x [B, T, D]; W [D, G*u], U [u, G*u], b [G*u] hold the G gates side by side; every
// per-step buffer is [B, T, width] in natural time order, whatever the processing order
// (go_backwards walks t = T-1 .. 0). The forward pass:
//   1. z = x W + b for all steps at once: one GEMM [B*T, D] x [D, G*u] into the gates buffer;
//   2. per step, per batch block: z_t += h_prev U (one GEMM, written in place with beta = 1 and
//      row stride T*G*u), then the gate kernel turns z_t into the activated gates (kept for the
//      backward pass) and the new state.
// The backward pass walks the steps in reverse with the same structure, writing each step's
// pre-activation gradients dz_t into a [B, T, G*u] buffer; then dx = dz W^T, dW = x^T dz,
// dU = h_prev^T dz and db = sum dz are each one large GEMM (or sum) over all B*T rows.
//
// Dropout (Keras 1's dropout_W / dropout_U, attributes with a seed): one mask per sequence and
// gate, [B, G*D] on x and [B, G*u] on h_prev, drawn as the dropout_mask op draws them (seeds
// `seed` and `seed + 1`) and drawn again by the gradient kernel in the same run. With them the
// input projection and the recurrent GEMMs run gate by gate on masked rows.
//
// The batch is cut into blocks fixed by its size (never by the thread count, so results do not
// depend on it), and each block runs its whole time loop on one thread: one OpenMP region per
// sequence instead of one per step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/workspace.h"
#include "ops/activations.h"

namespace kiln::cpu::rnn {

using Act = ops::RecurrentActivation;

// The activation named by a recurrent op's attribute (ops/activations.h's list); throws
// ValueError for any other name.
Act act_named(const std::string& name);

// p[i] = f(p[i]).
void apply(Act a, float* p, int64_t n);
// d[i] *= f'(x) where y = f(x), written in terms of y (every supported f allows it).
void times_grad(Act a, const float* y, float* d, int64_t n);

struct Seq {
  int64_t B, T, D, u, G;
  bool backwards;
  int64_t time(int64_t k) const { return backwards ? T - 1 - k : k; }  // the k-th step processed
};

// A recurrent op's operands and attributes. x, W, U, b are operands xi .. xi+3; the optional
// mask, h0 and (lstm) c0 follow from `first_optional` (null when absent). inner is read for the
// gated cells only.
struct CellArgs {
  Seq s;
  Act act, inner;
  bool return_sequences;
  const float *x, *W, *U, *b, *mask, *h0, *c0;
  const float *mW, *mU;  // dropout masks [B, G*D] and [B, G*u]; null without dropout
};
CellArgs cell_args(const KernelArgs& a, size_t xi, size_t first_optional, int gates);

// Batch blocks: 1, 2 or 4, from B alone (at least 16 rows each).
inline int batch_blocks(int64_t B) { return B >= 64 ? 4 : B >= 32 ? 2 : 1; }

// Calls f(b0, b1) for each block of rows [b0, b1), the blocks spread over the threads. An
// exception (a failed allocation) may not leave an OpenMP region: the first is kept and thrown
// after it.
template <typename F>
void for_blocks(int64_t B, F&& f) {
  int nb = batch_blocks(B);
  int64_t per = (B + nb - 1) / nb;
  std::exception_ptr error;
#pragma omp parallel for schedule(static) if (nb > 1)
  for (int k = 0; k < nb; ++k) {
    int64_t b0 = k * per, b1 = std::min(B, b0 + per);
    try {
      if (b0 < b1) f(b0, b1);
    } catch (...) {
#pragma omp critical(kiln_rnn_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// The transpose of the [rows x cols] block at B (row stride ld), written densely [cols x rows]
// into `out`: the backward pass's U^T, made once per call so that small_gemm reads it by rows.
const float* transposed(const float* B, int64_t rows, int64_t cols, int64_t ld, float* out);

// z = x W + b for every step: [B*T, D] x [D, G*u] (+ b per row) into z [B, T, G*u]; with the
// dropout mask mW, gate g's columns are (x * mW_g) W_g.
void input_projection(const Seq& s, const float* x, const float* W, const float* b, float* z, const float* mW);

// The weight gradients from the per-step dz [B, T, G*u]: dx = dz W^T (skipped when dx is null),
// dW = x^T dz, db = sum dz (gate by gate on masked x with mW).
void input_gradients(const Seq& s, const float* dz, const float* x, const float* W, float* dx, float* dW, float* db,
                     const float* mW);


// hprev[b, t] = the state step t started from (h0 or zeros for the first step processed).
void previous_states(const Seq& s, const float* hs, const float* h0, float* hprev);

// y from the states: the last step's h [B, u], or every step's in processing order [B, T, u].
void write_output(const Seq& s, const float* hs, bool return_sequences, float* y);

// dh for step t from the output's cotangent (0 when y is only the last step and t is not it).
inline const float* output_cotangent(const Seq& s, const float* dy, bool return_sequences, int64_t k, int64_t b) {
  if (return_sequences) return dy + (b * s.T + k) * s.u;
  return k == s.T - 1 ? dy + b * s.u : nullptr;
}

// Where step k of a block starting at row b0 takes its previous state from: that block's rows of
// `states` at the step before (row stride T*u), or of `init` (h0/c0, stride u), or null (zeros).
struct Prev {
  const float* p;
  int64_t stride;
  const float* row(int64_t r) const { return p ? p + r * stride : nullptr; }  // r: row within the block
};
inline Prev previous(const Seq& s, const float* states, const float* init, int64_t k, int64_t b0) {
  if (k) return {states + (b0 * s.T + s.time(k - 1)) * s.u, s.T * s.u};
  return {init ? init + b0 * s.u : nullptr, s.u};
}

// One step of the recurrence for rows [b0, b1): z += h_prev U over gates [g0, g0 + ng), where
// z is row b0's gate vector at this step (row stride T*G*u) and h_prev is hp (nothing when hp is
// null: zeros). With mU, gate g multiplies h_prev * mU_g.
void recurrent_step(const Seq& s, Prev hp, const float* U, const float* mU, int64_t b0, int64_t b1, int g0, int ng,
                    float* z);
// Its transpose for the backward pass: dh (rows b0.., stride u) += dz U^T over gates [g0, g0+ng),
// each gate's share times mU_g; dz is row b0's gate vector, UT those gates' rows of U^T [ng*u, u].
void recurrent_step_back(const Seq& s, const float* dz, const float* UT, const float* mU, int64_t b0, int64_t b1, int g0,
                         int ng, float* dh);
// dU's columns of gates [g0, g0 + ng) = (hprev * mU_g)^T dz_g over all B*T rows.
void recurrent_weight_grad(const Seq& s, const float* hprev, const float* dz, const float* mU, int g0, int ng, float* dU);

// A sequence with no rows or no steps: y is zeros; returns true when there is nothing else to do.
inline bool empty_sequence(const CellArgs& p, const KernelArgs& a) {
  if (p.s.B && p.s.T) return false;
  if (!p.return_sequences) std::fill(a.out[0].f(), a.out[0].f() + a.out[0].numel, 0.f);
  return true;
}

// 1 where row b keeps step t, 0 where it is masked (every step kept without a mask).
inline float kept(const float* mask, const Seq& s, int64_t b, int64_t t) { return mask ? mask[b * s.T + t] : 1.f; }

// Timers inside the recurrent kernels, off unless KILN_RNN_TIMERS=1: seconds spent per phase,
// summed over calls and threads (bench/rnn.py --profile prints them).
enum Phase { kInputGemm, kRecurrentGemm, kGates, kWeightGrads, kPhases };
bool timers_on();
void add_time(Phase p, double seconds);
std::vector<double> phase_seconds();  // and resets them
const char* phase_name(int p);

// Times a scope into a phase when the timers are on.
class PhaseTimer {
 public:
  explicit PhaseTimer(Phase p) : p_(p), on_(timers_on()) {
    if (on_) t0_ = std::chrono::steady_clock::now();
  }
  ~PhaseTimer() {
    if (on_) add_time(p_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }

 private:
  Phase p_;
  bool on_;
  std::chrono::steady_clock::time_point t0_;
};

// dx of a gradient op, or null with input_grad=0 (then its scalar result is set to 0).
inline float* input_grad_or_null(const KernelArgs& a) {
  if (a.attrs().get_bool("input_grad")) return a.out[0].f();
  a.out[0].f()[0] = 0.f;
  return nullptr;
}

// Reads the optional trailing operands of a recurrent op: mask at `first`, states after it.
inline const float* operand_or_null(const KernelArgs& a, size_t i) { return i < a.in.size() ? a.in[i].f() : nullptr; }

}  // namespace kiln::cpu::rnn
