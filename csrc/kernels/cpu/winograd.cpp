// Winograd convolution (see winograd.h). The transforms are built from their interpolation
// points at compile time, in double, by the Toom-Cook construction written as a correlation:
// with V_n [a][n] the evaluation of a degree < n polynomial at the a - 1 points and at infinity
// (its leading coefficient), AT = V_m^T, G = V_r and BT = V_a^-T. Row j of BT is then scaled
// by the product of (p_j - p_l) over the other points, and row j of G divided by it, which
// leaves the product G g (.) BT d alone and makes BT's entries integers (exact in float).
// Being constants, the transforms' zero entries cost nothing and their ones no multiply.
//
// Work is split into blocks of tiles fixed by the shape; each output tile is computed by one
// block and each filter-gradient block group sums in a fixed order, so results are bitwise the
// same on any number of threads.
#include "kernels/cpu/winograd.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/errors.h"
#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool2d.h"
#include "kernels/cpu/small_gemm.h"
#include "kernels/cpu/vec16.h"
#include "kernels/cpu/workspace.h"

namespace kiln::cpu::winograd {
namespace {

constexpr int kMaxA = 8;
// Floats of one block's transformed tiles (V and M together): about a core's L2. Measured on
// the benchmarks' shapes (bench/README.md): 2^17 was 10-25% slower, 2^19 no faster.
constexpr int64_t kBlockBudget = int64_t(1) << 18;
// Block groups of the filter gradient, each with its own partial sum of the transformed filter.
constexpr int64_t kGradGroups = 8;

constexpr double kPoints[] = {0, 1, -1, 2, -2, 0.5, -0.5};  // then infinity

constexpr double ipow(double x, int k) {
  double p = 1;
  for (int i = 0; i < k; ++i) p *= x;
  return p;
}
constexpr double absd(double x) { return x < 0 ? -x : x; }
constexpr double round6(double x) {  // clears the elimination's rounding from integer entries
  double s = x * 1e6;
  return double(static_cast<long long>(s < 0 ? s - 0.5 : s + 0.5)) / 1e6;
}
// V_n [a][n]: row j < a - 1 evaluates at point j, row a - 1 takes the leading coefficient.
constexpr double vand(int a, int n, int j, int k) { return j + 1 < a ? ipow(kPoints[j], k) : (k == n - 1 ? 1.0 : 0.0); }

template <int M, int R>
struct Tables {
  static constexpr int m = M, r = R, a = M + R - 1;
  float AT[m][a] = {}, BT[a][a] = {}, G[a][r] = {};
};

template <int M, int R>
constexpr Tables<M, R> build() {
  constexpr int a = M + R - 1;
  static_assert(a - 1 <= int(sizeof kPoints / sizeof kPoints[0]), "not enough interpolation points");
  double va[a][a] = {}, inv[a][a] = {};
  for (int i = 0; i < a; ++i) {
    for (int k = 0; k < a; ++k) va[i][k] = vand(a, a, i, k);
    inv[i][i] = 1.0;
  }
  for (int c = 0; c < a; ++c) {  // Gauss-Jordan with partial pivoting: inv = va^-1
    int p = c;
    for (int i = c + 1; i < a; ++i)
      if (absd(va[i][c]) > absd(va[p][c])) p = i;
    for (int k = 0; k < a; ++k) {
      double x = va[c][k], y = inv[c][k];
      va[c][k] = va[p][k], inv[c][k] = inv[p][k], va[p][k] = x, inv[p][k] = y;
    }
    double d = va[c][c];
    for (int k = 0; k < a; ++k) va[c][k] /= d, inv[c][k] /= d;
    for (int i = 0; i < a; ++i) {
      double f = va[i][c];
      if (i == c || f == 0.0) continue;
      for (int k = 0; k < a; ++k) va[i][k] -= f * va[c][k], inv[i][k] -= f * inv[c][k];
    }
  }
  Tables<M, R> t;
  for (int j = 0; j < a; ++j) {
    double s = 1.0;
    for (int l = 0; j + 1 < a && l + 1 < a; ++l)
      if (l != j) s *= kPoints[j] - kPoints[l];
    for (int i = 0; i < M; ++i) t.AT[i][j] = float(vand(a, M, j, i));
    for (int i = 0; i < a; ++i) t.BT[j][i] = float(round6(inv[i][j] * s));
    for (int k = 0; k < R; ++k) t.G[j][k] = float(vand(a, R, j, k) / s);
  }
  return t;
}

template <int M, int R>
constexpr Tables<M, R> kTables = build<M, R>();

template <int M, int R>
Transform describe() {
  const Tables<M, R>& t = kTables<M, R>;
  Transform d;
  d.m = M, d.r = R, d.a = t.a;
  d.AT.assign(&t.AT[0][0], &t.AT[0][0] + M * t.a);
  d.BT.assign(&t.BT[0][0], &t.BT[0][0] + t.a * t.a);
  d.G.assign(&t.G[0][0], &t.G[0][0] + t.a * R);
  return d;
}

// Tiles per block: V [a*a][T][C] and M [a*a][T][F] within kBlockBudget, at least 16.
int64_t tile_block(const Transform& t, int64_t C, int64_t F) {
  return std::clamp<int64_t>(kBlockBudget / (int64_t(t.a) * t.a * std::max<int64_t>(C + F, 1)), 16, 512);
}

struct Tiling {
  int64_t th, tw, tiles;
  Tiling(const Transform& t, const Conv& g)
      : th((g.OH + t.m - 1) / t.m), tw((g.OW + t.m - 1) / t.m), tiles(g.B * th * tw) {}
};

// Pointers to the a x a input rows of tile `tile` (each C floats; `zero` where outside x).
void input_rows(const Transform& t, const Conv& g, const Tiling& tl, const float* x, int64_t tile, const float* zero,
                const float** rows) {
  int64_t b = tile / (tl.th * tl.tw), ty = tile / tl.tw % tl.th, tx = tile % tl.tw;
  int64_t ih0 = ty * t.m - g.top, iw0 = tx * t.m - g.left;
  for (int i = 0; i < t.a; ++i)
    for (int j = 0; j < t.a; ++j) {
      int64_t ih = ih0 + i, iw = iw0 + j;
      bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      rows[i * t.a + j] = inside ? x + ((b * g.H + ih) * g.W + iw) * g.C : zero;
    }
}

// The four transforms, each a sandwich out = L X R^T of a tile X [Q][S] of vectors, with L [P][Q]
// and R [U][S] constants:
//   input     V  = BT d B        (a x a from a x a)
//   output    Y  = AT M A        (m x m from a x a)
//   adjoint   dM = A dY AT       (a x a from m x m)
//   filter    U  = G w G^T       (a x a from r x r), and its adjoint dw = G^T dU G
template <int M, int R>
struct Sandwiches {
  static constexpr const Tables<M, R>& t = kTables<M, R>;
  static constexpr int a = M + R - 1;
  struct Input {
    static constexpr int P = a, Q = a, S = a, U = a;
    static constexpr float L(int i, int k) { return t.BT[i][k]; }
    static constexpr float Rt(int j, int l) { return t.BT[j][l]; }
  };
  struct Output {
    static constexpr int P = M, Q = a, S = a, U = M;
    static constexpr float L(int i, int k) { return t.AT[i][k]; }
    static constexpr float Rt(int j, int l) { return t.AT[j][l]; }
  };
  struct Adjoint {
    static constexpr int P = a, Q = M, S = M, U = a;
    static constexpr float L(int i, int k) { return t.AT[k][i]; }
    static constexpr float Rt(int j, int l) { return t.AT[l][j]; }
  };
  struct Filter {
    static constexpr int P = a, Q = R, S = R, U = a;
    static constexpr float L(int i, int k) { return t.G[i][k]; }
    static constexpr float Rt(int j, int l) { return t.G[j][l]; }
  };
  struct FilterAdjoint {
    static constexpr int P = R, Q = a, S = a, U = R;
    static constexpr float L(int i, int k) { return t.G[k][i]; }
    static constexpr float Rt(int j, int l) { return t.G[l][j]; }
  };
};

// sum over k of c(k) * x[k * stride], skipping zero coefficients (folded away once the loops
// unroll, c being a constant table).
template <int N, typename Vec, typename C>
__attribute__((always_inline)) inline Vec dot(C c, const Vec* x, int stride) {
  Vec acc{};
  bool started = false;
#pragma GCC unroll 8
  for (int k = 0; k < N; ++k) {
    float s = c(k);
    if (s == 0.f) continue;
    Vec v = x[k * stride];
    Vec term = s == 1.f ? v : s == -1.f ? -v : s * v;
    acc = started ? acc + term : term;
    started = true;
  }
  return acc;
}

template <typename Op, typename Vec>
__attribute__((always_inline)) inline void sandwich(const Vec* X, Vec* out) {
  Vec t[Op::P][Op::S];
#pragma GCC unroll 8
  for (int i = 0; i < Op::P; ++i)
#pragma GCC unroll 8
    for (int l = 0; l < Op::S; ++l)
      t[i][l] = dot<Op::Q, Vec>([i](int k) __attribute__((always_inline)) { return Op::L(i, k); }, X + l, Op::S);
#pragma GCC unroll 8
  for (int i = 0; i < Op::P; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < Op::U; ++j)
      out[i * Op::U + j] = dot<Op::S, Vec>([j](int l) __attribute__((always_inline)) { return Op::Rt(j, l); }, t[i], 1);
}

// For n floats along each of the vectors: out[o] + c = (L X R^T)[o] with X[k] = in[k] + c,
// 16 at a time, the rest one by one.
template <typename Op>
__attribute__((always_inline)) inline void sandwich_along(const float* const* in, float* const* out, int64_t n) {
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    v16 X[Op::Q * Op::S], O[Op::P * Op::U];
    for (int k = 0; k < Op::Q * Op::S; ++k) X[k] = load16(in[k] + c);
    sandwich<Op>(X, O);
    for (int o = 0; o < Op::P * Op::U; ++o) store16(out[o] + c, O[o]);
  }
  for (; c < n; ++c) {
    float X[Op::Q * Op::S], O[Op::P * Op::U];
    for (int k = 0; k < Op::Q * Op::S; ++k) X[k] = in[k][c];
    sandwich<Op>(X, O);
    for (int o = 0; o < Op::P * Op::U; ++o) out[o][c] = O[o];
  }
}

enum class Kind { input, output, adjoint, filter, filter_adjoint };

template <int M, int R>
__attribute__((always_inline)) inline void run_kind(Kind k, const float* const* in, float* const* out, int64_t n) {
  using S = Sandwiches<M, R>;
  switch (k) {
    case Kind::input: return sandwich_along<typename S::Input>(in, out, n);
    case Kind::output: return sandwich_along<typename S::Output>(in, out, n);
    case Kind::adjoint: return sandwich_along<typename S::Adjoint>(in, out, n);
    case Kind::filter: return sandwich_along<typename S::Filter>(in, out, n);
    case Kind::filter_adjoint: return sandwich_along<typename S::FilterAdjoint>(in, out, n);
  }
}

// One transform of tile elements `in` into `out`, n floats each, for the transform t describes.
KILN_VECTOR void transform(const Transform& t, Kind k, const float* const* in, float* const* out, int64_t n) {
  if (t.m == 4 && t.r == 3) return run_kind<4, 3>(k, in, out, n);
  if (t.m == 2 && t.r == 5) return run_kind<2, 5>(k, in, out, n);
  throw Error("winograd: no transform code for F(" + std::to_string(t.m) + "," + std::to_string(t.r) + ")");
}

// The input tiles of tiles [t0, t0 + nt) into V [a*a][T][C].
void transform_inputs(const Transform& t, const Conv& g, const Tiling& tl, const float* x, int64_t t0, int64_t nt,
                      int64_t T, float* V) {
  const int A2 = t.a * t.a;
  float* zero = workspace(kWsWinogradZero, g.C);
  std::fill(zero, zero + g.C, 0.f);
  const float* rows[kMaxA * kMaxA];
  float* out[kMaxA * kMaxA];
  for (int64_t i = 0; i < nt; ++i) {
    input_rows(t, g, tl, x, t0 + i, zero, rows);
    for (int e = 0; e < A2; ++e) out[e] = V + (e * T + i) * g.C;
    transform(t, Kind::input, rows, out, g.C);
  }
}

}  // namespace

