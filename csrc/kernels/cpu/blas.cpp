// GEMM through scipy-openblas32 (prefixed symbols), a system CBLAS, or a naive OpenMP loop
// when neither was found at build time (correct, about 8x slower).
#include "kernels/cpu/gemm.h"

#if defined(KILN_BLAS_SCIPY)
#include <cblas.h>
#define KILN_SGEMM scipy_cblas_sgemm
#elif defined(KILN_BLAS_CBLAS)
#include <cblas.h>
#define KILN_SGEMM cblas_sgemm
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
#endif

namespace kiln::cpu {

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
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

void blas_set_num_threads(int n) {
#if defined(KILN_BLAS_SCIPY)
  scipy_openblas_set_num_threads(n);
#elif defined(KILN_BLAS_CBLAS)
  if (openblas_set_num_threads) openblas_set_num_threads(n);
#endif
}

std::string blas_name() { return KILN_BLAS_NAME; }

}  // namespace kiln::cpu
