// The epilogue of a GEMM-shaped kernel (dense, conv2d): a bias per column and an activation from
// dense's list (ops/activations.h), applied to each output row while it is still in cache, with
// the same activation math as the elementwise kernels (activations.h).
#pragma once

#include <cstdint>
#include <string>

#include "ops/activations.h"

namespace kiln::cpu {

// The activation named by a kernel's `activation` attribute; ValueError naming `op` otherwise.
ops::Activation epilogue_activation(const std::string& op, const std::string& name);

// row[j] = act(row[j] + b[j]) over one row of N, on the calling thread.
void bias_activation_row(float* row, int64_t N, const float* b, ops::Activation act);

// The activation a gradient kernel takes its result through (`activation` of pool2d_grad,
// conv2d_grad_input): dense's list but softmax; ValueError naming `op` otherwise.
ops::Activation elementwise_activation(const std::string& op, const std::string& name);

// d[j] = <act>_grad(d[j], y[j]) over n values, y being act's result: a gradient taken on through
// the activation that made its operand (pool2d_grad, conv2d_grad_input {activation}), `act`
// as elementwise_activation returned it. Linear leaves d.
void activation_grad_row(float* d, const float* y, int64_t n, ops::Activation act);
// The same over n values split in fixed chunks over the threads.
void activation_grad(float* d, const float* y, int64_t n, ops::Activation act);

// y[i, j] = act(y[i, j] + b[j]) over rows x cols (b may be null); softmax is over each row.
void bias_activation_rows(float* y, int64_t rows, int64_t cols, const float* b, ops::Activation act);

// y [rows, N] = act(x [rows, K] @ w [K, N] + b), b may be null: dense, and conv2d's 1x1 kernels.
// With many rows, each block of rows gets its GEMM and then its epilogue while it is in cache
// (blocks of a fixed size over the threads, so results do not depend on the thread count);
// otherwise one GEMM split by its own shape-fixed blocks, then the epilogue.
void gemm_bias_activation(const float* x, const float* w, int64_t rows, int64_t K, int64_t N, const float* b,
                          ops::Activation act, float* y);

}  // namespace kiln::cpu
