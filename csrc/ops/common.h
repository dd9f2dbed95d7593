// Small building blocks shared by schema files: common inference rules.
#pragma once

#include "ops/registry.h"

namespace kiln::ops {

using ir::attr_float;
using ir::attr_int;
using ir::attr_ints;
using ir::attr_str;
using ir::has_attr;

// Result has operand i's type.
inline InferFn same_as(int i) {
  return [i](const std::vector<Type>& in, const Attrs&) { return std::vector<Type>{in[i]}; };
}

inline void require_f32(const Type& t, const char* what) {
  if (t.dtype != ir::DType::f32) throw ShapeError(std::string(what) + " must be f32, got " + t.str());
}

inline void require_same(const Type& a, const Type& b, const char* what) {
  if (a != b) throw ShapeError(std::string(what) + " must have the same type, got " + a.str() + " and " + b.str());
}

inline Type scalar_f32() { return Type{ir::DType::f32, {}}; }

}  // namespace kiln::ops
