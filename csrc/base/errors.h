// kiln's typed errors, each registered once as a Python exception class by the bindings.
// Dependency-free, so every part (IR, runtime, kernels of every backend) can throw them.
#pragma once

#include <stdexcept>

namespace kiln {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ParseError : Error {
  using Error::Error;
};
struct ShapeError : Error {
  using Error::Error;
};
struct ValueError : Error {
  using Error::Error;
};
// An allocation failed (a batch whose memory plan does not fit); Python sees a MemoryError.
struct OutOfMemory : Error {
  using Error::Error;
};
// A value became NaN or infinite while numerics checking was on; Python sees a FloatingPointError.
struct NumericsError : Error {
  using Error::Error;
};

}  // namespace kiln
