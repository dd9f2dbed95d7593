// Helpers for the hot elementwise loops.
//
// KILN_VECTOR marks a plain loop function for x86-64 function multi-versioning: the compiler
// emits AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and baseline copies and the loader picks one for
// the CPU at hand, so the wheel stays runnable on any x86-64 (see ../shared/BUILD.md). Keep such
// functions free of OpenMP: split the work with parallel_chunks and call them per chunk.
#pragma once

#include <cstdint>

#include "kernels/cpu/kernel.h"

#ifdef KILN_HAVE_OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_VECTOR __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KILN_VECTOR
#endif

namespace kiln::cpu {

// Calls f(begin, end) over [0, n) split into one contiguous chunk per thread (one chunk, on the
// calling thread, below kParallelMin elements).
template <typename F>
void parallel_chunks(int64_t n, F&& f) {
  if (n <= kParallelMin) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
#ifdef KILN_HAVE_OPENMP
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    int t = 0, nt = 1;
#endif
    int64_t chunk = (n + nt - 1) / nt;
    chunk = (chunk + 15) / 16 * 16;
    int64_t b = t * chunk, e = b + chunk < n ? b + chunk : n;
    if (b < e) f(b, e);
  }
}

}  // namespace kiln::cpu
