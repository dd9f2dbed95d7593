// NumPy .npy files for the native tools: a strict reader (format 1.0-3.0, C order, a little-endian
// or byte-sized numeric dtype, the shape checked against the file's length) that converts to
// f32, and a writer of f32 arrays (format 1.0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::bundle {

struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Integers convert exactly only below 2^24; a larger one is an error naming the file.
Array read_npy(const std::string& path);
Array parse_npy(const std::string& bytes, const std::string& file);
void write_npy(const std::string& path, const Array& a);

}  // namespace kiln::bundle
