// Row-major single-precision GEMM behind BLAS: C = alpha * op(A) @ op(B) + beta * C.
// Only csrc/kernels/cpu/blas.cpp includes cblas.h.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::cpu {

// Splits a large GEMM into blocks of C over kiln's OpenMP threads (blocks fixed by the shape).
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// The same on the calling thread only: for kernels that split the work themselves.
void sgemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void blas_set_num_threads(int n);
std::string blas_name();

}  // namespace kiln::cpu
