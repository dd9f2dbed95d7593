// Direct convolution for few input channels (conv_direct.h).
#include "kernels/cpu/conv_direct.h"

#include <algorithm>

#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec16.h"

namespace kiln::cpu {
namespace {

// Positions [ow, ow + G) of output row (b, oh), NV * 16 channels each: the bias, then every tap
// with kh in [kh0, kh1) and kw in [kw0, kw1), taps outside x adding zeros. Each W row loaded is
// used by the G positions at once.
template <int NV, int G>
__attribute__((always_inline)) inline void positions(const DirectConv& g, const float* x, const float* w,
                                                     const float* bias, int64_t b, int64_t ih0, int64_t kh0,
                                                     int64_t kh1, int64_t ow, int64_t kw0, int64_t kw1, float* out) {
  v16 acc[G][NV];
  for (int q = 0; q < G; ++q)
    for (int v = 0; v < NV; ++v) acc[q][v] = bias ? load16(bias + 16 * v) : v16{};
  const int64_t iw0 = ow * g.SW - g.left, step = g.SW * g.C;
  for (int64_t kh = kh0; kh < kh1; ++kh) {
    const float* xr = x + ((b * g.H + ih0 + kh) * g.W + iw0) * g.C;
    const float* wr = w + kh * g.KW * g.C * g.F;
    for (int64_t kw = kw0; kw < kw1; ++kw)
      for (int64_t c = 0; c < g.C; ++c) {
        const float* wk = wr + (kw * g.C + c) * g.F;
        v16 wv[NV];
        for (int v = 0; v < NV; ++v) wv[v] = load16(wk + 16 * v);
        for (int q = 0; q < G; ++q) {
          const float a = xr[q * step + kw * g.C + c];
          for (int v = 0; v < NV; ++v) acc[q][v] += a * wv[v];
        }
      }
  }
  for (int q = 0; q < G; ++q)
    for (int v = 0; v < NV; ++v) store16(out + (ow + q) * g.F + 16 * v, acc[q][v]);
}

// One output row (b, oh): the positions whose windows lie inside x along the row four at a time,
// the rest (near the edges, and the leftovers) one by one with their own taps.
template <int NV>
__attribute__((always_inline)) inline void row(const DirectConv& g, const float* x, const float* w, const float* bias,
                                               int64_t b, int64_t oh, float* out) {
  constexpr int G = 4;
  const int64_t ih0 = oh * g.SH - g.top;
  const int64_t kh0 = std::max<int64_t>(0, -ih0), kh1 = std::min(g.KH, g.H - ih0);
  auto taps = [&](int64_t ow, int64_t* kw0, int64_t* kw1) {
    const int64_t iw0 = ow * g.SW - g.left;
    *kw0 = std::max<int64_t>(0, -iw0), *kw1 = std::min(g.KW, g.W - iw0);
    return *kw0 == 0 && *kw1 == g.KW;
  };
  int64_t ow = 0, kw0, kw1;
  while (ow < g.OW) {
    if (ow + G <= g.OW && taps(ow, &kw0, &kw1) && taps(ow + G - 1, &kw0, &kw1)) {
      positions<NV, G>(g, x, w, bias, b, ih0, kh0, kh1, ow, 0, g.KW, out);
      ow += G;
    } else {
      taps(ow, &kw0, &kw1);
      positions<NV, 1>(g, x, w, bias, b, ih0, kh0, kh1, ow, kw0, kw1, out);
      ow += 1;
    }
  }
}

KILN_VECTOR void rows(const DirectConv& g, const float* x, const float* w, const float* bias, int64_t r0, int64_t r1,
                      float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float* out = y + r * g.OW * g.F;
    switch (g.F / 16) {
      case 1: row<1>(g, x, w, bias, r / g.OH, r % g.OH, out); break;
      case 2: row<2>(g, x, w, bias, r / g.OH, r % g.OH, out); break;
      case 3: row<3>(g, x, w, bias, r / g.OH, r % g.OH, out); break;
      default: row<4>(g, x, w, bias, r / g.OH, r % g.OH, out); break;
    }
  }
}

// The activation of rows [r0, r1), while they are in cache: over the whole run, or per output
// position for softmax (over its channels).
void activate(const DirectConv& g, ops::Activation act, int64_t r0, int64_t r1, float* y) {
  const int64_t per = g.OW * g.F;
  if (act != ops::Activation::softmax) return bias_activation_row(y + r0 * per, (r1 - r0) * per, nullptr, act);
  for (int64_t p = r0 * g.OW; p < r1 * g.OW; ++p) bias_activation_row(y + p * g.F, g.F, nullptr, act);
}

}  // namespace

bool direct_conv_fits(const DirectConv& g) {
  return g.F % 16 == 0 && g.F >= 16 && g.F <= 64 && g.KH * g.KW * g.C <= kDirectMaxPatch && g.C >= 1;
}

void direct_conv(const DirectConv& g, const float* x, const float* w, const float* bias, ops::Activation act,
                 float* y) {
  const int64_t n = g.B * g.OH, per = g.OW * g.F;
  // Chunks of rows fixed by the shape (about 16K results each), so the split never depends on
  // the thread count; the activation runs on each chunk while it is in cache.
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(per, 1));
  const int64_t chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, n * per > kParallelMin, [&](int64_t k) {
    const int64_t r0 = k * chunk, r1 = std::min(n, r0 + chunk);
    rows(g, x, w, bias, r0, r1, y);
    activate(g, act, r0, r1, y);
  });
}

}  // namespace kiln::cpu
