// The CPU kernel interface. A kernel gets views of its operands and results (concrete shapes,
// the batch size already substituted) and the node, whose attributes it reads through attrs():
// a left-out attribute reads as its schema's default, so no kernel states one. Results never alias
// operands (the memory planner guarantees it), except where a side-effecting op writes an
// operand in place by design.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "ops/attrs.h"

namespace kiln::cpu {

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
};

struct KernelArgs {
  const ir::Node& node;
  const std::vector<TensorView>& in;
  const std::vector<TensorView>& out;
  ExecContext& ctx;

  ops::AttrReader attrs() const { return ops::attrs_of(node); }
};

using Kernel = void (*)(const KernelArgs&);

void register_kernel(const std::string& op, Kernel k);
Kernel find_kernel(const std::string& op);  // nullptr when absent
std::vector<std::string> kernel_names();

// Elementwise loops go parallel only past this many elements: below it the fork/join of
// OpenMP costs more than the loop (measured on the guide's MLP at batch 32).
constexpr int64_t kParallelMin = 1 << 15;

#define KILN_KCAT2(a, b) a##b
#define KILN_KCAT(a, b) KILN_KCAT2(a, b)
#define KILN_CPU_KERNEL(op, fn)                                                              \
  [[maybe_unused]] static const bool KILN_KCAT(kiln_cpu_kernel_, __COUNTER__) = [] {        \
    ::kiln::cpu::register_kernel(#op, fn);                                                   \
    return true;                                                                             \
  }()

}  // namespace kiln::cpu