const Transform* for_kernel(int64_t r) {
  static const Transform f4x3 = describe<4, 3>(), f2x5 = describe<2, 5>();
  return r == 3 ? &f4x3 : r == 5 ? &f2x5 : nullptr;
}

int64_t filter_size(const Transform& t, int64_t C, int64_t F) { return int64_t(t.a) * t.a * C * F; }

void transform_filter(const Transform& t, const float* w, int64_t C, int64_t F, bool turn, float* U) {
  const int a = t.a, r = t.r;
  const int64_t CF = C * F;
  const float* taps[kMaxA * kMaxA];
  for (int k = 0; k < r * r; ++k) taps[k] = w + (turn ? r * r - 1 - k : k) * CF;
  float* out[kMaxA * kMaxA];
  float* tmp = turn ? workspace(kWsWinogradTile, int64_t(a) * a * CF) : U;
  for (int e = 0; e < a * a; ++e) out[e] = tmp + e * CF;
  parallel_chunks(CF, [&](int64_t b, int64_t e) {
    const float* in[kMaxA * kMaxA];
    float* o[kMaxA * kMaxA];
    for (int k = 0; k < r * r; ++k) in[k] = taps[k] + b;
    for (int k = 0; k < a * a; ++k) o[k] = out[k] + b;
    transform(t, Kind::filter, in, o, e - b);
  });
  if (turn)  // [C][F] -> [F][C] per element
    for (int e = 0; e < a * a; ++e)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t f = 0; f < F; ++f) U[e * CF + f * C + c] = tmp[e * CF + c * F + f];
}

