// CPU kernel table, keyed by op name.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {

static std::map<std::string, Kernel>& table() {
  static std::map<std::string, Kernel> t;
  return t;
}

void register_kernel(const std::string& op, Kernel k) {
  if (!table().emplace(op, k).second) throw std::logic_error("CPU kernel registered twice: " + op);
}

Kernel find_kernel(const std::string& op) {
  auto it = table().find(op);
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> v;
  for (auto& [k, _] : table()) v.push_back(k);
  return v;
}

}  // namespace kiln::cpu
