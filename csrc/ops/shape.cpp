// Ops that move elements without arithmetic: reshape, transpose, concat, slice (and slice's
// gradient helper). The batch dim `?` may move (transpose) but is never split, merged or cut:
// reshape keeps it first, concat and slice refuse it as their axis.
#include <algorithm>

#include "ops/common.h"
#include "ops/ranges.h"

namespace kiln::ops {
namespace {

// reshape(x) {shape}: x [?, S...] -> [?, shape...] when x is batched (shape lists the dims of
// one sample), x [S...] -> [shape...] otherwise. One -1 in shape is inferred from the element
// count (per sample when batched), as NumPy's reshape does.
std::vector<Type> infer_reshape(const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  require_f32(x, "operand");
  std::vector<int64_t> shape = a.get_ints("shape");
  bool batched = x.rank() > 0 && ir::is_batch(x.dims[0]);
  std::string want = batched ? "[?," + ints_str(shape).substr(1) : ints_str(shape);
  if (batched && shape.empty()) want = "[?]";
  int64_t n = 1;
  for (int i = batched ? 1 : 0; i < x.rank(); ++i) {
    if (ir::is_batch(x.dims[i]))
      throw ShapeError("the batch dim ? must be the first dim of a reshaped operand, got " + x.str());
    n = mul_dims(n, x.dims[i]);
  }
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0) throw ShapeError("shape " + want + " has more than one -1");
      infer_at = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ShapeError("shape " + want + " has a negative dim other than -1");
    } else {
      known = mul_dims(known, shape[i]);
    }
  }
  const char* per = batched ? " per sample" : "";
  if (infer_at >= 0) {
    if (known == 0 || n % known != 0)
      throw ShapeError("cannot reshape " + x.str() + " to " + want + ": expected the dims other than -1 to divide " +
                       std::to_string(n) + " elements" + per + ", got a product of " + std::to_string(known));
    shape[infer_at] = n / known;
  } else if (known != n) {
    throw ShapeError("cannot reshape " + x.str() + " to " + want + ": expected " + std::to_string(n) + " elements" +
                     per + ", the shape holds " + std::to_string(known));
  }
  Type t{x.dtype, {}};
  if (batched) t.dims.push_back(x.dims[0]);  // the batch dim, with its multiple (?*k)
  t.dims.insert(t.dims.end(), shape.begin(), shape.end());
  return {t};
}

std::vector<int> grad_reshape(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  std::vector<int64_t> dims = b.type(n.inputs[0]).dims;
  if (!dims.empty() && ir::is_batch(dims[0])) dims.erase(dims.begin());
  return {b.emit("reshape", {dy[0]}, {{"shape", dims}})};
}

// transpose(x) {perm}: result dim i is x's dim perm[i]; perm orders all of x's axes.
std::vector<Type> infer_transpose(const std::vector<Type>& in, const AttrReader& a) {
  const Type& x = in[0];
  require_f32(x, "operand");
  std::vector<int64_t> perm = a.get_ints("perm");
  int r = x.rank();
  std::vector<bool> seen(r, false);
  bool ok = static_cast<int>(perm.size()) == r;
  for (int64_t p : perm) {
    ok = ok && p >= 0 && p < r && !seen[p];
    if (ok) seen[p] = true;
  }
  if (!ok)
    throw ShapeError("perm " + ints_str(perm) + " must list each of the " + std::to_string(r) + " axes of " + x.str() +
                     " once, counting from 0");
  Type t = x;
  for (int i = 0; i < r; ++i) t.dims[i] = x.dims[perm[i]];
  return {t};
}

std::vector<int> grad_transpose(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  std::vector<int64_t> perm = attrs_of(n).get_ints("perm"), inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int64_t>(i);
  return {b.emit("transpose", {dy[0]}, {{"perm", inv}})};
}

std::string all_shapes(const std::vector<Type>& in) {
  std::string s;
  for (const Type& t : in) s += (s.empty() ? "" : ", ") + t.str();
  return s;
}

