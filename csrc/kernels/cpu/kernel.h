// The CPU backend's view of the kernel interface (kernels/kernel.h): the same types, and the
// threshold below which its loops stay single-threaded.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernel.h"

namespace kiln::cpu {

using kernels::ExecContext;
using kernels::Kernel;
using kernels::KernelArgs;
using kernels::TensorView;

// Elementwise loops go parallel only past this many elements: below it the fork/join of
// OpenMP costs more than the loop (measured on the guide's MLP at batch 32).
constexpr int64_t kParallelMin = 1 << 15;

// The kernel of the ops whose schema marks them views (ops/registry.h: reshape and the like):
// where the memory plan gave the result its operand's bytes there is nothing to do; elsewhere (a
// graph input or output, a caller's array bound in place) the elements are copied.
void view_k(const KernelArgs& a);

}  // namespace kiln::cpu