void forward(const Transform& t, const Conv& g, const float* x, const float* U, const float* bias, ops::Activation act,
             float* y, int ph, int pw, const float* through, ops::Activation through_act) {
  if (t.m % ph != 0 || t.m % pw != 0) throw Error("winograd: a pool must divide the output tile");
  const bool pooled = ph > 1 || pw > 1;
  if (pooled && through) throw Error("winograd: a pooled result cannot go through an activation's derivative");
  const int64_t POH = g.OH / ph, POW = g.OW / pw;
  const int m = t.m, a = t.a;
  const int64_t A2 = int64_t(a) * a, C = g.C, F = g.F;
  const Tiling tl(t, g);
  const int64_t T = tile_block(t, C, F), blocks = (tl.tiles + T - 1) / T;
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1 && tl.tiles * A2 * C * F > kParallelMin)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t t0 = blk * T, nt = std::min(T, tl.tiles - t0);
    float* V = workspace(kWsWinogradV, A2 * T * C);
    float* M = workspace(kWsWinogradM, A2 * T * F);
    float* spill = workspace(kWsWinogradOut, int64_t(m) * m * F);  // outputs past the edge of y, or to pool
    transform_inputs(t, g, tl, x, t0, nt, T, V);
    for (int64_t e = 0; e < A2; ++e)
      small_gemm(false, false, nt, F, C, V + e * T * C, C, U + e * C * F, F, M + e * T * F, F);
    const float* in[kMaxA * kMaxA];
    float* out[kMaxA * kMaxA];
    for (int64_t i = 0; i < nt; ++i) {
      const int64_t tile = t0 + i, b = tile / (tl.th * tl.tw), ty = tile / tl.tw % tl.th, tx = tile % tl.tw;
      for (int e = 0; e < A2; ++e) in[e] = M + (e * T + i) * F;
      if (pooled) {  // the whole tile into spill, then its whole windows into y
        for (int o = 0; o < m * m; ++o) out[o] = spill + o * F;
        transform(t, Kind::output, in, out, F);
        for (int o = 0; o < m * m; ++o) bias_activation_row(out[o], F, bias, act);
        for (int p = 0; p < m / ph; ++p)
          for (int q = 0; q < m / pw; ++q) {
            const int64_t oh = ty * (m / ph) + p, ow = tx * (m / pw) + q;
            if (oh < POH && ow < POW) max_pool_window(spill, m, F, p * ph, q * pw, ph, pw, y + ((b * POH + oh) * POW + ow) * F);
          }
        continue;
      }
      for (int p = 0; p < m; ++p)
        for (int q = 0; q < m; ++q) {
          const int64_t oh = ty * m + p, ow = tx * m + q;
          bool inside = oh < g.OH && ow < g.OW;
          out[p * m + q] = inside ? y + ((b * g.OH + oh) * g.OW + ow) * F : spill + (p * m + q) * F;
        }
      transform(t, Kind::output, in, out, F);
      for (int o = 0; o < m * m; ++o)
        if (out[o] < spill || out[o] >= spill + m * m * F) {
          bias_activation_row(out[o], F, bias, act);
          if (through) activation_grad_row(out[o], through + (out[o] - y), F, through_act);
        }
    }
  }
}

