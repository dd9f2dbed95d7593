// Common-subexpression elimination: two nodes with the same op, operands and attributes compute
// the same values, so the later one's uses are redirected to the earlier one's results. Random
// ops (dropout_mask) and side-effecting ops are never merged. Autodiff emits many repeats (one
// `constant` per use, repeated reduce_count), and so do graphs traced from user code.
#include <map>
#include <tuple>

#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {

void common_subexpressions(ir::Graph& g) {
  using Key = std::tuple<std::string, std::vector<int>, ir::Attrs>;
  std::map<Key, int> seen;  // key -> node index
  std::vector<int> replace(g.values.size());
  for (size_t v = 0; v < replace.size(); ++v) replace[v] = static_cast<int>(v);
  std::vector<bool> dead(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    for (int& v : n.inputs) v = replace[v];
    const ops::Schema& s = ops::Registry::get().at(n.op);
    if (s.side_effect || n.op == "dropout_mask" || n.outputs.empty()) continue;
    Key key{n.op, n.inputs, n.attrs};
    auto it = seen.find(key);
    if (it == seen.end()) {
      seen.emplace(std::move(key), static_cast<int>(i));
      continue;
    }
    const ir::Node& first = g.nodes[it->second];
    bool is_output = false;
    for (int o : n.outputs)
      for (int out : g.outputs) is_output = is_output || o == out;
    if (is_output) continue;  // keep output names stable
    for (size_t k = 0; k < n.outputs.size(); ++k) replace[n.outputs[k]] = first.outputs[k];
    dead[i] = true;
  }
  drop_nodes(g, dead);
}

}  // namespace kiln::passes
