// A Program is one compiled graph: verified, bound to the Store's tensors, its kernels resolved.
// Nothing about it changes after construction, so any number of threads may run it at once.
// The state of one run (the arena, operand views, the run's counters) is an Execution, taken
// from a small pool per batch size (and set of dynamic dim lengths, ir::Sizes) for the length
// of a call and given back after.
//
//   auto p = rt::compile(store, text, {});   // runtime/compile.h: the one compile pipeline
//   rt::Program::Lease ex = p->acquire(32);   // an Execution for batch 32
//   rt::write_input(*ex, i, host) ...; p->run(*ex);  rt::read_output(*ex, j, host)
//   // the lease gives the Execution back to the pool when it goes out of scope
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "kernels/kernel.h"
#include "memory/planner.h"
#include "runtime/store.h"

namespace kiln::rt {

// Everything one run of a program needs besides the program: planned once per ir::Sizes.
struct Execution {
  struct Step {
    std::vector<kernels::TensorView> in, out;
    std::unique_ptr<kernels::Subgraph> body;  // the nested graph's own run, for ops that have one
  };
  ir::Sizes sizes;
  int64_t batch = 0;  // sizes.batch
  Device device = Device::cpu;  // where the arena (and so every view's data) lives
  std::shared_ptr<const memory::Plan> plan;
  std::unique_ptr<Buffer> arena;
  std::vector<Step> steps;  // one per graph node, in order
  std::vector<kernels::TensorView> inputs, outputs;
  kernels::ExecContext ctx;

  // Where each graph input's and output's value is viewed (step -1: `inputs`/`outputs`), so a
  // loop can point a run at the caller's memory instead of copying through the arena (bind
  // below). Bindable: in a CPU program, a value in the arena that is not both input and output,
  // appears once among the outputs and is written in place by no node.
  struct Place {
    int step, slot;
    bool out;
  };
  std::vector<std::vector<Place>> input_places, output_places;
  std::vector<bool> input_bindable, output_bindable;
  std::vector<void*> input_home, output_home;  // their places in the arena
};

// Copies graph input i in from the host (read_output: output j out to it): the edges of a run
// on any device. `host` holds the value's bytes for this Execution's sizes.
void write_input(Execution& ex, size_t i, const void* host);
void read_output(const Execution& ex, size_t j, void* host);

// Points every view of graph input i (bind_output: output j) at `data`, which must hold the
// value's bytes for this Execution's sizes; nullptr points it back at the arena. Only for
// bindable values (ValueError otherwise), which only a CPU program has: there a caller's host
// array is the device's memory. Kernels read a bound input and never write it.
void bind_input(Execution& ex, size_t i, const void* data);
void bind_output(Execution& ex, size_t j, void* data);

class Program {
 public:
  // Verifies the graph and binds every param/state to the Store: a param must already be there
  // or carry an `init`; state is created from its `init` when absent. `seed` seeds the params
  // whose declaration has none of its own. Use compile() (runtime/compile.h) rather than this.
  // With `check_numerics`, every run scans each node's results and stops at the first NaN or
  // inf with a NumericsError naming the op, its line and its layer (runtime/numerics.h).
  // Every node must have a kernel for `device`, or construction fails naming the op, before
  // anything is bound or created in the Store.
  Program(std::shared_ptr<Store> store, ir::Graph g, uint64_t seed = 0, bool check_numerics = false,
          kernels::Device device = kernels::Device::cpu);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  const ir::Graph& graph() const { return g_; }
  kernels::Device device() const { return device_; }
  Store& store() const { return *store_; }

  // An Execution on loan from the program's pool; returned to it on destruction.
  class Lease {
   public:
    Lease(const Program* p, std::unique_ptr<Execution> e) : p_(p), e_(std::move(e)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Execution* operator->() const { return e_.get(); }
    Execution& operator*() const { return *e_; }

   private:
    const Program* p_;
    std::unique_ptr<Execution> e_;
  };
  Lease acquire(const ir::Sizes& sizes) const;

  // The sizes that arrays of these shapes give the graph's inputs: the batch from the first
  // batched leading dim, each named dim from the first input dim that is it alone. Every
  // input's shape is checked against them; a mismatch is a ShapeError naming the input.
  ir::Sizes sizes_for(const std::vector<std::vector<int64_t>>& input_shapes) const;

  // Runs every node once on `ex`. Holds the locks of the stored tensors the program touches for
  // the whole run: shared for those it only reads, exclusive for those it writes.
  void run(Execution& ex) const;
  // Runs a nested graph's program (one per node that runs a body, made by the program holding
  // it) within its parent's run: the parent holds the locks, and `ctx` is the parent's, so a
  // random op in a step draws the same numbers at every step of one run.
  void run_nested(Execution& ex, kernels::ExecContext& ctx) const;

  // The memory plan for these sizes (cached, a bounded number of them, least recently used
  // evicted). A graph with named dims is re-inferred with their lengths put in the first time,
  // so two dims that must agree at run time (?t + ?u, concat) fail here with a clear error.
  std::shared_ptr<const memory::Plan> plan(const ir::Sizes& sizes) const;
  size_t cached_plans() const;

  // Runs so far. Random ops mix the run number into their seed, so a seeded model repeats;
  // set_runs restores the count (a resumed fit continues the same mask sequence).
  uint64_t runs() const { return runs_.load(); }
  void set_runs(uint64_t n) { runs_.store(n); }

  // Per-node wall time, accumulated over runs while enabled (for finding slow kernels).
  struct NodeTime {
    std::string op, result;
    double seconds = 0;
    int64_t calls = 0;
  };
  void set_profiling(bool on);
  std::vector<NodeTime> profile() const;

  // Bounds of the caches: sizes whose plans are kept, and idle Executions per sizes.
  static constexpr size_t kMaxPlans = 16;
  static constexpr size_t kMaxIdlePerBatch = 4;

 private:
  std::unique_ptr<Execution> make_execution(const ir::Sizes& sizes) const;
  void run_nodes(Execution& ex, kernels::ExecContext& ctx, std::vector<double>* seconds) const;
  void check_sizes(const ir::Sizes& sizes) const;
  void release(std::unique_ptr<Execution> e) const;
  std::string where(const ir::Node& n) const;
  void check_stored(const Execution& ex) const;

  struct Access {
    Tensor* tensor;
    bool write;
  };
  const std::shared_ptr<Store> store_;
  const ir::Graph g_;
  std::vector<std::shared_ptr<Tensor>> persistent_;  // by value id; null for non-persistent
  std::vector<kernels::Kernel> kernels_;                  // by node
  std::vector<std::unique_ptr<Program>> bodies_;          // by node: its nested graph's program, or null
  std::vector<Access> access_;                        // sorted by address: one global lock order
  const bool check_numerics_;
  const kernels::Device device_;
  bool named_ = false;  // some value has a named dynamic dim
  std::vector<std::vector<int>> writes_;  // by node: operands it writes in place

  mutable std::mutex mu_;  // guards the caches and the profile below
  mutable std::map<ir::Sizes, std::shared_ptr<const memory::Plan>> plans_;
  mutable std::vector<ir::Sizes> plan_order_;  // least recently used first
  mutable std::multimap<ir::Sizes, std::unique_ptr<Execution>> idle_;
  mutable std::atomic<uint64_t> runs_{0};
  std::atomic<bool> profiling_{false};
  mutable std::vector<NodeTime> times_;
};

}  // namespace kiln::rt
