// Dims: static sizes, the batch, and named dynamic dims (IR version 2, docs/ir.md).
//
// A dim is an int64. d >= 0 is a static size. d < 0 is symbolic: the product of
//   - the batch `?` (present unless the no-batch bit is set),
//   - at most one named dynamic dim `?t` (a time axis whose length changes between calls),
//   - a static factor k >= 1 (a time axis folded into the batch by merge_batch).
// Text: `?`, `?*3`, `?t`, `?t*3`, `?*?t`, `?*?t*3`. -1 is `?` and -k is `?*k`, as in version 1.
// Names are 1 to 7 characters [a-z0-9], starting with a letter, packed into the dim itself, so a
// Type needs no table to print or compare: equal names are equal dims.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::ir {

constexpr int64_t kBatch = -1;
constexpr int kMaxDimName = 7;
constexpr int64_t kMaxDimFactor = (int64_t(1) << 24) - 1;

struct DimParts {
  bool batch = false;
  uint64_t name = 0;  // 0: no named dim; else the packed name (dim_name_code)
  int64_t factor = 1;
};

// Symbolic: depends on the batch or on a named dim (version 1 called every such dim "batch").
inline bool is_batch(int64_t d) { return d < 0; }
DimParts dim_parts(int64_t d);  // d < 0
// Throws ShapeError when the factor is out of range or nothing symbolic is left.
int64_t make_dim(const DimParts& p);
inline bool has_batch(int64_t d) { return d < 0 && dim_parts(d).batch; }
inline bool has_name(int64_t d) { return d < 0 && dim_parts(d).name != 0; }
// A named dim alone (`?t`, factor 1, no batch).
inline bool is_named(int64_t d) {
  if (d >= 0) return false;
  DimParts p = dim_parts(d);
  return !p.batch && p.name && p.factor == 1;
}

// "t" <-> its packed code; an invalid name is a ShapeError naming it.
uint64_t dim_name_code(const std::string& name);
std::string dim_name(uint64_t code);
int64_t named_dim(const std::string& name);
std::string dim_text(int64_t d);

// a * b as a dim (merge_batch): a ShapeError when both carry the batch or both a name.
int64_t dim_product(int64_t a, int64_t b);

// The concrete sizes of one run: the batch and each named dim's length.
struct Sizes {
  int64_t batch = 0;
  std::vector<std::pair<uint64_t, int64_t>> named;  // sorted by code

  Sizes() = default;
  Sizes(int64_t b) : batch(b) {}  // NOLINT: a batch size is the common case
  void set(uint64_t code, int64_t size);
  // The size of a named dim; a ShapeError when it has none.
  int64_t of(uint64_t code) const;
  bool operator<(const Sizes& o) const { return batch != o.batch ? batch < o.batch : named < o.named; }
  bool operator==(const Sizes& o) const { return batch == o.batch && named == o.named; }
  std::string str() const;  // "batch 32, ?t=120"
};

// d with the run's sizes put in; overflow is a ShapeError.
int64_t concrete_dim(int64_t d, const Sizes& s);
// d with its named dim replaced by that dim's size, the batch kept (`?*?t` -> `?*120`).
int64_t bind_names(int64_t d, const Sizes& s);

}  // namespace kiln::ir
