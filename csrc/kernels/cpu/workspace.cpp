// Per-thread kernel scratch (see workspace.h).
#include "kernels/cpu/workspace.h"

#include <cstddef>
#include <vector>

namespace kiln::cpu {

float* workspace(WorkspaceSlot slot, int64_t n) {
  thread_local std::vector<float> ws[kWsSlots];
  std::vector<float>& v = ws[slot];
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace kiln::cpu
