// Reductions over a set of axes (all axes when `axes` is absent), reduce_prod's gradient helper,
// and argmax.
#include <algorithm>

#include "ops/common.h"
#include "ops/ranges.h"

namespace kiln::ops {

std::vector<int64_t> reduction_axes(int rank, const AttrReader& a) {
  std::vector<int64_t> axes;
  if (!a.has("axes")) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
    return axes;
  }
  for (int64_t ax : a.get_ints("axes")) axes.push_back(norm_axis(ax, rank, "reduce"));
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) throw ShapeError("an axis is given twice");
  return axes;
}

// reduce_*(x) {axes, keepdims=0}, and the helpers that share those attributes.
static void reduction_attrs(Schema& s) { s.attr_ints("axes", WhenAbsent{"every axis"}).attr_bool("keepdims", false); }

static std::vector<Type> infer_reduce(const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "operand");
  std::vector<int64_t> axes = reduction_axes(in[0].rank(), a);
  bool keep = a.get_bool("keepdims");
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
  AttrReader a = attrs_of(n);
  if (a.get_bool("keepdims")) return b.emit("broadcast_like", {dy, n.inputs[0]});
  std::vector<int64_t> axes = reduction_axes(x.rank(), a);
  if (axes.empty()) return dy;
  return b.emit("broadcast_like", {dy, n.inputs[0]}, {{"axes", axes}});
}

KILN_OP(reduce_sum).inputs({"x"}).with(reduction_attrs).set_infer(infer_reduce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{expand_back(b, n, dy[0])};
    });

KILN_OP(reduce_mean).inputs({"x"}).with(reduction_attrs).set_infer(infer_reduce).set_grad(
    [](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      // The count may involve the batch size, so divide by it at run time: d = dy / count.
      int g = expand_back(b, n, dy[0]);
      int cnt = b.emit("reduce_count", {n.inputs[0]}, n.attrs);
      return std::vector<int>{b.emit("div", {g, cnt})};
    });

// The number of elements a reduction with these attributes averages over, as an f32 scalar.
KILN_OP(reduce_count).inputs({"x"}).with(reduction_attrs).set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  reduction_axes(in[0].rank(), a);
  return std::vector<Type>{scalar_f32()};
}).non_differentiable();

static std::vector<int> grad_extreme(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  // The cotangent flows to every element equal to the extreme value.
  int y = expand_back(b, n, n.outputs[0]);
  int hit = b.emit("equal", {n.inputs[0], y});
  return {b.emit("mul", {expand_back(b, n, dy[0]), hit})};
}
KILN_OP(reduce_max).inputs({"x"}).with(reduction_attrs).set_infer(infer_reduce).set_grad(grad_extreme);
KILN_OP(reduce_min).inputs({"x"}).with(reduction_attrs).set_infer(infer_reduce).set_grad(grad_extreme);

KILN_OP(reduce_prod).inputs({"x"}).with(reduction_attrs).set_infer(infer_reduce).set_grad(grad_by("reduce_prod_grad"));

// reduce_prod_grad(dy, x) {axes, keepdims}: each element gets dy times the product of the
// other elements of its group, from prefix and suffix products: exact where x holds zeros,
// which dividing the product by x is not.
KILN_OP(reduce_prod_grad).inputs({"dy", "x"}).with(reduction_attrs)
    .set_infer(infer_grad_of(infer_reduce, "reduction")).non_differentiable();

// argmax along one axis (first maximum wins); the index is returned as f32.
KILN_OP(argmax).inputs({"x"}).attr_int("axis", -1).set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "operand");
  int ax = norm_axis(a.get_int("axis"), in[0].rank(), "argmax");
  Type t = in[0];
  t.dims.erase(t.dims.begin() + ax);
  return std::vector<Type>{t};
}).non_differentiable();

}  // namespace kiln::ops
