// scan: a loop over the time axis whose step is a nested graph (the `body`), for custom
// recurrent layers (K.rnn). Operands: S sequences [B, T, ...], K initial states, C constants
// (whatever the step reads from outside it: weights, masks made once). The body takes
// [S per-step slices [B, ...], K states, C constants] and gives [Y per-step outputs, K new
// states]. Results: the Y outputs stacked on axis 1 ([B, T, ...]), the K final states, and with
// save=1 the K states entering each step stacked on axis 1 (what the gradient reads).
//
//   %ys, %h = scan(%x, %h0, %w) {body="step", sequences=1, states=1} : f32[?,?t,4], f32[?,4]
//
// reverse=1 runs t = T-1 .. 0; sequences are read and outputs written at t either way, so the
// gradient of a scan is a scan the other way (Keras' go_backwards is a reverse op before it).
// The gradient differentiates the body (passes::vjp) into a second body that recomputes the step
// from the saved states and carries the states' cotangents and the constants' summed gradients.
#include "ops/common.h"
#include "passes/passes.h"

namespace kiln::ops {
namespace {

struct Counts {
  int S, K, C, Y;
};

Counts counts(size_t operands, const AttrReader& a, const ir::Graph& body) {
  int64_t S = a.get_int("sequences"), K = a.get_int("states"), n = static_cast<int64_t>(operands);
  if (S < 1 || K < 0 || S + K > n)
    throw ValueError("sequences=" + std::to_string(S) + " and states=" + std::to_string(K) + " do not fit " +
                     std::to_string(n) + " operand(s): at least one sequence, then the states, then constants");
  if (static_cast<int64_t>(body.inputs.size()) != n)
    throw ShapeError("graph @" + body.name + " takes " + std::to_string(body.inputs.size()) + " input(s), but " +
                     std::to_string(n) + " operand(s) are given (" + std::to_string(S) + " sequence(s), " +
                     std::to_string(K) + " state(s), " + std::to_string(n - S - K) + " constant(s))");
  if (static_cast<int64_t>(body.outputs.size()) < K)
    throw ShapeError("graph @" + body.name + " gives " + std::to_string(body.outputs.size()) +
                     " output(s), fewer than its " + std::to_string(K) + " state(s)");
  int Y = static_cast<int>(body.outputs.size() - K);
  return {static_cast<int>(S), static_cast<int>(K), static_cast<int>(n - S - K), Y};
}

// Same dtype and rank, and each dim equal or possibly equal (a named dim against a size).
bool fits(const Type& a, const Type& b) {
  if (a.dtype != b.dtype || a.rank() != b.rank()) return false;
  for (int i = 0; i < a.rank(); ++i)
    if (!may_equal(a.dims[i], b.dims[i])) return false;
  return true;
}

Type drop_time(const Type& t) {
  Type s = t;
  s.dims.erase(s.dims.begin() + 1);
  return s;
}

Type with_time(const Type& t, int64_t T) {
  Type s = t;
  s.dims.insert(s.dims.begin() + 1, T);
  return s;
}

std::vector<Type> infer_scan(const std::vector<Type>& in, const AttrReader& a, const ir::Graph& body) {
  Counts c = counts(in.size(), a, body);
  auto body_in = [&](int i) { return body.values[body.inputs[i]]; };
  auto mismatch = [&](const std::string& what, const Type& t, const ir::Value& v) {
    return ShapeError(what + " " + t.str() + " does not fit graph @" + body.name + "'s input %" + v.name + " : " +
                      v.type.str());
  };
  if (in[0].rank() < 2 || ir::has_batch(in[0].dims[1]))
    throw ShapeError("sequence 0 must be [B, T, ...] with a time axis T that is not the batch, got " + in[0].str());
  int64_t T = in[0].dims[1];
  for (int s = 0; s < c.S; ++s) {
    if (in[s].rank() < 2 || !may_equal(in[s].dims[1], T))
      throw ShapeError("sequence " + std::to_string(s) + " " + in[s].str() + " does not have sequence 0's time axis (" +
                       in[0].str() + ")");
    if (!fits(drop_time(in[s]), body_in(s).type))
      throw mismatch("the step of sequence " + std::to_string(s), drop_time(in[s]), body_in(s));
  }
  for (int k = 0; k < c.K; ++k) {
    const Type& init = in[c.S + k];
    if (!fits(init, body_in(c.S + k).type)) throw mismatch("initial state " + std::to_string(k), init, body_in(c.S + k));
    const ir::Value& next = body.values[body.outputs[c.Y + k]];
    if (!fits(next.type, init))
      throw ShapeError("graph @" + body.name + "'s new state %" + next.name + " : " + next.type.str() +
                       " does not fit state " + std::to_string(k) + " " + init.str());
  }
  for (int i = c.S + c.K; i < static_cast<int>(in.size()); ++i)
    if (!fits(in[i], body_in(i).type))
      throw mismatch("constant " + std::to_string(i - c.S - c.K), in[i], body_in(i));
  std::vector<Type> out;
  for (int y = 0; y < c.Y; ++y) {
    const ir::Value& v = body.values[body.outputs[y]];
    if (v.type.rank() < 1)
      throw ShapeError("graph @" + body.name + "'s output %" + v.name + " is a scalar; a per-step output has a batch dim");
    out.push_back(with_time(v.type, T));
  }
  for (int k = 0; k < c.K; ++k) out.push_back(in[c.S + k]);
  if (a.get_bool("save"))
    for (int k = 0; k < c.K; ++k) out.push_back(with_time(in[c.S + k], T));
  return out;
}

// The backward body: [x slices, states entering the step, dy] as sequences, [d new states, sums
// of the constants' gradients] as states, the constants as constants; gives [dx for each f32
// sequence, d states entering, the sums plus this step's constant gradients].
ir::Graph backward_body(const ir::Graph& fwd, const Counts& c, const std::string& name, std::vector<int>& diff_seqs) {
  ir::Graph gb = fwd;
  gb.name = name;
  std::vector<int> xin(gb.inputs.begin(), gb.inputs.begin() + c.S);
  std::vector<int> sin(gb.inputs.begin() + c.S, gb.inputs.begin() + c.S + c.K);
  std::vector<int> cin(gb.inputs.begin() + c.S + c.K, gb.inputs.end());
  std::vector<int> ys(gb.outputs.begin(), gb.outputs.end());
  std::vector<int> dys, acc, wrt;
  auto input_like = [&](int v, const std::string& stem) {
    ir::Type t = gb.values[v].type;
    return gb.add_decl(gb.fresh_name(stem + gb.values[v].name), ir::ValueKind::input, t);
  };
  for (int y : ys) dys.push_back(input_like(y, "d."));
  for (int s = 0; s < c.S; ++s)
    if (gb.values[xin[s]].type.dtype == ir::DType::f32) {
      diff_seqs.push_back(s);
      wrt.push_back(xin[s]);
    }
  for (int v : sin) {
    if (gb.values[v].type.dtype != ir::DType::f32)
      throw ValueError("state %" + gb.values[v].name + " of graph @" + fwd.name + " is not f32, so it has no gradient");
    wrt.push_back(v);
  }
  std::vector<int> diff_consts;
  for (int v : cin)
    if (gb.values[v].type.dtype == ir::DType::f32) {
      diff_consts.push_back(v);
      wrt.push_back(v);
      acc.push_back(input_like(v, "sum.d."));
    }
  std::vector<int> grads = passes::vjp(gb, ys, dys, wrt);
  GradBuilder b(gb);
  b.set_stem("sum");
  std::vector<int> outs(grads.begin(), grads.begin() + diff_seqs.size() + c.K);
  for (size_t i = 0; i < diff_consts.size(); ++i) outs.push_back(b.emit("add", {acc[i], grads[diff_seqs.size() + c.K + i]}));
  std::vector<int> d_y(dys.begin(), dys.begin() + c.Y), d_state(dys.begin() + c.Y, dys.end());
  gb.inputs = xin;
  gb.inputs.insert(gb.inputs.end(), sin.begin(), sin.end());
  gb.inputs.insert(gb.inputs.end(), d_y.begin(), d_y.end());
  gb.inputs.insert(gb.inputs.end(), d_state.begin(), d_state.end());
  gb.inputs.insert(gb.inputs.end(), acc.begin(), acc.end());
  gb.inputs.insert(gb.inputs.end(), cin.begin(), cin.end());
  gb.outputs = outs;
  passes::dead_code_elimination(gb);
  return gb;
}

std::vector<int> grad_scan(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  ir::Graph& g = b.graph();
  const ir::Graph fwd = body_of(g, n.attrs, "scan");  // a copy: the backward body joins g.bodies
  AttrReader a = attrs_of(n);
  Counts c = counts(n.inputs.size(), a, fwd);
  bool saved_already = a.get_bool("save");
  for (size_t i = c.Y + c.K; i < dy.size(); ++i)
    if (dy[i] >= 0) throw ValueError("the saved states of a scan have no gradient (a scan differentiated twice)");
  std::vector<int> saved = saved_already
                               ? std::vector<int>(n.outputs.begin() + c.Y + c.K, n.outputs.begin() + c.Y + 2 * c.K)
                               : b.extend_results(n, {{"save", int64_t(1)}});
  auto cotangent = [&](size_t i) {
    return dy[i] >= 0 ? dy[i] : b.emit("broadcast_like", {b.scalar(0.0), n.outputs[i]});
  };
  std::vector<int> diff_seqs;
  ir::Graph gb = backward_body(fwd, c, g.fresh_body_name(fwd.name + ".grad"), diff_seqs);
  std::string name = gb.name;
  g.bodies.push_back(std::move(gb));

  std::vector<int> ops(n.inputs.begin(), n.inputs.begin() + c.S);
  ops.insert(ops.end(), saved.begin(), saved.end());
  for (int y = 0; y < c.Y + c.K; ++y) ops.push_back(cotangent(y));
  std::vector<int> consts;
  for (size_t i = c.S + c.K; i < n.inputs.size(); ++i)
    if (b.type(n.inputs[i]).dtype == ir::DType::f32) {
      consts.push_back(static_cast<int>(i));
      ops.push_back(b.emit("broadcast_like", {b.scalar(0.0), n.inputs[i]}));
    }
  ops.insert(ops.end(), n.inputs.begin() + c.S + c.K, n.inputs.end());
  ir::Attrs attrs = {{"body", name},
                     {"sequences", int64_t(c.S + c.K + c.Y)},
                     {"states", int64_t(c.K + consts.size())},
                     {"reverse", int64_t(!a.get_bool("reverse"))}};
  std::vector<int> r = b.emit_multi("scan", ops, attrs);
  std::vector<int> dx(n.inputs.size(), -1);
  for (size_t i = 0; i < diff_seqs.size(); ++i) dx[diff_seqs[i]] = r[i];
  for (int k = 0; k < c.K; ++k) dx[c.S + k] = r[diff_seqs.size() + k];
  for (size_t i = 0; i < consts.size(); ++i) dx[consts[i]] = r[diff_seqs.size() + c.K + i];
  return dx;
}

}  // namespace

KILN_OP(scan).variadic(1).attr_str("body").attr_int("sequences").attr_int("states")
    .attr_bool("reverse", false).attr_bool("save", false)
    .set_body_infer(infer_scan).set_grad(grad_scan).sparse_cotangents()
    .describe("a loop over axis 1 of its sequences whose step is the nested graph `body`");

}  // namespace kiln::ops
