// merge_batch / split_batch (same elements, new labels: a copy), assign, shape_of.
#include <cstring>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

static void copy_k(const KernelArgs& a) {
  std::memcpy(a.out[0].data, a.in[0].data, static_cast<size_t>(a.out[0].numel) * 4);
}

static void assign_k(const KernelArgs& a) {
  std::memmove(a.in[0].data, a.in[1].data, static_cast<size_t>(a.in[0].numel) * 4);
}

static void shape_of_k(const KernelArgs& a) {
  for (int i = 0; i < a.in[0].rank(); ++i) a.out[0].f()[i] = static_cast<float>(a.in[0].dims[i]);
}

KILN_CPU_KERNEL(shape_of, shape_of_k);
KILN_CPU_KERNEL(merge_batch, copy_k);
KILN_CPU_KERNEL(split_batch, copy_k);
KILN_CPU_KERNEL(assign, assign_k);

}  // namespace kiln::cpu
