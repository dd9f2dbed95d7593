// Transpose folding: transpose(transpose(x, p1), p2) is transpose(x, p1 o p2), and nothing when
// that is the identity. Channels-first convolutions lower to NCHW -> NHWC -> conv -> NCHW, so a
// chain of them (the guide's inception towers) moved every activation twice between layers;
// folded, each chain stays NHWC inside. A transpose whose result is a graph output is kept (its
// name is the output's).
#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {

void fold_transposes(ir::Graph& g) {
  std::vector<int> replace(g.values.size());
  for (size_t v = 0; v < replace.size(); ++v) replace[v] = static_cast<int>(v);
  std::vector<bool> is_output(g.values.size(), false);
  for (int o : g.outputs) is_output[o] = true;
  std::vector<bool> dead(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    for (int& v : n.inputs) v = replace[v];
    if (n.op != "transpose") continue;
    std::vector<int64_t> perm = ops::attrs_of(n).get_ints("perm");
    int src = n.inputs[0];
    int p = g.values[src].producer;
    if (g.values[src].kind == ir::ValueKind::node && p >= 0 && g.nodes[p].op == "transpose") {
      std::vector<int64_t> inner = ops::attrs_of(g.nodes[p]).get_ints("perm");
      for (int64_t& k : perm) k = inner[k];  // result dim i is x's dim inner[perm[i]]
      n.inputs[0] = src = g.nodes[p].inputs[0];
      n.attrs["perm"] = perm;
    }
    bool identity = true;
    for (size_t k = 0; k < perm.size(); ++k) identity = identity && perm[k] == static_cast<int64_t>(k);
    if (identity && !is_output[n.outputs[0]]) {
      replace[n.outputs[0]] = src;
      dead[i] = true;
    }
  }
  drop_nodes(g, dead);
}

}  // namespace kiln::passes
