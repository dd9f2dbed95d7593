// Fused cross-entropy losses, per sample (the last axis is reduced), with Keras 1 semantics:
// the output is renormalized to sum 1 along the last axis and clipped to [eps, 1-eps] before
// the log. Other losses are composed from small ops by the front end.
#include "ops/common.h"

namespace kiln::ops {

// The clip bound eps of both losses when the node gives none: Keras' K.epsilon().
constexpr double kEpsilon = 1e-7;

static Type drop_last(const Type& t) {
  Type r = t;
  r.dims.pop_back();
  return r;
}

static std::vector<Type> infer_cce(const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "target");
  require_f32(in[1], "output");
  if (in[1].rank() < 1) throw ShapeError("output must have rank >= 1, got " + in[1].str());
  if (in[0].dims != in[1].dims)
    throw ShapeError("target " + in[0].str() + " and output " + in[1].str() + " must have the same shape");
  return {drop_last(in[1])};
}

static std::vector<Type> infer_scce(const std::vector<Type>& in, const AttrReader&) {
  require_f32(in[0], "target");
  require_f32(in[1], "output");
  if (in[1].rank() < 1) throw ShapeError("output must have rank >= 1, got " + in[1].str());
  Type want = drop_last(in[1]);
  Type want1 = want;
  want1.dims.push_back(1);
  if (in[0].dims != want.dims && in[0].dims != want1.dims)
    throw ShapeError("target " + in[0].str() + " must be " + want.str() + " or " + want1.str() + " (class indices) for output " + in[1].str());
  return {want};
}

KILN_OP(categorical_crossentropy).inputs({"target", "output"}).attr_float("epsilon", kEpsilon).set_infer(infer_cce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{-1, b.emit("categorical_crossentropy_grad", {dy[0], n.inputs[0], n.inputs[1]}, n.attrs)};
    });

KILN_OP(categorical_crossentropy_grad).inputs({"dy", "target", "output"}).attrs_like("categorical_crossentropy").set_infer(
    [](const std::vector<Type>& in, const AttrReader& a) {
      if (infer_cce({in[1], in[2]}, a)[0] != in[0]) throw ShapeError("cotangent " + in[0].str() + " does not match the loss");
      return std::vector<Type>{in[2]};
    }).non_differentiable();

KILN_OP(sparse_categorical_crossentropy).inputs({"target", "output"}).attr_float("epsilon", kEpsilon).set_infer(infer_scce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{-1, b.emit("sparse_categorical_crossentropy_grad", {dy[0], n.inputs[0], n.inputs[1]}, n.attrs)};
    });

KILN_OP(sparse_categorical_crossentropy_grad).inputs({"dy", "target", "output"})
    .attrs_like("sparse_categorical_crossentropy").set_infer(
    [](const std::vector<Type>& in, const AttrReader& a) {
      if (infer_scce({in[1], in[2]}, a)[0] != in[0]) throw ShapeError("cotangent " + in[0].str() + " does not match the loss");
      return std::vector<Type>{in[2]};
    }).non_differentiable();

}  // namespace kiln::ops
