// The GEMM epilogue (see epilogue.h): bias + activation over output rows, and the GEMM that feeds
// it block by block.
#include "kernels/cpu/epilogue.h"

#include <algorithm>

#include "base/errors.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/small_gemm.h"

namespace kiln::cpu {

ops::Activation epilogue_activation(const std::string& op, const std::string& name) {
  std::optional<ops::Activation> a = ops::dense_activation(name);
  if (!a) throw ValueError("[" + op + "] unsupported activation '" + name + "'");
  return *a;
}

void bias_activation_row(float* row, int64_t N, const float* b, ops::Activation kind) {
  if (!b && kind == ops::Activation::linear) return;
  if (b)
    for (int64_t j = 0; j < N; ++j) row[j] += b[j];
  switch (kind) {
    case ops::Activation::relu:
      for (int64_t j = 0; j < N; ++j) row[j] = act::relu(row[j]);
      break;
    case ops::Activation::sigmoid:
      for (int64_t j = 0; j < N; ++j) row[j] = act::sigmoid(row[j]);
      break;
    case ops::Activation::tanh:
      for (int64_t j = 0; j < N; ++j) row[j] = act::tanh(row[j]);
      break;
    case ops::Activation::softmax:
      softmax_rows(row, 1, N);
      break;
    case ops::Activation::linear:
      break;
  }
}

ops::Activation elementwise_activation(const std::string& op, const std::string& name) {
  std::optional<ops::Activation> a = ops::elementwise_activation(name);
  if (!a) throw ValueError("[" + op + "] unsupported activation '" + name + "' for a gradient taken through it");
  return *a;
}

KILN_VECTOR void activation_grad_row(float* d, const float* y, int64_t n, ops::Activation kind) {
  switch (kind) {
    case ops::Activation::relu:
      for (int64_t j = 0; j < n; ++j) d[j] = act::relu_grad(d[j], y[j]);
      break;
    case ops::Activation::sigmoid:
      for (int64_t j = 0; j < n; ++j) d[j] = act::sigmoid_grad(d[j], y[j]);
      break;
    case ops::Activation::tanh:
      for (int64_t j = 0; j < n; ++j) d[j] = act::tanh_grad(d[j], y[j]);
      break;
    case ops::Activation::softmax:  // elementwise_activation refuses it before any kernel runs
    case ops::Activation::linear:
      break;
  }
}

void activation_grad(float* d, const float* y, int64_t n, ops::Activation kind) {
  if (kind == ops::Activation::linear) return;
  parallel_chunks(n, [&](int64_t b, int64_t e) { activation_grad_row(d + b, y + b, e - b, kind); });
}

void bias_activation_rows(float* y, int64_t rows, int64_t N, const float* b, ops::Activation kind) {
  if (!b && kind == ops::Activation::linear) return;
  if (rows * N <= kParallelMin) {  // no OpenMP region at all: even a one-thread one costs a batch-1 run
    for (int64_t i = 0; i < rows; ++i) bias_activation_row(y + i * N, N, b, kind);
    return;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < rows; ++i) bias_activation_row(y + i * N, N, b, kind);
}

namespace {
constexpr int64_t kEpilogueRows = 256;

// y [n, N] = x [n, K] @ w [K, N] by small_gemm over blocks of w's rows that stay in L2 (256 KiB
// each), accumulating block after block: every element is summed in the same order however the
// rows are split. For a deep K and few columns (Dense(128) on the convnet's 9,216 features at
// batch 128) OpenBLAS reached 47-59 GFLOP/s on one thread where this does 127-145 (bench/README.md).
void deep_small_gemm(const float* x, const float* w, int64_t n, int64_t K, int64_t N, float* y) {
  const int64_t kb = std::max<int64_t>(16, kSmallGemmFloats / N);
  for (int64_t k0 = 0; k0 < K; k0 += kb)
    small_gemm(false, k0 > 0, n, N, std::min(kb, K - k0), x + k0, K, w + k0 * N, N, y, N);
}

// Whether small_gemm takes the product: columns that fill whole 16-float vectors, and all of w in
// L2 or a few hundred columns at most (so a block of w's rows is deep enough to pay for the
// passes over x).
bool small_gemm_fits(int64_t K, int64_t N) { return N % 16 == 0 && (N <= 256 || K * N <= kSmallGemmFloats); }

// Multiply-adds below which a GEMM stays on one thread.
constexpr int64_t kParallelGemm = int64_t(1) << 20;
}  // namespace

void gemm_bias_activation(const float* x, const float* w, int64_t rows, int64_t K, int64_t N, const float* b,
                          ops::Activation act, float* y) {
  if (rows < 2 * kEpilogueRows) {
    if (rows >= 16 && small_gemm_fits(K, N) && K * N > kSmallGemmFloats) {
      // one contiguous run of whole 6-row register blocks per thread (the sums do not depend on it)
      parallel_runs(rows, 6, rows * K * N > kParallelGemm, [&](int64_t r0, int64_t r1) {
        deep_small_gemm(x + r0 * K, w, r1 - r0, K, N, y + r0 * N);
        for (int64_t i = r0; i < r1; ++i) bias_activation_row(y + i * N, N, b, act);
      });
      return;
    }
    sgemm(false, false, rows, N, K, 1.f, x, K, w, N, 0.f, y, N);
    bias_activation_rows(y, rows, N, b, act);
    return;
  }
  const int64_t blocks = (rows + kEpilogueRows - 1) / kEpilogueRows;
  // The register-blocked GEMM where N fills whole 16-float vectors: with all of w in L2, 1024 x
  // 784 x 64 (the guide's MLP) took 6.3 ms per 10k rows against OpenBLAS's 7.1 (one thread);
  // deeper products go block by block of w's rows.
  const bool small = small_gemm_fits(K, N);
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t r0 = blk * kEpilogueRows, n = std::min(kEpilogueRows, rows - r0);
    if (small) deep_small_gemm(x + r0 * K, w, n, K, N, y + r0 * N);
    else sgemm_serial(false, false, n, N, K, 1.f, x + r0 * K, K, w, N, 0.f, y + r0 * N, N);
    for (int64_t i = 0; i < n; ++i) bias_activation_row(y + (r0 + i) * N, N, b, act);
  }
}

}  // namespace kiln::cpu
