// The math of each activation and of its derivative helper, defined once and inlined into every
// loop that applies it: the elementwise kernels and their *_grad helpers (elementwise.cpp) and
// the fused dense (linalg.cpp). Which activations dense applies is ops/activations.h's list.
// Derivatives take what the schema saves: the result y for relu, sigmoid, tanh and elu, the
// operand x for softplus, softsign and hard_sigmoid.
//
// sigmoid and tanh use vmath.h's branch-free exp (about 1 ulp), which compilers vectorize:
// libm's scalar calls do not, and they were most of the recurrent kernels' gate time.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/vmath.h"

namespace kiln::cpu {

// Softmax of each of `rows` contiguous rows of `cols` values, in place (softmax.cpp).
void softmax_rows(float* y, int64_t rows, int64_t cols);

namespace act {

inline float relu(float x) { return x > 0 ? x : 0.f; }
inline float relu_grad(float dy, float y) { return y > 0 ? dy : 0.f; }

inline float sigmoid(float x) { return vmath::sigmoid(x); }
inline float sigmoid_grad(float dy, float y) { return dy * y * (1.f - y); }

inline float tanh(float x) { return vmath::tanh(x); }
inline float tanh_grad(float dy, float y) { return dy * (1.f - y * y); }

// alpha * (e^x - 1) below 0; from the result, dy/dx = alpha * e^x = y + alpha there.
inline float elu(float x, float alpha) { return x > 0 ? x : alpha * std::expm1(x); }
inline float elu_grad(float dy, float y, float alpha) { return y > 0 ? dy : dy * (y + alpha); }

// log(1 + e^x), written so that neither branch overflows.
inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline float softplus_grad(float dy, float x) { return dy * sigmoid(x); }

inline float softsign(float x) { return x / (1.f + std::fabs(x)); }
inline float softsign_grad(float dy, float x) { return dy / ((1.f + std::fabs(x)) * (1.f + std::fabs(x))); }

// Keras' piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1).
inline float hard_sigmoid(float x) { return std::fmin(std::fmax(0.2f * x + 0.5f, 0.f), 1.f); }
inline float hard_sigmoid_grad(float dy, float x) { return (x > -2.5f && x < 2.5f) ? 0.2f * dy : 0.f; }

// Derivatives from the result y alone, where the helpers above take x (the recurrent kernels
// keep only activated gates): softplus' = sigmoid(x) = 1 - e^-y; softsign' = 1 / (1 + |x|)^2
// = (1 - |y|)^2; hard_sigmoid' = 0.2 strictly inside the ramp, i.e. for 0 < y < 1.
inline float softplus_grad_from_y(float dy, float y) { return dy * -std::expm1(-y); }
inline float softsign_grad_from_y(float dy, float y) { return dy * (1.f - std::fabs(y)) * (1.f - std::fabs(y)); }
inline float hard_sigmoid_grad_from_y(float dy, float y) { return (y > 0.f && y < 1.f) ? 0.2f * dy : 0.f; }

}  // namespace act
}  // namespace kiln::cpu
