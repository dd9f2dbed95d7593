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

// Calls f(i) for i in [0, n): over the threads (static schedule) when `parallel`, else on the
// calling thread without entering any OpenMP region. `#pragma omp parallel for if (false)` still
// starts a team of one, which cost a batch-1 run of the guide's MLP about 0.5 us per kernel.
template <typename F>
void parallel_for(int64_t n, bool parallel, F&& f) {
  if (!parallel) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Calls f(begin, end) over [0, n) in one contiguous run per thread, each a multiple of `align`
// long but the last, when `parallel`; else f(0, n) on the calling thread, with no OpenMP region.
template <typename F>
void parallel_runs(int64_t n, int64_t align, bool parallel, F&& f) {
  if (!parallel) {
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
    chunk = (chunk + align - 1) / align * align;
    int64_t b = t * chunk, e = b + chunk < n ? b + chunk : n;
    if (b < e) f(b, e);
  }
}

// Calls f(begin, end) over [0, n) split into one contiguous chunk per thread (one chunk, on the
// calling thread, below kParallelMin elements).
template <typename F>
void parallel_chunks(int64_t n, F&& f) {
  parallel_runs(n, 16, n > kParallelMin, f);
}

}  // namespace kiln::cpu
