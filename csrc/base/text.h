// Text helpers shared by the line-based readers (the IR parser, the bundle manifest).
#pragma once

#include <string>
#include <vector>

namespace kiln {

// The lines of `text` without their '\n'; a last line without one counts, an empty tail does not.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

}  // namespace kiln
