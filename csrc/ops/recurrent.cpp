// The fused recurrent ops of Keras 1.2's layers: lstm, gru, simple_rnn, and their gradients.
// Shape letters: x [B, T, D] (B may be ? or ?*k), u units, G gates (lstm 4: i f c o; gru 3:
// z r h; simple_rnn 1). Weights are packed gate by gate: W [D, G*u], U [u, G*u], b [G*u].
// Optional trailing operands: mask [B, T] (1 keeps a step, 0 repeats the previous state), then
// the initial states [B, u] (h0, and c0 for lstm; zeros when absent).
// Results: y ([B, u], or [B, T, u] in processing order with return_sequences=1), then what the
// backward pass needs, in natural time order: hs [B, T, u] (every step's h), and per op cs
// (lstm's cells), gates [B, T, G*u] (activated), rh (gru's r * h_prev).
// Attributes: activation (tanh), inner_activation (hard_sigmoid; not simple_rnn's),
// go_backwards (0), return_sequences (0), dropout_W and dropout_U (0: rates), seed (0).
#include "ops/activations.h"
#include "ops/common.h"

namespace kiln::ops {
namespace {

struct Cell {
  const char* op;
  int gates;
  int states;  // 1: h; 2: h and c
  std::vector<const char*> saved;  // results after y: (name, width in units of u)
  std::vector<int> saved_width;
};

const Cell kLstm{"lstm", 4, 2, {"hs", "cs", "gates"}, {1, 1, 4}};
const Cell kGru{"gru", 3, 1, {"hs", "gates", "rh"}, {1, 3, 1}};
const Cell kRnn{"simple_rnn", 1, 1, {"hs"}, {1}};

void check_activation(const AttrReader& a, const char* key) {
  std::string v = a.get_str(key);
  if (!recurrent_activation(v))
    throw ValueError(std::string(key) + " '" + v + "' is not a recurrent activation (accepted: " +
                     recurrent_activation_names() + ")");
}

// Checks the forward operands from `at` on (x, W, U, b, [mask, [states]]) and gives (B, T, u).
std::array<int64_t, 3> check_forward(const Cell& c, const std::vector<Type>& in, size_t at, const AttrReader& a) {
  const Type &x = in[at], &W = in[at + 1], &U = in[at + 2], &b = in[at + 3];
  for (size_t i = at; i < in.size(); ++i) require_f32(in[i], "every operand");
  if (x.rank() != 3) throw ShapeError("x must be [B, T, D] (rank 3), got " + x.str());
  int64_t B = x.dims[0], T = x.dims[1], D = x.dims[2];
  if ((ir::is_batch(T) && !ir::is_named(T)) || ir::is_batch(D))
    throw ShapeError("x " + x.str() + ": its first dim may be the batch, its time axis static or a named dynamic dim (?t)");
  if (U.rank() != 2 || U.dims[1] != mul_dims(c.gates, U.dims[0]) || ir::is_batch(U.dims[0]))
    throw ShapeError("U must be [u, " + std::to_string(c.gates) + "u] (the gates side by side), got " + U.str());
  int64_t u = U.dims[0], G = U.dims[1];
  if (W != Type{ir::DType::f32, {D, G}})
    throw ShapeError("W must be [D, " + std::to_string(c.gates) + "u] = [" + std::to_string(D) + ", " +
                     std::to_string(G) + "] for x " + x.str() + " and U " + U.str() + ", got " + W.str());
  if (b != Type{ir::DType::f32, {G}}) throw ShapeError("b must be [" + std::to_string(G) + "], got " + b.str());
  size_t opt = in.size() - at - 4;
  if (opt >= 1 && in[at + 4] != Type{ir::DType::f32, {B, T}})
    throw ShapeError("mask must be [B, T] = " + Type{ir::DType::f32, {B, T}}.str() + ", got " + in[at + 4].str());
  if (opt >= 2 && static_cast<int>(opt) - 1 != c.states)
    throw ShapeError(std::string(c.op) + " takes " + std::to_string(c.states) + " initial state(s) after the mask, got " +
                     std::to_string(opt - 1));
  for (size_t i = at + 5; i < in.size(); ++i)
    if (in[i] != Type{ir::DType::f32, {B, u}})
      throw ShapeError("an initial state must be [B, u] = " + Type{ir::DType::f32, {B, u}}.str() + ", got " + in[i].str());
  check_activation(a, "activation");
  if (c.gates > 1) check_activation(a, "inner_activation");
  for (const char* key : {"dropout_W", "dropout_U"}) {
    double rate = a.get_float(key);
    if (!(rate >= 0.0 && rate < 1.0)) throw ValueError(std::string(key) + " must be in [0, 1), got " + ir::format_float(rate));
  }
  return {B, T, u};
}

std::vector<Type> forward_types(const Cell& c, int64_t B, int64_t T, int64_t u, const AttrReader& a) {
  std::vector<Type> out;
  bool seq = a.get_bool("return_sequences");
  out.push_back(seq ? Type{ir::DType::f32, {B, T, u}} : Type{ir::DType::f32, {B, u}});
  for (int w : c.saved_width) out.push_back(Type{ir::DType::f32, {B, T, mul_dims(w, u)}});
  return out;
}

InferFn infer_forward(const Cell& c) {
  return [&c](const std::vector<Type>& in, const AttrReader& a) {
    auto [B, T, u] = check_forward(c, in, 0, a);
    return forward_types(c, B, T, u, a);
  };
}

// <op>_grad(dy, x, W, U, b, <saved...> [, mask [, states]]) -> dx, dW, dU, db, d<state>0...,
// dz [B, T, G*u], hprev [B, T, u] (the last two: workspace of the backward pass). With
// input_grad=0 (x needs no gradient, e.g. a graph input) dx is a scalar 0 and its GEMM is skipped.
InferFn infer_backward(const Cell& c) {
  return [&c](const std::vector<Type>& in, const AttrReader& a) {
    size_t nsaved = c.saved.size();
    if (in.size() < 5 + nsaved) throw ShapeError("too few operands");
    std::vector<Type> fwd = {in[1], in[2], in[3], in[4]};
    fwd.insert(fwd.end(), in.begin() + 5 + nsaved, in.end());
    auto [B, T, u] = check_forward(c, fwd, 0, a);
    std::vector<Type> want = forward_types(c, B, T, u, a);
    if (in[0] != want[0]) throw ShapeError("cotangent " + in[0].str() + " does not match the result " + want[0].str());
    for (size_t i = 0; i < nsaved; ++i)
      if (in[5 + i] != want[1 + i])
        throw ShapeError(std::string("saved ") + c.saved[i] + " must be " + want[1 + i].str() + ", got " + in[5 + i].str());
    std::vector<Type> out = {a.get_bool("input_grad") ? in[1] : scalar_f32(), in[2], in[3], in[4]};
    for (int s = 0; s < c.states; ++s) out.push_back(Type{ir::DType::f32, {B, u}});
    out.push_back(Type{ir::DType::f32, {B, T, mul_dims(c.gates, u)}});
    out.push_back(Type{ir::DType::f32, {B, T, u}});
    return out;
  };
}

GradFn grad_of(const Cell& c) {
  return [&c](GradBuilder& b, const ir::Node& n, const std::vector<int>& dys) {
    for (size_t i = 1; i < dys.size(); ++i)
      if (dys[i] >= 0)
        throw ValueError(std::string(c.op) + ": only its first result y can be differentiated; " + c.saved[i - 1] +
                         " is kept for the backward pass");
    std::vector<int> ins = {dys[0], n.inputs[0], n.inputs[1], n.inputs[2], n.inputs[3]};
    for (size_t i = 1; i < n.outputs.size(); ++i) ins.push_back(n.outputs[i]);
    for (size_t i = 4; i < n.inputs.size(); ++i) ins.push_back(n.inputs[i]);
    ir::Attrs attrs = n.attrs;
    if (!b.needed(0)) attrs["input_grad"] = int64_t(0);
    std::vector<int> g = b.emit_multi(std::string(c.op) + "_grad", ins, attrs);
    std::vector<int> dx = {b.needed(0) ? g[0] : -1, g[1], g[2], g[3]};
    if (n.inputs.size() > 4) dx.push_back(-1);  // the mask: not differentiable
    for (size_t i = 5; i < n.inputs.size(); ++i) dx.push_back(g[4 + (i - 5)]);
    return dx;
  };
}

// dropout_W / dropout_U: Keras 1's rates (one mask per sequence and gate on x and on h_prev),
// drawn from `seed` and `seed + 1` in each run (kernels/cpu/recurrent.h).
void dropout_attrs(Schema& s) { s.attr_float("dropout_W", 0.0).attr_float("dropout_U", 0.0).attr_int("seed", 0); }
void gated_attrs(Schema& s) {
  s.attr_str("activation", "tanh").attr_str("inner_activation", "hard_sigmoid").attr_bool("go_backwards", false)
      .attr_bool("return_sequences", false).with(dropout_attrs);
}
void rnn_attrs(Schema& s) {
  s.attr_str("activation", "tanh").attr_bool("go_backwards", false).attr_bool("return_sequences", false)
      .with(dropout_attrs);
}
// A gradient op: its forward op's attributes, and whether to compute dx.
void gated_grad_attrs(Schema& s) { gated_attrs(s.attr_bool("input_grad", true)); }
void rnn_grad_attrs(Schema& s) { rnn_attrs(s.attr_bool("input_grad", true)); }

}  // namespace

KILN_OP(lstm).inputs({"x", "W", "U", "b", "mask", "h0", "c0"}, 3).outputs(4).with(gated_attrs)
    .set_infer(infer_forward(kLstm)).set_grad(grad_of(kLstm)).sparse_cotangents();
KILN_OP(lstm_grad).inputs({"dy", "x", "W", "U", "b", "hs", "cs", "gates", "mask", "h0", "c0"}, 3).outputs(8)
    .with(gated_grad_attrs).set_infer(infer_backward(kLstm)).non_differentiable();
KILN_OP(gru).inputs({"x", "W", "U", "b", "mask", "h0"}, 2).outputs(4).with(gated_attrs)
    .set_infer(infer_forward(kGru)).set_grad(grad_of(kGru)).sparse_cotangents();
KILN_OP(gru_grad).inputs({"dy", "x", "W", "U", "b", "hs", "gates", "rh", "mask", "h0"}, 2).outputs(7)
    .with(gated_grad_attrs).set_infer(infer_backward(kGru)).non_differentiable();
KILN_OP(simple_rnn).inputs({"x", "W", "U", "b", "mask", "h0"}, 2).outputs(2).with(rnn_attrs)
    .set_infer(infer_forward(kRnn)).set_grad(grad_of(kRnn)).sparse_cotangents();
KILN_OP(simple_rnn_grad).inputs({"dy", "x", "W", "U", "b", "hs", "mask", "h0"}, 2).outputs(7)
    .with(rnn_grad_attrs).set_infer(infer_backward(kRnn)).non_differentiable();

}  // namespace kiln::ops
