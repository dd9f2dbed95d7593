// The kernel interface, the same for every device: a kernel gets views of its operands and
// results (concrete shapes, the batch and dynamic dims already substituted; `data` points into
// that device's memory) and the node, whose attributes it reads through attrs(): a left-out
// attribute reads as its schema's default, so no kernel states one. Results never alias operands
// (the memory planner guarantees it), except where a side-effecting op writes an operand in
// place by design.
//
// Kernel tables are keyed by (device, op). Each backend registers its own from its own files:
//   KILN_CPU_KERNEL(relu, relu_k);     // csrc/kernels/cpu/*.cpp
//   KILN_CUDA_KERNEL(relu, relu_k);    // cuda/*.cu
// A Program compiled for a device runs only that device's kernels: an op without one is refused
// at compile time, naming the op (no silent host fallback).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/communicator.h"
#include "base/device.h"
#include "ir/ir.h"
#include "ops/attrs.h"

namespace kiln::kernels {

using kiln::Device;  // base/device.h
using kiln::device_name;
using kiln::device_named;
using kiln::kDevices;

struct TensorView {
  void* data = nullptr;
  std::vector<int64_t> dims;
  int64_t numel = 0;
  ir::DType dtype = ir::DType::f32;

  float* f() const { return static_cast<float*>(data); }
  int rank() const { return static_cast<int>(dims.size()); }
  int64_t dim(int i) const { return dims[i < 0 ? i + rank() : i]; }
};

struct ExecContext {
  uint64_t step = 0;  // advances once per program run; random ops mix it into their seed
  // A data-parallel run (runtime/loop.cpp shards each batch over the ranks): the job's
  // communicator, the rows this run contributes to cross-replica means (its batch, or 0 on a
  // rank that got no rows of a short last batch and runs one row only to take part), and the
  // index of its first row in the whole batch, by which random masks are drawn per global row.
  // Alone (comm null) cross-replica ops are copies.
  Communicator* comm = nullptr;
  int64_t rows = 0;
  int64_t row_offset = 0;
};

// A nested graph a node runs (scan's step), planned by the program for the run's sizes and owned
// by the run: write its operands into inputs(), run(), read outputs(). The views stay put between
// runs, so a loop copies into and out of them.
class Subgraph {
 public:
  virtual ~Subgraph() = default;
  virtual const std::vector<TensorView>& inputs() const = 0;
  virtual const std::vector<TensorView>& outputs() const = 0;
  virtual void run(ExecContext& ctx) = 0;
};

struct KernelArgs {
  const ir::Node& node;
  const std::vector<TensorView>& in;
  const std::vector<TensorView>& out;
  ExecContext& ctx;
  Subgraph* body = nullptr;  // set for ops that run a nested graph (Schema::runs_body)
  const ir::Graph* graph = nullptr;  // the graph `node` is in (its values' declared types)

  ops::AttrReader attrs() const { return ops::attrs_of(node); }
};

using Kernel = void (*)(const KernelArgs&);

void register_kernel(Device d, const std::string& op, Kernel k);  // twice for one (d, op): logic_error
void unregister_kernel(Device d, const std::string& op);           // for the device stand-in only
Kernel find_kernel(Device d, const std::string& op);              // nullptr when absent
std::vector<Device> devices_with_kernel(const std::string& op);
std::vector<std::string> ops_with_kernel(Device d);

#define KILN_KCAT2(a, b) a##b
#define KILN_KCAT(a, b) KILN_KCAT2(a, b)
#define KILN_DEVICE_KERNEL(device, op, fn)                                                    \
  [[maybe_unused]] static const bool KILN_KCAT(kiln_kernel_, __COUNTER__) = [] {             \
    ::kiln::kernels::register_kernel(device, #op, fn);                                        \
    return true;                                                                              \
  }()
#define KILN_CPU_KERNEL(op, fn) KILN_DEVICE_KERNEL(::kiln::kernels::Device::cpu, op, fn)
#define KILN_CUDA_KERNEL(op, fn) KILN_DEVICE_KERNEL(::kiln::kernels::Device::cuda, op, fn)

}  // namespace kiln::kernels
