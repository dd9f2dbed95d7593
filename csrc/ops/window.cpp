// window_2d: the attribute checks and output shape conv2d and pool2d share (see window.h).
// Shape letters: x [B, H, W, C]; a KH x KW window moved by strides [SH, SW]; out [OH, OW].
#include "ops/window.h"

#include "ops/common.h"

namespace kiln::ops {

std::array<int64_t, 2> window_2d(const Type& x, int64_t KH, int64_t KW, const AttrReader& a,
                                 const std::string& window) {
  require_f32(x, "x");
  if (x.rank() != 4)
    throw ShapeError("x must be [B, H, W, C] (rank 4, channels last), got " + x.str());
  for (int i = 1; i < 4; ++i)
    if (ir::is_batch(x.dims[i]))
      throw ShapeError("H, W and C of x " + x.str() + " must be fixed sizes, not the batch dim ?");
  std::string padding = a.get_str("padding");
  if (padding != "valid" && padding != "same")
    throw ValueError("padding must be \"valid\" or \"same\", got \"" + padding + "\"");
  if (a.has("strides")) {
    std::vector<int64_t> st = a.get_ints("strides");
    if (st.size() != 2)
      throw ShapeError("strides " + ints_str(st) + " must be [SH, SW]: expected 2 entries, got " +
                       std::to_string(st.size()));
    if (st[0] < 1 || st[1] < 1) throw ShapeError("strides " + ints_str(st) + " must be positive");
  }
  std::array<int64_t, 2> s = window_strides(a, KH, KW);
  int64_t H = x.dims[1], W = x.dims[2];
  bool same = padding == "same";
  if (!same && (KH > H || KW > W))
    throw ShapeError("with padding \"valid\" the window must fit in the input: expected at most " +
                     std::to_string(H) + "x" + std::to_string(W) + " (H x W of x " + x.str() + "), got " + window +
                     ". HINT: padding=\"same\" pads the input");
  return {window_1d(H, KH, s[0], same).out, window_1d(W, KW, s[1], same).out};
}

}  // namespace kiln::ops
