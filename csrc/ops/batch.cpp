// Batch-dim plumbing: folding a time axis into the batch and back (for TimeDistributed), the
// run-time shape of a tensor (K.shape), and assign (K.function updates).
//
// Folding: merge_batch(x) turns
// [?*k, T, ...] into [?*(k*T), ...] and split_batch(x) {size=T} undoes it. Row-major layout makes
// both pure re-labelings of the same elements; each is the other's gradient.
#include "ops/common.h"

namespace kiln::ops {

KILN_OP(merge_batch).inputs({"x"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  const Type& x = in[0];
  if (x.rank() < 2 || !ir::is_batch(x.dims[0]) || ir::is_batch(x.dims[1]) || x.dims[1] < 1)
    throw ShapeError("expected [?, T, ...] with a known T >= 1, got " + x.str());
  Type t{x.dtype, {x.dims[0] * x.dims[1]}};
  t.dims.insert(t.dims.end(), x.dims.begin() + 2, x.dims.end());
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("split_batch", {dy[0]}, {{"size", b.type(n.inputs[0]).dims[1]}})};
});

KILN_OP(split_batch).inputs({"x"}).attr_int("size").set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  int64_t size = a.get_int("size");
  if (size < 1) throw ValueError("size must be >= 1, got " + std::to_string(size));
  if (x.rank() < 1 || !ir::is_batch(x.dims[0]) || (-x.dims[0]) % size != 0)
    throw ShapeError("expected a first dim ?*k with k a multiple of size=" + std::to_string(size) + ", got " + x.str());
  Type t{x.dtype, {x.dims[0] / size, size}};
  t.dims.insert(t.dims.end(), x.dims.begin() + 1, x.dims.end());
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node&, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("merge_batch", {dy[0]})};
});

// assign(dst, src): dst (a param or state) takes src's value; K.function(updates=...) lowers
// each update to one, after every other node.
KILN_OP(assign).inputs({"dst", "src"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  require_same(in[0], in[1], "dst and src");
  return std::vector<Type>{};
}).effect({0});

}  // namespace kiln::ops

namespace kiln::ops {

// shape_of(x): x's dims at run time as f32[rank] (batch dims concrete), for K.shape.
KILN_OP(shape_of).inputs({"x"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  return std::vector<Type>{Type{ir::DType::f32, {in[0].rank()}}};
}).non_differentiable();

}  // namespace kiln::ops
