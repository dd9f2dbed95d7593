// The activations dense applies to its result: one list, read by the dense schema (which
// accepts its `activation` from it), the fusion pass (which folds the op after a matmul into
// dense when its name is here) and the CPU dense kernel. Each has a derivative written from the
// result alone (`<name>_grad(dy, y)`, and softmax_grad on the last axis for softmax), which is
// what lets a fused dense keep only y for the backward pass; an activation whose derivative
// needs x (softplus, softsign, hard_sigmoid) or an attribute (elu) does not belong here. The
// math of each lives in kernels/cpu/activations.h.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace kiln::ops {

enum class Activation { linear, relu, sigmoid, tanh, softmax };

struct NamedActivation {
  const char* name;  // the `activation` value, and the name of the op it stands for (but linear)
  Activation activation;
};

inline constexpr NamedActivation kDenseActivations[] = {
    {"linear", Activation::linear}, {"relu", Activation::relu},       {"sigmoid", Activation::sigmoid},
    {"tanh", Activation::tanh},     {"softmax", Activation::softmax},
};

// The activation called `name`, or none when dense has no such activation.
inline std::optional<Activation> dense_activation(const std::string& name) {
  for (const NamedActivation& a : kDenseActivations)
    if (name == a.name) return a.activation;
  return std::nullopt;
}

// "linear, relu, sigmoid, tanh, softmax", for messages; without softmax when `elementwise_only`.
inline std::string dense_activation_names(bool elementwise_only = false) {
  std::string s;
  for (const NamedActivation& a : kDenseActivations)
    if (!elementwise_only || a.activation != Activation::softmax) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

// The `activation` a gradient op takes its result through (pool2d_grad, conv2d_grad_input:
// dx = <name>_grad(dx, x), x being that activation's result, as passes/fuse_grad.cpp folds it
// in): dense's list but softmax, whose derivative is not elementwise. None for other names.
inline std::optional<Activation> elementwise_activation(const std::string& name) {
  std::optional<Activation> a = dense_activation(name);
  if (a && *a == Activation::softmax) return std::nullopt;
  return a;
}

// The activations the fused recurrent ops (lstm, gru, simple_rnn) apply, as `activation` and
// `inner_activation`: one list, read by their schemas and their CPU kernels. Each derivative is
// written from the activation's result alone (the recurrent kernels keep only the activated
// gates for the backward pass).
enum class RecurrentActivation { linear, relu, sigmoid, hard_sigmoid, tanh, softsign, softplus, elu };

inline constexpr std::pair<const char*, RecurrentActivation> kRecurrentActivations[] = {
    {"linear", RecurrentActivation::linear},     {"relu", RecurrentActivation::relu},
    {"sigmoid", RecurrentActivation::sigmoid},   {"hard_sigmoid", RecurrentActivation::hard_sigmoid},
    {"tanh", RecurrentActivation::tanh},         {"softsign", RecurrentActivation::softsign},
    {"softplus", RecurrentActivation::softplus}, {"elu", RecurrentActivation::elu},
};

inline std::optional<RecurrentActivation> recurrent_activation(const std::string& name) {
  for (const auto& [n, a] : kRecurrentActivations)
    if (name == n) return a;
  return std::nullopt;
}

inline std::string recurrent_activation_names() {
  std::string s;
  for (const auto& [n, a] : kRecurrentActivations) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

}  // namespace kiln::ops
