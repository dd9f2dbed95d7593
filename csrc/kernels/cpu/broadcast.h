// Walks the elements of a broadcast result with the matching offsets into each operand.
// Dims are right-aligned as in NumPy; a size-1 (or missing) operand dim gets stride 0.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::cpu {

struct BroadcastIndex {
  int rank = 0;
  std::vector<int64_t> dims;              // result dims
  std::vector<std::vector<int64_t>> st;   // per operand, per result dim: element stride (0 = broadcast)

  BroadcastIndex(const std::vector<int64_t>& out, const std::vector<std::vector<int64_t>>& operands) {
    dims = out;
    rank = static_cast<int>(out.size());
    for (const auto& d : operands) {
      std::vector<int64_t> s(rank, 0);
      int64_t stride = 1;
      for (int i = static_cast<int>(d.size()) - 1, j = rank - 1; i >= 0; --i, --j) {
        s[j] = d[i] == 1 && out[j] != 1 ? 0 : stride;
        stride *= d[i];
      }
      st.push_back(s);
    }
  }

  // Calls f(out_offset, off0, off1, ...) for the inner dim as a run: f(o, offs, n, inner_strides).
  template <typename F>
  void for_each_row(F&& f) const {
    int64_t inner = rank ? dims[rank - 1] : 1;
    int64_t rows = 1;
    for (int i = 0; i + 1 < rank; ++i) rows *= dims[i];
    size_t k = st.size();
    std::vector<int64_t> idx(rank > 0 ? rank - 1 : 0, 0), off(k, 0), inner_st(k, 0);
    for (size_t a = 0; a < k; ++a) inner_st[a] = rank ? st[a][rank - 1] : 0;
    for (int64_t r = 0; r < rows; ++r) {
      f(r * inner, off, inner, inner_st);
      for (int i = rank - 2; i >= 0; --i) {
        for (size_t a = 0; a < k; ++a) off[a] += st[a][i];
        if (++idx[i] < dims[i]) break;
        for (size_t a = 0; a < k; ++a) off[a] -= st[a][i] * dims[i];
        idx[i] = 0;
      }
    }
  }
};

}  // namespace kiln::cpu
