// Counter-based randomness shared by the kernels that draw masks: value i of a mask drawn in
// run `step` with `seed` is a hash of (seed, step, i), so a mask is repeatable, identical
// whatever the thread count, and can be drawn again by a gradient kernel in the same run.
#pragma once

#include <cstdint>

namespace kiln::cpu {

inline uint64_t mix64(uint64_t z) {  // splitmix64 finalizer
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform draws: element i's 24 random bits, and a uniform in (0, 1) made of them. The random
// ops' values (random.cpp) and the NumPy reference's (tests/reference/ops.py) are these.
class UniformStream {
 public:
  UniformStream(uint64_t seed, uint64_t step) : base_(mix64(seed ^ mix64(step))) {}
  uint32_t bits(uint64_t i) const { return static_cast<uint32_t>(mix64(base_ + i) >> 40); }
  double operator()(uint64_t i) const { return (bits(i) + 0.5) / 16777216.0; }

 private:
  uint64_t base_;
};

// Inverted dropout: element i is 0 with probability `rate`, else 1 / (1 - rate). The values of
// the dropout_mask op, which the recurrent kernels' dropout draws the same way.
class DropoutStream {
 public:
  DropoutStream(double rate, uint64_t seed, uint64_t step)
      : bits_(seed, step),
        threshold_(static_cast<uint32_t>(rate * 16777216.0)),
        scale_(static_cast<float>(1.0 / (1.0 - rate))) {}
  // Kept when the top 24 bits, as a fraction of 2^24, are >= rate.
  float operator()(uint64_t i) const { return bits_.bits(i) >= threshold_ ? scale_ : 0.f; }

 private:
  UniformStream bits_;
  uint32_t threshold_;
  float scale_;
};

}  // namespace kiln::cpu
