// kiln's vectorizable exp, sigmoid and tanh (csrc/kernels/cpu/vmath.h) against libm in double,
// over every float in steps across [-100, 100] plus the special points. Prints "N passed, N failed".
#include <cmath>
#include <cstdio>

#include "kernels/cpu/vmath.h"
#include "testing.h"

using kiln::testing::check;
namespace vm = kiln::cpu::vmath;

int main() {
  double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
  float at_exp = 0, at_sig = 0, at_tanh = 0;
  for (double xd = -100; xd <= 100; xd += 1.0 / 4096) {
    float x = static_cast<float>(xd);
    double e = std::exp(double(x));
    if (x > -87.33f && x < 88.37f) {
      double err = std::fabs(vm::exp(x) - e) / e;
      if (err > worst_exp) worst_exp = err, at_exp = x;
    }
    double s = 1.0 / (1.0 + std::exp(-double(x)));
    if (s > 1e-37) {
      double err = std::fabs(vm::sigmoid(x) - s) / s;
      if (err > worst_sig) worst_sig = err, at_sig = x;
    }
    double t = std::tanh(double(x));
    double err = std::fabs(vm::tanh(x) - t) / std::fmax(std::fabs(t), 1e-30);
    if (err > worst_tanh) worst_tanh = err, at_tanh = x;
  }
  const double eps = 1.1920929e-7;
  std::printf("worst relative errors: exp %.2g at %g, sigmoid %.2g at %g, tanh %.2g at %g (float eps %.2g)\n",
              worst_exp, at_exp, worst_sig, at_sig, worst_tanh, at_tanh, eps);
  check(worst_exp < 3 * eps, "exp within 3 eps on its range");
  check(worst_sig < 4 * eps, "sigmoid within 4 eps");
  check(worst_tanh < 4 * eps, "tanh within 4 eps");
  check(vm::tanh(0.f) == 0.f && std::signbit(vm::tanh(-0.f)) && vm::tanh(20.f) == 1.f && vm::tanh(-20.f) == -1.f,
        "tanh keeps 0, -0 and saturates to exactly +-1");
  check(vm::sigmoid(-200.f) >= 0.f && vm::sigmoid(200.f) == 1.f && vm::exp(200.f) < INFINITY,
        "sigmoid and exp stay finite at the ends");
  check(std::isfinite(vm::exp(-200.f)) && vm::exp(-200.f) > 0.f, "exp of a large negative is a tiny normal");
  return kiln::testing::summary();
}
