// Checks on host data before it is fed to a program.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// The number of NaN and infinite values among p[0..n).
int64_t count_nonfinite(const float* p, int64_t n);

}  // namespace kiln::cpu
