// Register-blocked small GEMM (see small_gemm.h): R rows by two vectors' columns of C stay in
// registers over all of K, B's two vectors per k are loaded once for the R rows, A's entries
// broadcast.
#include "kernels/cpu/small_gemm.h"

#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec16.h"

namespace kiln::cpu {
namespace {

typedef float v8 __attribute__((vector_size(32)));

template <typename V>
__attribute__((always_inline)) inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
__attribute__((always_inline)) inline void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Rows [i, i + R), columns [j, j + W * NV), W the floats of one V.
template <typename V, int R, int NV, bool TA, bool ACC>
__attribute__((always_inline)) inline void block(int64_t i, int64_t j, int64_t K, const float* A, int64_t lda,
                                                 const float* B, int64_t ldb, float* C, int64_t ldc) {
  constexpr int W = sizeof(V) / sizeof(float);
  V c[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) c[r][v] = ACC ? load<V>(C + (i + r) * ldc + j + W * v) : V{};
  for (int64_t k = 0; k < K; ++k) {
    V b[NV];
    for (int v = 0; v < NV; ++v) b[v] = load<V>(B + k * ldb + j + W * v);
    for (int r = 0; r < R; ++r) {
      float a = TA ? A[k * lda + i + r] : A[(i + r) * lda + k];
      for (int v = 0; v < NV; ++v) c[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) store<V>(C + (i + r) * ldc + j + W * v, c[r][v]);
}

template <typename V, int NV, bool TA, bool ACC>
__attribute__((always_inline)) inline void column_block(int64_t M, int64_t j, int64_t K, const float* A, int64_t lda,
                                                        const float* B, int64_t ldb, float* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 6 <= M; i += 6) block<V, 6, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc);
  if (i + 4 <= M) block<V, 4, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc), i += 4;  // leftover rows in as few
  if (i + 2 <= M) block<V, 2, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc), i += 2;  // passes over B as fit
  if (i < M) block<V, 1, NV, TA, ACC>(i, j, K, A, lda, B, ldb, C, ldc);
}

// The accumulators as registers hold them: 16-float vectors where a register is one (AVX-512: 6
// rows x 32 columns in 12 of its 32 registers), 8-float ones otherwise (AVX2: 6 x 16 in 12 of 16).
// GCC lowers a 16-float vector on AVX2 to pieces through the stack: the 16-float blocks measured
// 14x slower than the 8-float ones on an AVX2-only EPYC.
inline bool wide_vectors() {
  static const bool wide = __builtin_cpu_supports("avx512f");
  return wide;
}

template <typename V, bool TA, bool ACC>
__attribute__((always_inline)) inline int64_t columns(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                                      const float* B, int64_t ldb, float* C, int64_t ldc) {
  constexpr int W = sizeof(V) / sizeof(float);
  int64_t j = 0;
  for (; j + 2 * W <= N; j += 2 * W) column_block<V, 2, TA, ACC>(M, j, K, A, lda, B, ldb, C, ldc);
  for (; j + W <= N; j += W) column_block<V, 1, TA, ACC>(M, j, K, A, lda, B, ldb, C, ldc);
  return j;
}

template <bool TA, bool ACC>
__attribute__((always_inline)) inline void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                                const float* B, int64_t ldb, float* C, int64_t ldc) {
  int64_t j = wide_vectors() ? columns<v16, TA, ACC>(M, N, K, A, lda, B, ldb, C, ldc)
                             : columns<v8, TA, ACC>(M, N, K, A, lda, B, ldb, C, ldc);
  if (j < N)  // the last columns, when N is not a multiple of the vector width
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
