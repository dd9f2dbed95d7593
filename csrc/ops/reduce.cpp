// Reductions over a set of axes (all axes when `axes` is absent), reduce_prod's gradient helper,
// and argmax.
#include <algorithm>

#include "ops/common.h"

namespace kiln::ops {

// Normalized, sorted, de-duplicated reduction axes; all axes when none are given.
std::vector<int64_t> reduction_axes(const Type& x, const Attrs& a) {
  std::vector<int64_t> axes;
  if (!has_attr(a, "axes")) {
    for (int i = 0; i < x.rank(); ++i) axes.push_back(i);
    return axes;
  }
  for (int64_t ax : attr_ints(a, "axes")) axes.push_back(norm_axis(ax, x.rank(), "reduce"));
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) throw ShapeError("an axis is given twice");
  return axes;
}

static std::vector<Type> infer_reduce(const std::vector<Type>& in, const Attrs& a) {
  require_f32(in[0], "operand");
  std::vector<int64_t> axes = reduction_axes(in[0], a);
  bool keep = attr_int(a, "keepdims", 0) != 0;
  Type t{in[0].dtype, {}};
  for (int i = 0; i < in[0].rank(); ++i) {
    bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!r) t.dims.push_back(in[0].dims[i]);
    else if (keep) t.dims.push_back(1);
  }
  return {t};
}

// The cotangent of a reduction, broadcast back to the operand's shape.
static int expand_back(GradBuilder& b, const ir::Node& n, int dy) {
  const Type& x = b.type(n.inputs[0]);
  if (attr_int(n.attrs, "keepdims", 0)) return b.emit("broadcast_like", {dy, n.inputs[0]});
  std::vector<int64_t> axes = reduction_axes(x, n.attrs);
  if (axes.empty()) return dy;
  return b.emit("broadcast_like", {dy, n.inputs[0]}, {{"axes", axes}});
}

KILN_OP(reduce_sum).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer(infer_reduce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{expand_back(b, n, dy[0])};
    });

KILN_OP(reduce_mean).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer(infer_reduce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      // The count may involve the batch size, so divide by it at run time: d = dy / count.
      int g = expand_back(b, n, dy[0]);
      int cnt = b.emit("reduce_count", {n.inputs[0]}, n.attrs);
      return std::vector<int>{b.emit("div", {g, cnt})};
    });

// The number of elements a reduction with these attributes averages over, as an f32 scalar.
KILN_OP(reduce_count).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer([](const std::vector<Type>& in, const Attrs& a) {
  reduction_axes(in[0], a);
  return std::vector<Type>{scalar_f32()};
}).non_differentiable();

static std::vector<int> grad_extreme(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  // The cotangent flows to every element equal to the extreme value.
  int y = expand_back(b, n, n.outputs[0]);
  int hit = b.emit("equal", {n.inputs[0], y});
  return {b.emit("mul", {expand_back(b, n, dy[0]), hit})};
}
KILN_OP(reduce_max).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer(infer_reduce).set_grad(grad_extreme);
KILN_OP(reduce_min).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer(infer_reduce).set_grad(grad_extreme);

KILN_OP(reduce_prod).inputs({"x"}).attrs({"axes", "keepdims"}).set_infer(infer_reduce).set_grad(grad_by("reduce_prod_grad"));

// reduce_prod_grad(dy, x) {axes, keepdims}: each element gets dy times the product of the
// other elements of its group, from prefix and suffix products: exact where x holds zeros,
// which dividing the product by x is not.
KILN_OP(reduce_prod_grad).inputs({"dy", "x"}).attrs({"axes", "keepdims"})
    .set_infer(infer_grad_of(infer_reduce, "reduction")).non_differentiable();

// argmax along one axis (first maximum wins); the index is returned as f32.
KILN_OP(argmax).inputs({"x"}).attrs({"axis"}).set_infer([](const std::vector<Type>& in, const Attrs& a) {
  require_f32(in[0], "operand");
  int ax = norm_axis(attr_int(a, "axis", -1), in[0].rank(), "argmax");
  Type t = in[0];
  t.dims.erase(t.dims.begin() + ax);
  return std::vector<Type>{t};
}).non_differentiable();

}  // namespace kiln::ops
