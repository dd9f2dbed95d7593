// Walks two strided views of the same shape: a destination and a source, each an element stride
// per dim (0 = the same element for every index, so a destination dim of stride 0 accumulates).
// Size-1 dims are dropped and dims contiguous in both views merged first, so a walk that is a
// plain copy becomes one run. Transpose and tile are such walks (see shape.cpp and tile.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::cpu {

// Row-major element strides of a contiguous tensor.
inline std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> st(dims.size());
  int64_t s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    st[i] = s;
    s *= dims[i];
  }
  return st;
}

// Two strided views with size-1 dims dropped and neighbouring dims merged where they are
// contiguous in both; `empty` when some dim is 0.
struct MergedViews {
  std::vector<int64_t> d, ds, ss;
  bool empty = false;
};

inline MergedViews merge_views(const std::vector<int64_t>& dims, const std::vector<int64_t>& dst_st,
                               const std::vector<int64_t>& src_st) {
  MergedViews m;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) {
      m.empty = true;
      return m;
    }
    if (dims[i] == 1) continue;
    if (!m.d.empty() && m.ds.back() == dst_st[i] * dims[i] && m.ss.back() == src_st[i] * dims[i]) {
      m.d.back() *= dims[i];
      m.ds.back() = dst_st[i];
      m.ss.back() = src_st[i];
    } else {
      m.d.push_back(dims[i]);
      m.ds.push_back(dst_st[i]);
      m.ss.push_back(src_st[i]);
    }
  }
  return m;
}

// Calls f(dst_offset, src_offset, n, dst_stride, src_stride) for each run along the innermost
// merged dim; the runs cover every index of `dims` once, in row-major order.
template <typename F>
void strided_walk(const std::vector<int64_t>& dims, const std::vector<int64_t>& dst_st,
                  const std::vector<int64_t>& src_st, F&& f) {
  MergedViews m = merge_views(dims, dst_st, src_st);
  if (m.empty) return;
  const std::vector<int64_t>&d = m.d, &ds = m.ds, &ss = m.ss;
  if (d.empty()) {
    f(int64_t(0), int64_t(0), int64_t(1), int64_t(1), int64_t(1));
    return;
  }
  int r = static_cast<int>(d.size());
  std::vector<int64_t> idx(r - 1, 0);
  int64_t dst = 0, src = 0;
  for (;;) {
    f(dst, src, d[r - 1], ds[r - 1], ss[r - 1]);
    int i = r - 2;
    for (; i >= 0; --i) {
      dst += ds[i];
      src += ss[i];
      if (++idx[i] < d[i]) break;
      dst -= ds[i] * d[i];
      src -= ss[i] * d[i];
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

}  // namespace kiln::cpu
