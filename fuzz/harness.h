// The one fuzzing harness of kiln's readers of untrusted bytes (docs/reliability.md). Every
// libFuzzer target wraps its reader in guarded(): a kiln::Error is the clean rejection every
// bad input must get; anything else that escapes (std::logic_error, std::out_of_range, ...) is
// a finding and aborts, so libFuzzer saves the input. Crashes, sanitizer reports, hangs
// (-timeout) and allocations above kMaxBytes (-malloc_limit_mb, set by fuzz/run.sh from the
// same number) are findings too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "base/errors.h"

namespace kiln::fuzz {

// The allocation cap of every target, in bytes: a reader may allocate up to this much for one
// input; past it the harness skips the step (and libFuzzer's malloc limit, the same figure,
// reports any single allocation above it as a finding).
constexpr size_t kMaxBytes = size_t(256) << 20;

template <typename F>
int guarded(F&& f) {
  try {
    f();
  } catch (const kiln::Error&) {
    // a clean, typed rejection
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln fuzz: escaped exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}

inline std::string text_of(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

}  // namespace kiln::fuzz
