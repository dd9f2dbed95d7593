// Register-blocked small GEMM (see small_gemm.h): R rows by 32 columns of C stay in registers
// over all of K, B's two vectors per k are loaded once for the R rows, A's entries broadcast.
#include "kernels/cpu/small_gemm.h"

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec16.h"

namespace kiln::cpu {
namespace {

// Rows [i, i + R), columns [j, j + 16 * NV).
template <int R, int NV, bool TA, bool ACC>
__attribute__((always_inline)) inline void block(int64_t i, int64_t j, int64_t K, const float* A, int64_t lda,
                                                 const float* B, int64_t ldb, float* C, int64_t ldc) {
  v16 c[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) c[r][v] = ACC ? load16(C + (i + r) * ldc + j + 16 * v) : v16{};
  for (int64_t k = 0; k < K; ++k) {
    v16 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = load16(B + k * ldb + j + 16 * v);
    for (int r = 0; r < R; ++r) {
      float a = TA ? A[k * lda + i + r] : A[(i + r) * lda + k];
      for (int v = 0; v < NV; ++v) c[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) store16(C + (i + r) * ldc + j + 16 * v, c[r][v]);
}

template <int NV, bool TA, bool ACC>
__attribute__((always_inline)) inline void column_block(int64_t M, int64_t j, int64_t K, const float* A, int64_t lda,
                                                        const float* B, int64_t ldb, float* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 6 <= M; i += 6) block<6, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc);
  if (i + 4 <= M) block<4, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc), i += 4;  // leftover rows in as few
  if (i + 2 <= M) block<2, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc), i += 2;  // passes over B as fit
  if (i < M) block<1, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc);
}

template <bool TA, bool ACC>
__attribute__((always_inline)) inline void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                                const float* B, int64_t ldb, float* C, int64_t ldc) {
  int64_t j = 0;
  for (; j + 32 <= N; j += 32) column_block<2, TA, ACC>(M, j, K, A, lda, B, ldb, C, ldc);
  for (; j + 16 <= N; j += 16) column_block<1, TA, ACC>(M, j, K, A, lda, B, ldb, C, ldc);
  if (j < N)  // the last columns, when N is not a multiple of 16
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      if (!ACC)
        for (int64_t q = j; q < N; ++q) c[q] = 0.f;
      for (int64_t k = 0; k < K; ++k) {
        float a = TA ? A[k * lda + i] : A[i * lda + k];
        for (int64_t q = j; q < N; ++q) c[q] += a * B[k * ldb + q];
      }
    }
}

}  // namespace

KILN_VECTOR void small_gemm(bool trans_a, bool accumulate, int64_t M, int64_t N, int64_t K, const float* A,
                            int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc) {
  if (trans_a)
    accumulate ? gemm<true, true>(M, N, K, A, lda, B, ldb, C, ldc) : gemm<true, false>(M, N, K, A, lda, B, ldb, C, ldc);
  else
    accumulate ? gemm<false, true>(M, N, K, A, lda, B, ldb, C, ldc) : gemm<false, false>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace kiln::cpu
