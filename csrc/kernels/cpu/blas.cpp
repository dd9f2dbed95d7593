// GEMM through scipy-openblas32 (prefixed symbols), a system CBLAS, or a naive OpenMP loop
// when neither was found at build time (correct, about 8x slower).
#include "kernels/cpu/gemm.h"

#include <algorithm>

#if defined(KILN_BLAS_SCIPY)
#include <cblas.h>
#define KILN_SGEMM scipy_cblas_sgemm
#elif defined(KILN_BLAS_CBLAS)
#include <cblas.h>
#define KILN_SGEMM cblas_sgemm
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
#endif

#ifdef KILN_HAVE_OPENMP
#include <omp.h>
#endif

namespace kiln::cpu {

// One BLAS call, on the calling thread only.
void sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                         const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
#if defined(KILN_SGEMM)
  KILN_SGEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N), int(K),
             alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
#else
#pragma omp parallel for if (M * N * K > (1 << 18))
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.f ? 0.f : beta * c[j];
    for (int64_t k = 0; k < K; ++k) {
      float a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
      if (tb) {
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
      } else {
        const float* b = B + k * ldb;
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      }
    }
  }
#endif
}

// Blocks of C a GEMM is split into, from its shape alone: never from the thread count, since
// OpenBLAS rounds a block's sums differently for other block shapes, and results must be bitwise
// the same on 1 or N threads (docs/reliability.md, determinism). Powers of two, so 2 threads
// always share evenly; small GEMMs stay whole (fork/join would cost more than it saves).
static int gemm_blocks(int64_t M, int64_t N, int64_t K) {
  int64_t work = M * N * K, extent = std::max(M, N);
  int blocks = work < (int64_t(1) << 19) ? 1 : work < (int64_t(1) << 23) ? 2 : work < (int64_t(1) << 26) ? 4 : 8;
  while (blocks > 1 && extent < 16 * blocks) blocks /= 2;  // each block keeps at least 16 rows or columns
  return blocks;
}

// BLAS runs single-threaded (set once at load, see blas_init); kiln splits a large GEMM into
// row or column blocks of C over its own OpenMP threads instead. One threading runtime means no
// BLAS pool busy-waiting against OpenMP workers: with both active on 2 cores, the guide's MLP
// at batch 32 trained 30x slower (3.7k against 117k samples/s).
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  int blocks = gemm_blocks(M, N, K);
  if (blocks <= 1) {
    sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  bool by_rows = M >= N;
  int64_t extent = by_rows ? M : N;
  int64_t chunk = (extent + blocks - 1) / blocks;
  chunk = (chunk + 15) / 16 * 16;  // keep blocks aligned to BLAS micro-tiles
#pragma omp parallel for schedule(static)
  for (int t = 0; t < blocks; ++t) {
    int64_t b = t * chunk, e = std::min(extent, b + chunk);
    if (b >= e) continue;
    if (by_rows) {
      const float* a = ta ? A + b : A + b * lda;
      sgemm_serial(ta, tb, e - b, N, K, alpha, a, lda, B, ldb, beta, C + b * ldc, ldc);
    } else {
      const float* bb = tb ? B + b * ldb : B + b;
      sgemm_serial(ta, tb, M, e - b, K, alpha, A, lda, bb, ldb, beta, C + b, ldc);
    }
  }
}

// Called once when the core is loaded.
[[maybe_unused]] static const bool blas_single_threaded = [] {
  blas_set_num_threads(1);
  return true;
}();

void blas_set_num_threads(int n) {
#if defined(KILN_BLAS_SCIPY)
  scipy_openblas_set_num_threads(n);
#elif defined(KILN_BLAS_CBLAS)
  if (openblas_set_num_threads) openblas_set_num_threads(n);
#endif
}

std::string blas_name() { return KILN_BLAS_NAME; }

}  // namespace kiln::cpu
