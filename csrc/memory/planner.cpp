// Greedy best-offset assignment: values sorted by size (largest first) are placed at the lowest
// offset where they overlap no already-placed value that is live at the same time. A view's
// result (ops/registry.h) joins its operand's storage, which then lives as long as either.
#include "memory/planner.h"

#include <algorithm>

#include "ops/registry.h"

namespace kiln::memory {

Plan plan_memory(const ir::Graph& g, const ir::Sizes& sizes) {
  const int64_t kAlign = 64;
  size_t nv = g.values.size();
  int nn = static_cast<int>(g.nodes.size());
  std::vector<int> first(nv, -2), last(nv, -2);
  for (int v : g.inputs) first[v] = last[v] = -1;
  for (int i = 0; i < nn; ++i) {
    for (int v : g.nodes[i].outputs) first[v] = last[v] = i;
    for (int v : g.nodes[i].inputs)
      if (first[v] != -2) last[v] = std::max(last[v], i);
  }
  // Outputs, and inputs too, live for the whole run: a nested graph (scan's step) is run many
  // times on inputs written once (its constants), which nothing may overwrite in between.
  for (int v : g.outputs)
    if (first[v] != -2) last[v] = nn;
  for (int v : g.inputs) last[v] = nn;

  Plan p;
  p.sizes = sizes;
  p.batch = sizes.batch;
  p.offset.assign(nv, -1);
  p.storage.resize(nv);
  for (size_t v = 0; v < nv; ++v) p.storage[v] = static_cast<int>(v);
  // Views share storage only between values the graph computes per batch: never with a graph
  // input or output (bound to callers' arrays, or carried between a scan's iterations) nor with
  // an operand some node writes in place.
  std::vector<bool> fixed(nv, false);
  for (int v : g.inputs) fixed[v] = true;
  for (int v : g.outputs) fixed[v] = true;
  for (const ir::Node& n : g.nodes)
    for (int k : ops::Registry::get().at(n.op).writes)
      if (k < static_cast<int>(n.inputs.size())) fixed[n.inputs[k]] = true;
  for (const ir::Node& n : g.nodes) {
    if (!ops::Registry::get().at(n.op).view) continue;
    int x = n.inputs[0], y = n.outputs[0];
    if (fixed[x] || fixed[y] || first[x] == -2) continue;
    int root = p.storage[x];  // nodes come in order, so x's root is final already
    p.storage[y] = root;
    last[root] = std::max(last[root], last[y]);
  }
  struct Item {
    int v;
    int64_t size;
  };
  std::vector<Item> items;
  for (size_t v = 0; v < nv; ++v) {
    if (first[v] == -2) continue;
    int64_t n = g.values[v].type.numel(sizes);  // a ShapeError on overflow
    if (n > (int64_t(1) << 50))
      throw ShapeError("%" + g.values[v].name + " : " + g.values[v].type.str() + " at " + sizes.str() +
                       " needs more than 2^52 bytes");
    int64_t bytes = n * 4;
    int64_t size = std::max<int64_t>((bytes + kAlign - 1) / kAlign * kAlign, kAlign);
    p.naive_bytes += size;
    if (p.storage[v] == static_cast<int>(v)) items.push_back({static_cast<int>(v), size});  // a view takes its root's
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.size > b.size; });
  std::vector<Item> placed;
  for (const Item& it : items) {
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of conflicting placed values
    for (const Item& q : placed)
      if (!(last[q.v] < first[it.v] || last[it.v] < first[q.v]))
        busy.push_back({p.offset[q.v], p.offset[q.v] + q.size});
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto& [b, e] : busy) {
      if (off + it.size <= b) break;
      off = std::max(off, e);
    }
    p.offset[it.v] = off;
    p.arena_bytes = std::max<size_t>(p.arena_bytes, off + it.size);
    placed.push_back(it);
  }
  for (size_t v = 0; v < nv; ++v) p.offset[v] = p.offset[p.storage[v]];
  return p;
}

}  // namespace kiln::memory
