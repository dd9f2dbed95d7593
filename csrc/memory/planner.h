// Static memory plan: every value computed per batch (graph inputs and node results) gets an
// offset in one arena, from its live interval [defining node, last use]; values whose
// intervals overlap never share bytes, except a view's result (reshape and the like, marked in
// their schemas), which takes its operand's bytes when neither is a graph input or output nor
// written in place; that storage then lives until the last use of either. Planned once per
// batch size (and set of dynamic dim lengths) and reused for every step.
//
//   Plan p = plan_memory(g, 32);        // p.arena_bytes, p.offset[value] (-1: not in arena)
//   Buffer arena(p.arena_bytes);        // one allocation for the whole fit
#pragma once

#include <cstdint>
#include <vector>

#include "ir/ir.h"

namespace kiln::memory {

struct Plan {
  ir::Sizes sizes;
  int64_t batch = 0;  // sizes.batch
  size_t arena_bytes = 0;
  size_t naive_bytes = 0;        // sum of all sizes: what no reuse would take
  std::vector<int64_t> offset;   // per value; -1 for params/state
  std::vector<int> storage;      // per value: whose bytes it uses (itself, or a view's operand's root)
};

Plan plan_memory(const ir::Graph& g, const ir::Sizes& sizes);

}  // namespace kiln::memory
