// merge_batch / split_batch / fix_batch / free_batch (same elements, new labels: a copy),
// assign, shape_of.
#include <cstring>
#include <string>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

// fix_batch / free_batch: a copy once the run's batch is the fixed size.
static void check_batch(int64_t fixed, int64_t batch) {
  if (fixed != batch)
    throw ValueError("this graph holds state for batches of exactly " + std::to_string(fixed) +
                     " rows (a stateful layer's batch size), got a batch of " + std::to_string(batch) +
                     "; pass batch_size=" + std::to_string(fixed) + " and a sample count it divides");
}

static void fix_batch_k(const KernelArgs& a) {
  check_batch(a.out[0].dims[0], a.in[0].dims[0]);
  view_k(a);
}

static void free_batch_k(const KernelArgs& a) {
  check_batch(a.in[0].dims[0], a.out[0].dims[0]);
  view_k(a);
}

static void assign_k(const KernelArgs& a) {
  std::memmove(a.in[0].data, a.in[1].data, static_cast<size_t>(a.in[0].numel) * 4);
}

static void shape_of_k(const KernelArgs& a) {
  for (int i = 0; i < a.in[0].rank(); ++i) a.out[0].f()[i] = static_cast<float>(a.in[0].dims[i]);
}

KILN_CPU_KERNEL(shape_of, shape_of_k);
KILN_CPU_KERNEL(merge_batch, view_k);
KILN_CPU_KERNEL(split_batch, view_k);
KILN_CPU_KERNEL(fix_batch, fix_batch_k);
KILN_CPU_KERNEL(free_batch, free_batch_k);
KILN_CPU_KERNEL(assign, assign_k);

}  // namespace kiln::cpu
