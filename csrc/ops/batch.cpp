// Batch-dim plumbing: folding a time axis into the batch and back (for TimeDistributed), fixing
// the batch to a size and freeing it (stateful layers), the run-time shape of a tensor
// (K.shape), and assign (K.function updates).
//
// Folding: merge_batch(x) turns
// [?*k, T, ...] into [?*(k*T), ...] and split_batch(x) {size=T} undoes it; T may be a named
// dynamic dim (`[?, ?t, d]` -> `[?*?t, d]`, undone by split_batch(y, x) with x's T). Row-major
// layout makes both pure re-labelings of the same elements; each is the other's gradient.
#include "ops/common.h"

namespace kiln::ops {

KILN_OP(merge_batch).inputs({"x"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  const Type& x = in[0];
  bool time_ok = x.rank() >= 2 && (ir::is_named(x.dims[1]) || x.dims[1] >= 1);
  if (x.rank() < 2 || !ir::has_batch(x.dims[0]) || ir::has_name(x.dims[0]) || !time_ok)
    throw ShapeError("expected [?, T, ...] with T a known size >= 1 or a named dim ?t, got " + x.str());
  Type t{x.dtype, {ir::dim_product(x.dims[0], x.dims[1])}};
  t.dims.insert(t.dims.end(), x.dims.begin() + 2, x.dims.end());
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  if (b.type(n.inputs[0]).dims[1] < 0) return std::vector<int>{b.emit("split_batch", {dy[0], n.inputs[0]})};
  return std::vector<int>{b.emit("split_batch", {dy[0]}, {{"size", b.type(n.inputs[0]).dims[1]}})};
}).view_of_first();

// split_batch(x) {size=T}, or split_batch(x, like) with T like's second dim (static or ?t; like's
// data is not read).
KILN_OP(split_batch).inputs({"x", "like"}, 1).attr_int("size", WhenAbsent{"T is like's second dim"})
    .set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  if ((in.size() == 2) == a.has("size"))
    throw ValueError("give the split-off size either as size= or as the second operand like, not both or neither");
  int64_t T;
  if (in.size() == 2) {
    if (in[1].rank() < 2) throw ShapeError("like must be [?, T, ...], got " + in[1].str());
    T = in[1].dims[1];
  } else {
    T = a.get_int("size");
    if (T < 1) throw ValueError("size must be >= 1, got " + std::to_string(T));
  }
  std::string want = "expected a first dim ?*k with k a multiple of size=" + ir::dim_text(T) + ", got " + x.str();
  if (x.rank() < 1 || !ir::has_batch(x.dims[0]) || (T >= 0 && T > ir::kMaxDimFactor) || T == 0) throw ShapeError(want);
  ir::DimParts p = ir::dim_parts(x.dims[0]), q = ir::dim_parts(T >= 0 ? ir::make_dim({true, 0, T}) : T);
  if (q.batch && T < 0) throw ShapeError(want);
  if (p.name != q.name || p.factor % q.factor != 0) throw ShapeError(want);
  Type t{x.dtype, {ir::make_dim({true, 0, p.factor / q.factor}), T}};
  t.dims.insert(t.dims.end(), x.dims.begin() + 1, x.dims.end());
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  std::vector<int> d{b.emit("merge_batch", {dy[0]})};
  if (n.inputs.size() == 2) d.push_back(-1);
  return d;
}).view_of_first();

// fix_batch(x) {size=B}: [?, ...] -> [B, ...], and free_batch(x): [B, ...] -> [?, ...]. The same
// elements; the kernels check at run time that the batch is B. A stateful recurrent layer keeps
// its states as [B, u] state tensors and meets the batched graph through these two.
KILN_OP(fix_batch).inputs({"x"}).attr_int("size").set_infer([](const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  int64_t size = a.get_int("size");
  if (size < 1) throw ValueError("size must be >= 1, got " + std::to_string(size));
  if (x.rank() < 1 || x.dims[0] != ir::kBatch) throw ShapeError("expected a first dim ?, got " + x.str());
  Type t = x;
  t.dims[0] = size;
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node&, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("free_batch", {dy[0]})};
});

KILN_OP(free_batch).inputs({"x"}).set_infer([](const std::vector<Type>& in, const AttrReader&) {
  const Type& x = in[0];
  if (x.rank() < 1 || x.dims[0] < 1) throw ShapeError("expected a static first dim (the batch size), got " + x.str());
  Type t = x;
  t.dims[0] = ir::kBatch;
  return std::vector<Type>{t};
}).set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  return std::vector<int>{b.emit("fix_batch", {dy[0]}, {{"size", b.type(n.inputs[0]).dims[0]}})};
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
