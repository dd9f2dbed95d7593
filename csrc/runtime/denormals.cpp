// FTZ/DAZ for kernel runs (see denormals.h).
#include "runtime/denormals.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define KILN_HAVE_MXCSR 1
#endif
#ifdef KILN_HAVE_OPENMP
#include <omp.h>
#endif

namespace kiln::rt {

#ifdef KILN_HAVE_MXCSR
namespace {
constexpr unsigned kFlushDenormals = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)

void flush_denormals_in_workers() {
#ifdef KILN_HAVE_OPENMP
  thread_local int workers_flushed = 0;  // the largest team this thread has set the mode of
  int want = omp_get_max_threads();
  if (want <= workers_flushed) return;
  unsigned caller = _mm_getcsr();
#pragma omp parallel num_threads(want)
  _mm_setcsr(_mm_getcsr() | kFlushDenormals);
  _mm_setcsr(caller);  // the calling thread is in the team too
  workers_flushed = want;
#endif
}
}  // namespace

FlushDenormals::FlushDenormals() : saved_(_mm_getcsr()) {
  flush_denormals_in_workers();
  _mm_setcsr(saved_ | kFlushDenormals);
}
FlushDenormals::~FlushDenormals() { _mm_setcsr(saved_); }
#else
FlushDenormals::FlushDenormals() {}
FlushDenormals::~FlushDenormals() {}
#endif

}  // namespace kiln::rt