void grad_filter(const Transform& t, const Conv& g, const float* x, const float* dy, float* dw) {
  const int m = t.m, a = t.a, r = t.r;
  const int64_t A2 = int64_t(a) * a, C = g.C, F = g.F, CF = C * F;
  const Tiling tl(t, g);
  const int64_t T = tile_block(t, C, F), blocks = (tl.tiles + T - 1) / T;
  const int64_t groups = std::min(blocks, kGradGroups);
  float* dU = workspace(kWsWinogradPartial, groups * A2 * CF);  // one partial per group, shared by the team
#pragma omp parallel for schedule(dynamic, 1) if (groups > 1 && tl.tiles * A2 * CF > kParallelMin)
  for (int64_t grp = 0; grp < groups; ++grp) {
    float* part = dU + grp * A2 * CF;
    float* V = workspace(kWsWinogradV, A2 * T * C);
    float* dM = workspace(kWsWinogradM, A2 * T * F);
    float* zero = workspace(kWsWinogradZero2, F);
    std::fill(zero, zero + F, 0.f);
    const float* rows[kMaxA * kMaxA];
    float* out[kMaxA * kMaxA];
    bool first = true;
    for (int64_t blk = grp * blocks / groups; blk < (grp + 1) * blocks / groups; ++blk) {
      const int64_t t0 = blk * T, nt = std::min(T, tl.tiles - t0);
      transform_inputs(t, g, tl, x, t0, nt, T, V);
      for (int64_t i = 0; i < nt; ++i) {
        const int64_t tile = t0 + i, b = tile / (tl.th * tl.tw), ty = tile / tl.tw % tl.th, tx = tile % tl.tw;
        for (int p = 0; p < m; ++p)
          for (int q = 0; q < m; ++q) {
            const int64_t oh = ty * m + p, ow = tx * m + q;
            rows[p * m + q] = oh < g.OH && ow < g.OW ? dy + ((b * g.OH + oh) * g.OW + ow) * F : zero;
          }
        for (int e = 0; e < A2; ++e) out[e] = dM + (e * T + i) * F;
        transform(t, Kind::adjoint, rows, out, F);
      }
      for (int64_t e = 0; e < A2; ++e)
        small_gemm(true, !first, C, F, nt, V + e * T * C, C, dM + e * T * F, F, part + e * CF, F);
      first = false;
    }
  }
  // Sum the partials in group order, then dw = G^T dU G.
  const float* in[kMaxA * kMaxA];
  float* out[kMaxA * kMaxA];
  for (int e = 0; e < a * a; ++e) in[e] = dU + e * CF;
  for (int k = 0; k < r * r; ++k) out[k] = dw + k * CF;
  parallel_chunks(A2 * CF, [&](int64_t b, int64_t e) {
    for (int64_t k = 1; k < groups; ++k) {
      const float* p = dU + k * A2 * CF;
      for (int64_t i = b; i < e; ++i) dU[i] += p[i];
    }
  });
  parallel_chunks(CF, [&](int64_t b, int64_t e) {
    const float* i2[kMaxA * kMaxA];
    float* o2[kMaxA * kMaxA];
    for (int k = 0; k < a * a; ++k) i2[k] = in[k] + b;
    for (int k = 0; k < r * r; ++k) o2[k] = out[k] + b;
    transform(t, Kind::filter_adjoint, i2, o2, e - b);
  });
}

}  // namespace kiln::cpu::winograd
