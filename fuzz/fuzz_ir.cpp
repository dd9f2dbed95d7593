// libFuzzer target: IR text. Each input is parsed and verified; an accepted graph is also
// optimized, turned into a train graph when its first output can be a loss, planned at two
// batch sizes (named dynamic dims at length 2; nested graphs' arenas counted), and run once when its memory fits the harness cap, with inputs of small integer
// values (so that gather and one_hot indices are in range sometimes and out of range others).
#include "fuzz/harness.h"
#include "ops/registry.h"
#include "runtime/compile.h"

using namespace kiln;

namespace {

size_t stored_bytes(const ir::Graph& g) {
  size_t total = 0;
  for (int v : g.params) total += static_cast<size_t>(g.values[v].type.numel(1)) * 4;
  for (int v : g.states) total += static_cast<size_t>(g.values[v].type.numel(1)) * 4;
  return total;
}

// The batch, and length 2 for every named dynamic dim of the graph and its nested graphs.
void name_lengths(const ir::Graph& g, ir::Sizes& s) {
  for (const ir::Value& v : g.values)
    for (int64_t d : v.type.dims)
      if (ir::has_name(d)) s.set(ir::dim_parts(d).name, 2);
  for (const ir::Graph& b : g.bodies) name_lengths(b, s);
}

ir::Sizes sizes_at(const ir::Graph& g, int64_t batch) {
  ir::Sizes s(batch);
  name_lengths(g, s);
  return s;
}

// The arenas of the graph and of every nested graph (each nested graph's program plans its own).
size_t arena_bytes(const ir::Graph& g, const ir::Sizes& s) {
  size_t total = memory::plan_memory(g, s).arena_bytes;
  for (const ir::Graph& b : g.bodies) total += arena_bytes(b, s);
  return total;
}

// Steps the longest loop of the graph runs, nested loops multiplied (a loop over a long axis of
// empty slices costs no memory but time; the harness runs only short loops).
int64_t loop_steps(const ir::Graph& g, const ir::Sizes& s) {
  int64_t steps = 0;
  for (const ir::Node& n : g.nodes) {
    if (n.op != "scan") continue;  // verified: a sequence [B, T, ...] and a body that exists
    int64_t T = ir::concrete_dim(g.values[n.inputs[0]].type.dims[1], s);
    int64_t inner = std::max<int64_t>(1, loop_steps(ops::body_of(g, n.attrs, n.op), s));
    steps = std::max(steps, T > (int64_t(1) << 20) ? T : T * inner);
  }
  return steps;
}

void run_small(const std::string& text, const rt::CompileOptions& o) {
  ir::Graph g = rt::compile_graph(text, o);
  for (int64_t batch : {int64_t(1), int64_t(3)}) {
    if (arena_bytes(g, sizes_at(g, batch)) + stored_bytes(g) > fuzz::kMaxBytes / 2) return;
  }
  if (loop_steps(g, sizes_at(g, 3)) > 4096) return;
  auto store = std::make_shared<rt::Store>();
  rt::Program program(store, g, 1);
  rt::Program::Lease ex = program.acquire(sizes_at(g, 3));
  for (size_t i = 0; i < ex->inputs.size(); ++i)
    for (int64_t k = 0; k < ex->inputs[i].numel; ++k) ex->inputs[i].f()[k] = static_cast<float>((k * 7 + i) % 5);
  program.run(*ex);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::text_of(data, size);
  fuzz::guarded([&] { run_small(text, {}); });
  fuzz::guarded([&] {
    rt::CompileOptions o;
    o.train = passes::OptimizerSpec{"adam", {{"lr", 0.01}}, "adam_1"};
    run_small(text, o);
  });
  return 0;
}
