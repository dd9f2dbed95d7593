// The C++ tests' one helper: check() counts and reports, summary() prints the line ctest's
// readers look for ("N passed, N failed") and gives main's exit status.
#pragma once

#include <iostream>
#include <string>

namespace kiln::testing {

inline int& passed() {
  static int n = 0;
  return n;
}
inline int& failed() {
  static int n = 0;
  return n;
}

inline void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed();
  } else {
    ++failed();
    std::cout << "FAIL: " << what << "\n";
  }
}

inline int summary() {
  std::cout << passed() << " passed, " << failed() << " failed\n";
  return failed() ? 1 : 0;
}

}  // namespace kiln::testing
