// An IR bundle's manifest (docs/persistence.md, "IR bundles"): a small line-based text file,
// one fact per line, that names the bundle's programs, their inputs and outputs, and every
// stored tensor's place in the weights blob.
//
//   kiln-bundle 1
//   kiln-version 0.1.0
//   weights weights.bin
//   program predict predict.kir runs 0
//   input predict %input_1 f32[?,784]
//   output predict %dense_3 f32[?,10]
//   tensor %dense_1_W f32[784,64] offset 0 bytes 200704
//
// parse_manifest trusts nothing: every error names the file and the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kiln::bundle {

constexpr int kFormatVersion = 1;
constexpr int64_t kAlign = 64;  // every tensor starts at a multiple of this in the blob

struct Port {
  std::string program, value;  // value without the %
  ir::Type type;
};

struct ProgramEntry {
  std::string name, file;
  uint64_t runs = 0;  // runs so far: random ops continue their sequence from here
};

struct TensorEntry {
  std::string name;
  ir::Type type;
  int64_t offset = 0, bytes = 0;
};

struct Manifest {
  std::string kiln_version, weights;
  std::vector<ProgramEntry> programs;
  std::vector<Port> inputs, outputs;
  std::vector<TensorEntry> tensors;

  const ProgramEntry* program(const std::string& name) const;
  std::vector<Port> ports(const std::vector<Port>& all, const std::string& program) const;
};

// `file` names the manifest in errors.
Manifest parse_manifest(const std::string& text, const std::string& file);
std::string print_manifest(const Manifest& m);

}  // namespace kiln::bundle
