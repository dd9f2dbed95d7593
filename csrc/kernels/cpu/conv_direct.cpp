// Direct convolution for few input channels (conv_direct.h).
#include "kernels/cpu/conv_direct.h"

#include <algorithm>
#include <utility>

#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec16.h"
#include "kernels/cpu/workspace.h"

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

// One image's filter gradient for columns [j, j + 16): the K taps' sums in registers over every
// output position (taps outside x add nothing), stored to part [K, F].
template <int K>
__attribute__((always_inline)) inline void image_grad(const DirectConv& g, const float* x, const float* dy, int64_t b,
                                                      int64_t j, float* part) {
  int64_t tap_h[K], tap_w[K], tap_off[K];
  for (int t = 0; t < K; ++t) {
    tap_h[t] = t / (g.KW * g.C), tap_w[t] = t / g.C % g.KW;
    tap_off[t] = (tap_h[t] * g.W + tap_w[t]) * g.C + t % g.C;
  }
  v16 acc[K];
  for (int t = 0; t < K; ++t) acc[t] = v16{};
  const float* xb = x + b * g.H * g.W * g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t ih0 = oh * g.SH - g.top;
    const bool rows_inside = ih0 >= 0 && ih0 + g.KH <= g.H;
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t iw0 = ow * g.SW - g.left;
      const v16 d = load16(dy + ((b * g.OH + oh) * g.OW + ow) * g.F + j);
      const int64_t corner = (ih0 * g.W + iw0) * g.C;  // the window's first tap, maybe outside x
      if (rows_inside && iw0 >= 0 && iw0 + g.KW <= g.W) {
        for (int t = 0; t < K; ++t) acc[t] += xb[corner + tap_off[t]] * d;
        continue;
      }
      for (int t = 0; t < K; ++t) {
        const int64_t ih = ih0 + tap_h[t], iw = iw0 + tap_w[t];
        if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) acc[t] += xb[corner + tap_off[t]] * d;
      }
    }
  }
  for (int t = 0; t < K; ++t) store16(part + t * g.F + j, acc[t]);
}

template <int K>
KILN_VECTOR void image_grads(const DirectConv& g, const float* x, const float* dy, int64_t b, float* part) {
  for (int64_t j = 0; j < g.F; j += 16) image_grad<K>(g, x, dy, b, j, part);
}

using ImageGrads = void (*)(const DirectConv&, const float*, const float*, int64_t, float*);

template <int... Ks>
ImageGrads image_grads_for(int64_t K, std::integer_sequence<int, Ks...>) {
  ImageGrads table[] = {image_grads<Ks + 1>...};
  return K >= 1 && K <= static_cast<int64_t>(sizeof...(Ks)) ? table[K - 1] : nullptr;
}

}  // namespace

bool direct_grad_filter_fits(const DirectConv& g) {
  return g.F % 16 == 0 && g.F >= 16 && g.C >= 1 && g.KH * g.KW * g.C <= kDirectMaxGradPatch;
}

void direct_conv_grad_filter(const DirectConv& g, const float* x, const float* dy, float* dw) {
  const int64_t K = g.KH * g.KW * g.C, KF = K * g.F;
  ImageGrads grads = image_grads_for(K, std::make_integer_sequence<int, kDirectMaxGradPatch>{});
  float* part = workspace(kWsDirectPartial, g.B * KF);
  parallel_for(g.B, g.B * g.OH * g.OW * KF > kParallelMin, [&](int64_t b) { grads(g, x, dy, b, part + b * KF); });
  std::fill(dw, dw + KF, 0.f);
  for (int64_t b = 0; b < g.B; ++b)  // image order: the same sums on any thread count
    for (int64_t i = 0; i < KF; ++i) dw[i] += part[b * KF + i];
}

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
