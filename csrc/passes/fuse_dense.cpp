// matmul(x, W) [-> bias_add(., b)] [-> act(.)]  ==>  dense(x, W[, b]) {activation=act}
// conv2d(x, W) [-> bias_add(., b)] [-> act(.)]  ==>  conv2d(x, W[, b]) {..., activation=act}
// Applies when each intermediate has exactly one use and is not a graph output, so nothing
// (the backward pass included) needs the unfused values. The activations that qualify are
// dense's own list (ops/activations.h), softmax only on the last axis. The GEMM kernels apply
// the bias and activation to each block of rows while it is in cache (kernels/cpu/epilogue.h).
#include <cstdlib>

#include "ops/activations.h"
#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {

void fuse_dense(ir::Graph& g) {
  const Uses uses = value_uses(g);
  auto single_user = [&](int v) { return uses.single_user(v); };

  std::vector<bool> dead(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& m = g.nodes[i];
    if (dead[i] || (m.op != "matmul" && m.op != "conv2d")) continue;
    ops::AttrReader ma = ops::attrs_of(m);
    if (m.op == "matmul") {  // {transpose_b=0} written out is still a plain matmul
      if (ma.get_bool("transpose_a") || ma.get_bool("transpose_b")) continue;
      if (g.values[m.inputs[1]].type.rank() != 2) continue;
    } else if (m.inputs.size() != 2 || ma.get_str("activation") != "linear") {
      continue;  // a conv2d with its epilogue already
    }
    std::vector<int> ins = {m.inputs[0], m.inputs[1]};
    int last = static_cast<int>(i), cur = m.outputs[0];
    std::vector<int> absorbed = {static_cast<int>(i)};
    int nb = single_user(cur);
    if (nb >= 0 && g.nodes[nb].op == "bias_add" && g.nodes[nb].inputs[0] == cur) {
      ins.push_back(g.nodes[nb].inputs[1]);
      absorbed.push_back(nb);
      last = nb;
      cur = g.nodes[nb].outputs[0];
    }
    std::string act = "linear";
    int na = single_user(cur);
    if (na >= 0) {
      const ir::Node& an = g.nodes[na];
      int rank = g.values[cur].type.rank();
      std::optional<ops::Activation> a = ops::dense_activation(an.op);
      bool fusable = a && *a != ops::Activation::linear;
      if (a == ops::Activation::softmax) {
        int64_t axis = ops::attrs_of(an).get_int("axis");
        fusable = axis == -1 || axis == rank - 1;
      }
      if (fusable) {
        act = an.op;
        absorbed.push_back(na);
        last = na;
        cur = an.outputs[0];
      }
    }
    if (absorbed.size() == 1) continue;  // a bare matmul gains nothing
    ir::Node fused;
    fused.op = m.op == "matmul" ? "dense" : "conv2d";
    if (m.op == "conv2d") fused.attrs = m.attrs;  // strides, padding
    fused.inputs = ins;
    fused.outputs = {cur};
    fused.line = g.nodes[last].line;
    if (act != "linear") fused.attrs["activation"] = act;
    for (int k : absorbed) dead[k] = true;
    dead[last] = false;
    g.nodes[last] = std::move(fused);
  }
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!dead[i]) nodes.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(nodes);
  compact(g);
}

void optimize(ir::Graph& g) {
  for (ir::Graph& b : g.bodies) optimize(b);  // a nested graph's interface stays as it is
  const char* env = std::getenv("KILN_CHECK_IR");
  bool check = env && std::string(env) == "1";
  auto checked = [&](void (*pass)(ir::Graph&), const char* name) {
    pass(g);
    if (!check) return;
    try {
      ir::verify(g);
      std::string text = ir::print(g);
      if (ir::print(ir::parse(text)) != text) throw Error("printed IR does not re-parse to the same text");
    } catch (const Error& e) {
      throw Error(std::string("KILN_CHECK_IR: after pass ") + name + ": " + e.what());
    }
  };
  checked(dead_code_elimination, "dead_code_elimination");
  checked(common_subexpressions, "common_subexpressions");
  checked(fold_transposes, "fold_transposes");
  checked(fuse_dense, "fuse_dense");
  checked(fuse_conv_pool, "fuse_conv_pool");
  checked(fuse_activation_grad, "fuse_activation_grad");
  checked(dead_code_elimination, "dead_code_elimination");
}

}  // namespace kiln::passes
