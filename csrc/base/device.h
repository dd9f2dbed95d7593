// The devices a program can run on. Dependency-free, so the kernel tables, the memory layer and
// each backend (csrc/kernels/cpu, cuda/) name them alike.
#pragma once

#include <string>

namespace kiln {

enum class Device { cpu, cuda };
constexpr Device kDevices[] = {Device::cpu, Device::cuda};
const char* device_name(Device d);             // "cpu", "cuda"
Device device_named(const std::string& name);  // ValueError naming the accepted ones

}  // namespace kiln
