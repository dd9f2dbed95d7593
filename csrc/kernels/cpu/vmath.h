// Branch-free float exp, sigmoid and tanh that compilers vectorize inside plain loops (libm's
// scalar calls do not vectorize: in the recurrent kernels they took most of the gate time).
//
// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2)/2; e^r by its Taylor polynomial
// of degree 7 (truncation below 5e-9 relative on that interval; about 1 ulp in all), 2^n built
// in the exponent bits. x is clamped to [-87.33, 88.37] first, so the result is always a normal
// float: exp(-100) gives 1.2e-38 (near the smallest normal; kernels flush denormals anyway)
// instead of 3.7e-44, and exp(100) 2.5e38 instead of inf. The exp op itself keeps libm for exact IEEE ends.
#pragma once

#include <cstdint>
#include <cstring>

namespace kiln::cpu::vmath {

inline float exp(float x) {
  x = x < -87.33f ? -87.33f : (x > 88.37f ? 88.37f : x);  // keeps n in [-126, 127]
  const float kRound = 12582912.f;            // 1.5 * 2^23: adding it rounds to an integer (SSE2-safe)
  float n = (x * 1.44269504f + kRound) - kRound;  // round(x / ln 2)
  float r = x - n * 0.693359375f;                 // ln 2 in two parts: the first product is exact
  r = r - n * -2.12194440e-4f;
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoid(float x) { return 1.f / (1.f + vmath::exp(-x)); }

// tanh: for |x| < 0.3 its odd Taylor series through x^11 (the next term is below float
// precision there); above, 1 - 2 / (e^(2|x|) + 1), where the cancellation costs at most a few
// ulp; from |x| = 9.1 on it gives +-1 exactly.
inline float tanh(float x) {
  float ax = x < 0.f ? -x : x;
  float x2 = ax * ax;
  float poly = -1382.f / 155925.f;
  poly = poly * x2 + 62.f / 2835.f;
  poly = poly * x2 - 17.f / 315.f;
  poly = poly * x2 + 2.f / 15.f;
  poly = poly * x2 - 1.f / 3.f;
  poly = ax + ax * x2 * poly;
  float e = vmath::exp(2.f * (ax > 10.f ? 10.f : ax));
  float t = ax < 0.3f ? poly : 1.f - 2.f / (e + 1.f);
  return __builtin_copysignf(t, x);
}

}  // namespace kiln::cpu::vmath
