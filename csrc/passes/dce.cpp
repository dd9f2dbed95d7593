// Dead-code elimination: a node stays if it has a side effect or some result is used by a
// kept node or is a graph output; a nested graph stays while a kept node runs it.
#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {

void dead_code_elimination(ir::Graph& g) {
  std::vector<bool> live(g.values.size(), false);
  for (int o : g.outputs) live[o] = true;
  std::vector<bool> keep(g.nodes.size(), false);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    bool k = ops::Registry::get().at(n.op).side_effect;
    for (int o : n.outputs) k = k || live[o];
    if (!k) continue;
    keep[i] = true;
    for (int v : n.inputs) live[v] = true;
  }
  std::vector<bool> drop(keep.size());
  for (size_t i = 0; i < keep.size(); ++i) drop[i] = !keep[i];
  drop_nodes(g, drop);
  std::vector<ir::Graph> bodies;
  for (ir::Graph& b : g.bodies) {
    bool used = false;
    for (const ir::Node& n : g.nodes) used = used || ir::attr_str(n.attrs, "body", "") == b.name;
    if (used) bodies.push_back(std::move(b));
  }
  g.bodies = std::move(bodies);
}

void drop_nodes(ir::Graph& g, const std::vector<bool>& drop) {
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop[i]) nodes.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(nodes);
  compact(g);
}

Uses value_uses(const ir::Graph& g) {
  Uses u{std::vector<int>(g.values.size(), 0), std::vector<int>(g.values.size(), -1)};
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int v : g.nodes[i].inputs) {
      ++u.count[v];
      u.user[v] = static_cast<int>(i);
    }
  for (int o : g.outputs) u.count[o] += 1000;
  return u;
}

void compact(ir::Graph& g) {
  std::vector<bool> used(g.values.size(), false);
  for (int v : g.inputs) used[v] = true;
  for (int v : g.params) used[v] = true;
  for (int v : g.states) used[v] = true;
  for (int v : g.outputs) used[v] = true;
  for (auto& n : g.nodes) {
    for (int v : n.inputs) used[v] = true;
    for (int v : n.outputs) used[v] = true;
  }
  std::vector<int> remap(g.values.size(), -1);
  std::vector<ir::Value> vals;
  for (size_t i = 0; i < g.values.size(); ++i)
    if (used[i]) {
      remap[i] = static_cast<int>(vals.size());
      vals.push_back(std::move(g.values[i]));
    }
  g.values = std::move(vals);
  auto fix = [&](std::vector<int>& xs) {
    for (int& v : xs) v = remap[v];
  };
  fix(g.inputs);
  fix(g.params);
  fix(g.states);
  fix(g.outputs);
  for (auto& n : g.nodes) {
    fix(n.inputs);
    fix(n.outputs);
  }
  g.reindex();
}

}  // namespace kiln::passes
