// Bias + activation over output rows (see epilogue.h).
#include "kernels/cpu/epilogue.h"

#include "base/errors.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/kernel.h"

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

void bias_activation_rows(float* y, int64_t rows, int64_t N, const float* b, ops::Activation kind) {
  if (!b && kind == ops::Activation::linear) return;
#pragma omp parallel for if (rows * N > kParallelMin)
  for (int64_t i = 0; i < rows; ++i) bias_activation_row(y + i * N, N, b, kind);
}

}  // namespace kiln::cpu
