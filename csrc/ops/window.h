// The sliding-window geometry conv2d and pool2d share: how many windows fit along a spatial
// axis and how much zero padding goes before the first one. Schemas (csrc/ops/conv2d.cpp,
// pool2d.cpp) check the attributes and get the output shape from window_2d (window.cpp);
// kernels read the checked attributes back and call window_1d on concrete dims for the padding
// offset, so the rule lives here only.
//
// Letters: L the input length (H or W), K the window (KH or KW), S the stride, O the output.
//   valid: O = ceil((L - K + 1) / S), no padding (K > L leaves no window; schemas refuse it).
//   same:  O = ceil(L / S), TensorFlow's padding: total = max((O - 1) * S + K - L, 0), the
//          smaller half (floor) before, the rest after.
// Window o covers input positions o * S - before .. o * S - before + K - 1; positions outside
// [0, L) are padding. With "same" every window holds at least one real position.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "ops/attrs.h"

namespace kiln::ops {

struct Window1D {
  int64_t out = 0;     // O
  int64_t before = 0;  // padding before the first window
};

inline Window1D window_1d(int64_t L, int64_t K, int64_t S, bool same) {
  Window1D w;
  if (same) {
    w.out = L > 0 ? (L - 1) / S + 1 : 0;  // ceil(L / S) without overflow for any S from the IR
    int64_t total = w.out > 0 ? K - (L - (w.out - 1) * S) : 0;  // (O - 1) * S + K - L, kept in range
    w.before = total > 0 ? total / 2 : 0;
  } else {
    w.out = L >= K ? (L - K) / S + 1 : 0;
  }
  return w;
}

// Strides [SH, SW] of a KH x KW window: the `strides` attribute, or when the op declares it
// without a default and the node leaves it out (pool2d), the window itself. window_2d checked
// the attribute; kernels read it back through here so the rule is stated once.
inline std::array<int64_t, 2> window_strides(const AttrReader& a, int64_t KH, int64_t KW) {
  if (!a.has("strides")) return {KH, KW};
  std::vector<int64_t> s = a.get_ints("strides");
  return {s[0], s[1]};
}
inline bool window_same(const AttrReader& a) { return a.get_str("padding") == "same"; }

// Schema side: x [B, H, W, C] under a KH x KW window with attributes strides and padding;
// returns [OH, OW]. Throws ValueError for a padding other than "valid"/"same", ShapeError for a
// bad x or strides, or a window larger than x with "valid". `window` names the window in
// messages ("the 3x3 kernel of W f32[3,3,1,8]", "pool [2,2]").
std::array<int64_t, 2> window_2d(const ir::Type& x, int64_t KH, int64_t KW, const AttrReader& a,
                                 const std::string& window);

}  // namespace kiln::ops
