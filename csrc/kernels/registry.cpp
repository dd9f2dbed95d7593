// The kernel tables, one per device, keyed by op name.
#include <map>
#include <stdexcept>

#include "kernels/kernel.h"

namespace kiln {

const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

Device device_named(const std::string& name) {
  for (Device d : kDevices)
    if (name == device_name(d)) return d;
  throw ValueError("unknown device '" + name + "' (accepted: cpu, cuda)");
}

}  // namespace kiln

namespace kiln::kernels {

static std::map<std::string, Kernel>& table(Device d) {
  static std::map<std::string, Kernel> t[2];
  return t[static_cast<int>(d)];
}

void register_kernel(Device d, const std::string& op, Kernel k) {
  if (!table(d).emplace(op, k).second)
    throw std::logic_error(std::string(device_name(d)) + " kernel registered twice: " + op);
}

void unregister_kernel(Device d, const std::string& op) { table(d).erase(op); }

Kernel find_kernel(Device d, const std::string& op) {
  auto it = table(d).find(op);
  return it == table(d).end() ? nullptr : it->second;
}

std::vector<Device> devices_with_kernel(const std::string& op) {
  std::vector<Device> out;
  for (Device d : kDevices)
    if (find_kernel(d, op)) out.push_back(d);
  return out;
}

std::vector<std::string> ops_with_kernel(Device d) {
  std::vector<std::string> out;
  for (const auto& [op, k] : table(d)) out.push_back(op);
  return out;
}

}  // namespace kiln::kernels
