// Reverse-mode autodiff over the IR. Walks the forward nodes backwards and asks each op's
// schema for the cotangents of its operands, summing contributions with `add`. Only nodes on a
// path from some `wrt` value to the loss are differentiated. vjp() is the general form (given
// cotangents of several results); scan's gradient uses it to differentiate its step graph.
#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {

std::vector<int> gradients(ir::Graph& g, int loss, const std::vector<int>& wrt) {
  if (g.values[loss].type != ir::Type{ir::DType::f32, {}})
    throw ShapeError("the loss %" + g.values[loss].name + " must be a scalar f32[], got " + g.values[loss].type.str());
  ops::GradBuilder b(g);
  int seed = b.scalar(1.0);
  g.values[seed].name = g.fresh_name("d." + g.values[loss].name);
  g.reindex();
  return vjp(g, {loss}, {seed}, wrt);
}

std::vector<int> vjp(ir::Graph& g, const std::vector<int>& ys, const std::vector<int>& dys_in, const std::vector<int>& wrt) {
  if (ys.size() != dys_in.size()) throw std::logic_error("vjp: one cotangent per result");
  size_t nv = g.values.size(), nn = g.nodes.size();
  std::vector<bool> from_wrt(nv, false), to_loss(nv, false);
  for (int w : wrt) from_wrt[w] = true;
  for (size_t i = 0; i < nn; ++i) {
    const ir::Node& n = g.nodes[i];
    bool any = false;
    for (int v : n.inputs) any = any || from_wrt[v];
    if (any && ops::Registry::get().at(n.op).differentiable)
      for (int o : n.outputs) from_wrt[o] = true;
  }
  for (int y : ys) to_loss[y] = true;
  for (size_t i = nn; i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    bool any = false;
    for (int o : n.outputs) any = any || to_loss[o];
    if (any)
      for (int v : n.inputs) to_loss[v] = true;
  }

  ops::GradBuilder b(g);
  std::vector<int> cot(nv, -1);
  for (size_t k = 0; k < ys.size(); ++k) {
    int y = ys[k];
    cot[y] = cot[y] < 0 ? dys_in[k] : b.emit("add", {cot[y], dys_in[k]});
    if (cot.size() < g.values.size()) cot.resize(g.values.size(), -1);
  }
  for (size_t i = nn; i-- > 0;) {
    ir::Node n = g.nodes[i];  // copy: emitting nodes may reallocate g.nodes
    const ops::Schema& s = ops::Registry::get().at(n.op);
    if (!s.differentiable) continue;
    std::vector<int> dys;
    bool any = false;
    for (int o : n.outputs) {
      dys.push_back(cot[o]);
      any = any || cot[o] >= 0;
    }
    std::vector<bool> operand_needed;
    for (int v : n.inputs) operand_needed.push_back(from_wrt[v] && to_loss[v]);
    bool needed = false;
    for (bool x : operand_needed) needed = needed || x;
    if (!any || !needed) continue;
    if (!s.grad) throw ValueError("[" + n.op + "] has no gradient");
    if (!s.accepts_missing_cotangents)
      for (auto& d : dys)
        if (d < 0) d = b.emit("broadcast_like", {b.scalar(0.0), n.outputs[&d - &dys[0]]});
    b.set_stem(n.outputs.empty() ? "g" : "g." + g.values[n.outputs[0]].name);
    b.set_needed(operand_needed);
    std::vector<int> dxs = s.grad(b, n, dys);
    b.set_stem("g");
    b.set_needed({});
    for (size_t k = 0; k < n.inputs.size() && k < dxs.size(); ++k) {
      int v = n.inputs[k];
      if (dxs[k] < 0 || !from_wrt[v]) continue;
      if (cot.size() < g.values.size()) cot.resize(g.values.size(), -1);
      cot[v] = cot[v] < 0 ? dxs[k] : b.emit("add", {cot[v], dxs[k]});
    }
    if (cot.size() < g.values.size()) cot.resize(g.values.size(), -1);
  }
  std::vector<int> out;
  for (int w : wrt) {
    int d = cot[w];
    if (d < 0) d = b.emit("broadcast_like", {b.scalar(0.0), w});
    out.push_back(d);
  }
  return out;
}

}  // namespace kiln::passes
