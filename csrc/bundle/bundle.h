// IR bundles: a folder holding a trained model for native tools (docs/persistence.md).
//
//   manifest.txt   what is where (bundle/manifest.h)
//   predict.kir    the predict program, as compiled (optimized)
//   train.kir      the train program with its update ops, when the model was compiled
//   weights.bin    every param and state the programs declare: raw little-endian f32, each
//                  tensor at a 64-byte aligned offset the manifest gives (mmap-able)
//
// The loader trusts nothing: sizes are checked before anything is allocated (a tensor's bytes
// come out of the blob's actual length, never out of a number in a file), and every error names
// the file and the tensor or line.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "bundle/manifest.h"
#include "runtime/compile.h"

namespace kiln::bundle {

// The bundle's files by name (what load_files reads; the fuzzer feeds these directly).
using Files = std::map<std::string, std::string>;

constexpr size_t kMaxTextBytes = size_t(64) << 20;     // a manifest or an IR file
constexpr size_t kMaxBlobBytes = size_t(16) << 30;     // the weights

struct Bundle {
  Manifest manifest;
  std::shared_ptr<rt::Store> store;
  std::map<std::string, std::shared_ptr<rt::Program>> programs;  // by manifest name
};

// Reads manifest.txt, the files it names (sizes checked first) and compiles the programs on
// `device` into a fresh Store.
Bundle load(const std::string& dir, kernels::Device device = kernels::Device::cpu);
// The same from files in memory; `dir` only names them in errors.
Bundle load_files(const Files& files, const std::string& dir, kernels::Device device = kernels::Device::cpu);

struct ProgramText {
  std::string name, text;  // the compiled graph as ir::print writes it
  uint64_t runs = 0;
};

// Writes a bundle of these programs with every param and state they declare, read from `store`.
// The files go to a new folder beside `dir` that then replaces it, so a crash leaves either the
// old bundle or the new one whole.
void write(const std::string& dir, const std::vector<ProgramText>& programs, const rt::Store& store,
           const std::string& kiln_version);

}  // namespace kiln::bundle
