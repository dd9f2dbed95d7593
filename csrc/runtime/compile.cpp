// The compile pipeline (see compile.h).
#include "runtime/compile.h"

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
  return g;
}

std::shared_ptr<Program> compile(std::shared_ptr<Store> store, const std::string& text, const CompileOptions& options) {
  return std::make_shared<Program>(std::move(store), compile_graph(text, options), options.seed);
}

}  // namespace kiln::rt
