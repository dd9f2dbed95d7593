// The compile pipeline (see compile.h).
#include "runtime/compile.h"

#include <cstdlib>

#include "memory/device_memory.h"

namespace kiln::rt {

ir::Graph compile_graph(const std::string& text, const CompileOptions& options) {
  ir::Graph g = ir::parse(text);
  ir::verify(g);
  if (options.train) {
    passes::build_train(g, *options.train);
    ir::verify(g);
  }
  if (options.optimize) {
    passes::optimize(g);
    ir::verify(g);
  }
  if (options.train || options.optimize) {
    g = ir::parse(ir::print(g));  // nodes made by the passes get lines too
    ir::verify(g);
  }
  return g;
}

std::shared_ptr<Program> compile(std::shared_ptr<Store> store, const std::string& text, const CompileOptions& options) {
  const memory::DeviceMemory& m = memory::memory_of(options.device);
  if (!m.usable())
    throw ValueError(std::string("device '") + kernels::device_name(options.device) + "' is not usable: " + m.status());
  const char* env = std::getenv("KILN_CHECK_NUMERICS");
  bool check = options.check_numerics || (env && std::string(env) == "1");
  return std::make_shared<Program>(std::move(store), compile_graph(text, options), options.seed, check, options.device);
}

}  // namespace kiln::rt
