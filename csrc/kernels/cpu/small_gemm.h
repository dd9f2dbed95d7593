// A register-blocked GEMM for the small, repeated products where BLAS spends more time packing
// its operands on every call than multiplying them: the recurrences' per-step product (M a
// batch block, K and N a few hundred) and the Winograd convolutions' products per tile element
// (M a block of tiles, K and N the channel counts). No threads: callers split the work.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// The floats of B that stay in L2 over a call (256 KiB): callers with more split K into blocks.
constexpr int64_t kSmallGemmFloats = int64_t(1) << 16;

// C[M x N] (row stride ldc) = (accumulate ? C : 0) + op(A) x B[K x N] (ldb), all row-major, where
// op(A) is A [M x K] (lda), or with trans_a the transpose of A [K x M] (lda).
void small_gemm(bool trans_a, bool accumulate, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, float* C, int64_t ldc);

}  // namespace kiln::cpu