// concat(x0, x1, ...) {axis}: operands of one rank that agree on every dim but `axis`, joined
// along it. The axis may not be the batch dim.
std::vector<Type> infer_concat(const std::vector<Type>& in, const AttrReader& a) {
  for (const Type& t : in) require_f32(t, "operand");
  int r = in[0].rank();
  for (const Type& t : in)
    if (t.rank() != r) throw ShapeError("operands must have the same rank, got " + all_shapes(in));
  int ax = norm_axis(a.get_int("axis"), r, "concat");
  Type out = in[0];
  out.dims[ax] = 0;
  for (const Type& t : in) {
    if (ir::is_batch(t.dims[ax]))
      throw ShapeError("axis " + std::to_string(ax) + " is the " + (ir::has_batch(t.dims[ax]) ? "batch" : "dynamic") +
                       " dim " + ir::dim_text(t.dims[ax]) +
                       ", which cannot be concatenated; got " + all_shapes(in));
    for (int i = 0; i < r; ++i) {
      if (i == ax) continue;
      if (!may_equal(t.dims[i], in[0].dims[i]))
        throw ShapeError("operands must agree on every dim but axis " + std::to_string(ax) + ", got " + all_shapes(in));
      if (t.dims[i] >= 0) out.dims[i] = t.dims[i];  // a static size pins a named dim
    }
    out.dims[ax] = add_dims(out.dims[ax], t.dims[ax]);
  }
  return {out};
}

std::vector<int> grad_concat(GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
  int ax = norm_axis(attrs_of(n).get_int("axis"), b.type(n.inputs[0]).rank(), "concat");
  std::vector<int> dxs;
  int64_t begin = 0;
  for (int v : n.inputs) {
    int64_t end = begin + b.type(v).dims[ax];
    dxs.push_back(b.emit("slice", {dy[0]}, {{"axis", int64_t(ax)}, {"begin", begin}, {"end", end}}));
    begin = end;
  }
  return dxs;
}

}  // namespace

SliceRange slice_range(const Type& x, const AttrReader& a) {
  int ax = norm_axis(a.get_int("axis"), x.rank(), "slice");
  int64_t d = x.dims[ax];
  if (ir::is_batch(d))
    throw ShapeError("axis " + std::to_string(ax) + " of " + x.str() + " is " +
                     (ir::has_batch(d) ? std::string("the batch dim ?") : "the dynamic dim " + ir::dim_text(d)) +
                     ", which cannot be sliced");
  int64_t b0 = a.get_int("begin"), e0 = a.has("end") ? a.get_int("end") : d;
  int64_t b = b0 < 0 ? b0 + d : b0, e = e0 < 0 ? e0 + d : e0;
  if (!(0 <= b && b <= e && e <= d))
    throw ShapeError("begin=" + std::to_string(b0) + ", end=" + std::to_string(e0) + " is not a range of axis " +
                     std::to_string(ax) + " of " + x.str() + ": expected 0 <= begin <= end <= " + std::to_string(d) +
                     " (negative values count from the end)");
  return {ax, b, e};
}

// slice(x) {axis, begin=0, end=dim}: elements begin..end-1 along one axis (slice_range).
static std::vector<Type> infer_slice(const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "operand");
  SliceRange s = slice_range(in[0], a);
  Type t = in[0];
  t.dims[s.axis] = s.end - s.begin;
  return {t};
}

KILN_OP(reshape).inputs({"x"}).attr_ints("shape").set_infer(infer_reshape).set_grad(grad_reshape).view_of_first();
KILN_OP(transpose).inputs({"x"}).attr_ints("perm").set_infer(infer_transpose).set_grad(grad_transpose);
KILN_OP(concat).inputs({"x"}).variadic(1).attr_int("axis", -1).set_infer(infer_concat).set_grad(grad_concat);

// reverse(x) {axis}: x with the order along one non-batch axis reversed (K.reverse; the
// backward half of Bidirectional). Its own gradient: the cotangent reversed the same way.
static std::vector<Type> infer_reverse(const std::vector<Type>& in, const AttrReader& a) {
  require_f32(in[0], "operand");
  int ax = norm_axis(a.get_int("axis"), in[0].rank(), "reverse");
  if (ir::has_batch(in[0].dims[ax]))  // a named dynamic axis (?t) reverses at its run-time length
    throw ShapeError("axis " + std::to_string(a.get_int("axis")) + " of " + in[0].str() + " is the batch dim ?");
  return {in[0]};
}
KILN_OP(reverse).inputs({"x"}).attr_int("axis").set_infer(infer_reverse)
    .set_grad([](GradBuilder& b, const ir::Node& n, const std::vector<int>& dy) {
      return std::vector<int>{b.emit("reverse", {dy[0]}, n.attrs)};
    });

KILN_OP(slice).inputs({"x"}).attr_int("axis").attr_int("begin", 0)
    .attr_int("end", WhenAbsent{"the size of the axis"}).set_infer(infer_slice).set_grad(grad_by("slice_grad"));
// slice_grad(dy, x) {axis, begin, end}: dy written into zeros of x's type.
KILN_OP(slice_grad).inputs({"dy", "x"}).attrs_like("slice").set_infer(infer_grad_of(infer_slice, "slice"))
    .non_differentiable();

}  // namespace kiln::ops
