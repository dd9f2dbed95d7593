// A Program is one verified, optimized graph bound to the Store, with a memory plan and
// resolved kernels per batch size. Running it never allocates after the first step at a size.
//
//   Program p(store, ir::parse(text));
//   Program::Bound& b = p.bind(32);          // plan + arena + kernels for batch 32
//   copy inputs into b.inputs[i] ...; p.execute(b);  read b.outputs[j]
#pragma once

#include <map>
#include <memory>

#include "kernels/cpu/kernel.h"
#include "memory/planner.h"
#include "runtime/store.h"

namespace kiln::rt {

class Program {
 public:
  struct Step {
    cpu::Kernel kernel;
    const ir::Node* node;
    std::vector<cpu::TensorView> in, out;
  };
  struct Bound {
    int64_t batch = 0;
    memory::Plan plan;
    std::unique_ptr<Buffer> arena;
    std::vector<Step> steps;
    std::vector<cpu::TensorView> inputs, outputs;
  };

  // Verifies the graph and binds every param/state to the Store: a param must already be there
  // or carry an `init`; state is created from its `init` when absent.
  Program(std::shared_ptr<Store> store, ir::Graph g, uint64_t seed = 0);

  const ir::Graph& graph() const { return g_; }
  Bound& bind(int64_t batch);
  void execute(Bound& b);
  Store& store() { return *store_; }

  // Per-node wall time, accumulated over runs while enabled (for finding slow kernels).
  struct NodeTime {
    std::string op, result;
    double seconds = 0;
    int64_t calls = 0;
  };
  void set_profiling(bool on);
  std::vector<NodeTime> profile() const { return times_; }

 private:
  std::shared_ptr<Store> store_;
  ir::Graph g_;
  std::vector<std::shared_ptr<Tensor>> persistent_;  // by value id; null for non-persistent
  std::map<int64_t, std::unique_ptr<Bound>> bound_;
  cpu::ExecContext ctx_;
  bool profiling_ = false;
  std::vector<NodeTime> times_;
};

}  // namespace kiln::rt
