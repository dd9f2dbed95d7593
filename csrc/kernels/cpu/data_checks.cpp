// Input validation that runs before training: counting non-finite values in the data. Native
// and multi-threaded because fit() checks every array before its first step (so that bad data
// leaves the weights untouched), and NumPy's isfinite over MNIST's 47M floats took 15 ms.
#include <cstdint>

#include "kernels/cpu/data_checks.h"
#include "kernels/cpu/parallel.h"

namespace kiln::cpu {

// x - x is 0 for every finite x and NaN for NaN and +-inf.
KILN_VECTOR int64_t count_nonfinite_serial(const float* p, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += (p[i] - p[i]) != 0.f;
  return bad;
}

int64_t count_nonfinite(const float* p, int64_t n) {
  int64_t total = 0;
  parallel_chunks(n, [&](int64_t b, int64_t e) {
    int64_t c = count_nonfinite_serial(p + b, e - b);
#pragma omp atomic
    total += c;
  });
  return total;
}

}  // namespace kiln::cpu
