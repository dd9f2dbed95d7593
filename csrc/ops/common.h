// Small building blocks shared by schema files: common inference rules.
#pragma once

#include "ops/activations.h"
#include "ops/registry.h"

namespace kiln::ops {

// Result has operand i's type.
inline InferFn same_as(int i) {
  return [i](const std::vector<Type>& in, const AttrReader&) { return std::vector<Type>{in[i]}; };
}

inline void require_f32(const Type& t, const char* what) {
  if (t.dtype != ir::DType::f32) throw ShapeError(std::string(what) + " must be f32, got " + t.str());
}

inline void require_same(const Type& a, const Type& b, const char* what) {
  if (a != b) throw ShapeError(std::string(what) + " must have the same type, got " + a.str() + " and " + b.str());
}

inline Type scalar_f32() { return Type{ir::DType::f32, {}}; }

// A gradient op's `activation` (pool2d_grad, conv2d_grad_input): one whose derivative is
// elementwise from its result (ops/activations.h), else ValueError.
inline void check_elementwise_activation(const AttrReader& a) {
  std::string act = a.get_str("activation");
  if (!elementwise_activation(act))
    throw ValueError("unsupported activation '" + act + "' for a gradient taken through it (accepted: " +
                     dense_activation_names(true) + ")");
}

// The type rule of a gradient helper f_grad(dy, x) {attrs}: dy must have the type `forward`
// infers for x with these attributes (`what` names that result); the result has x's type. The
// helper declares its forward op's attributes (Schema::attrs_like), so `forward` reads them.
inline InferFn infer_grad_of(InferFn forward, const char* what) {
  std::string w = what;
  return [forward, w](const std::vector<Type>& in, const AttrReader& a) {
    Type y = forward({in[1]}, a)[0];
    if (in[0] != y)
      throw ShapeError("cotangent " + in[0].str() + " does not match the " + w + " " + y.str() + " of " + in[1].str());
    return std::vector<Type>{in[1]};
  };
}

// A unary op's gradient written as one helper op: helper(dy, x) with the node's attributes.
inline GradFn grad_by(const char* helper) {
  std::string h = helper;
  return [h](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
    return std::vector<int>{b.emit(h, {dy[0], n.inputs[0]}, n.attrs)};
  };
}

// An integer list as the IR prints it: [2,-1,3].
inline std::string ints_str(const std::vector<int64_t>& xs) {
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? "," : "") + std::to_string(xs[i]);
  return s + "]";
}

// Dim arithmetic on attributes from untrusted IR: a ShapeError instead of a silent overflow
// (the verifier's 2^40 cap applies to declared types, not to what inference computes on the way).
inline int64_t mul_dims(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > (int64_t(1) << 62))
    throw ShapeError(std::to_string(a) + " x " + std::to_string(b) + " elements is more than 2^62");
  return r;
}
inline int64_t add_dims(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r) || r > (int64_t(1) << 62))
    throw ShapeError(std::to_string(a) + " + " + std::to_string(b) + " elements is more than 2^62");
  return r;
}

}  // namespace kiln::ops
