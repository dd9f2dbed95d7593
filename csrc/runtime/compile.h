// The one compile pipeline: IR text -> parse -> verify -> [train graph] -> [passes] -> verify ->
// Program. The bindings, the native tools and the C++ tests all call it, so no caller sequences
// the steps on its own and none can drift from the others.
//
//   rt::CompileOptions o;
//   o.train = passes::OptimizerSpec{"rmsprop", {{"lr", 0.001}}, "rmsprop_1"};
//   std::shared_ptr<rt::Program> p = rt::compile(store, text, o);
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "passes/passes.h"
#include "runtime/program.h"

namespace kiln::rt {

struct CompileOptions {
  std::optional<passes::OptimizerSpec> train;  // build the train graph: autodiff + updates
  bool optimize = true;                        // the standard pass pipeline (passes::optimize)
  uint64_t seed = 0;                           // seeds params whose declaration has no seed
  bool check_numerics = false;                 // stop at the first NaN/inf (also KILN_CHECK_NUMERICS=1)
  kernels::Device device = kernels::Device::cpu;  // where the program runs (kernels/kernel.h)
};

// The verified graph after every step the options ask for, re-read from its printed form so
// that every node's line is its line in that text (what Program errors and model.ir() show).
ir::Graph compile_graph(const std::string& text, const CompileOptions& options);

// compile_graph, then a Program bound to `store`. A device that is not usable here (CUDA without a
// GPU, or a build without CUDA) is a ValueError saying why, before anything is compiled.
std::shared_ptr<Program> compile(std::shared_ptr<Store> store, const std::string& text, const CompileOptions& options);

}  // namespace kiln::rt
