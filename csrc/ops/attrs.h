// Typed op attributes: what a schema declares about each attribute (its kind, and a default, or
// that it is required, or what leaving it out means), the check of a node's attributes against
// those declarations, and the one way infer functions, gradients and kernels read them.
//
//   KILN_OP(softmax).inputs({"x"}).attr_int("axis", -1) ...          // csrc/ops/softmax.cpp
//   int64_t axis = a.get_int("axis");  // -1 when the node leaves `axis` out
//
// A default lives only in its schema. The reader returns it for an attribute the IR leaves out;
// nothing writes it into the graph, so a node prints as it was written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kiln::ops {

// The IR has no boolean literal: a bool is the integer 0 or 1. A float attribute also accepts an
// integer literal (`{value=3}`), and an ints attribute a single integer (a list of one).
enum class AttrKind { integer, number, string, integers, boolean };
const char* attr_kind_name(AttrKind k);  // "int", "float", "str", "ints", "bool": the builder names

// For an optional attribute with no fixed default: what its absence means, in words
// (`.attr_ints("axes", WhenAbsent{"every axis"})`). Code that reads one asks has() first.
struct WhenAbsent {
  std::string meaning;
};

struct AttrSpec {
  enum class Presence { defaulted, required, optional };
  std::string name;
  AttrKind kind = AttrKind::integer;
  Presence presence = Presence::required;
  ir::AttrValue dflt;       // when defaulted (a bool as 0 or 1)
  std::string when_absent;  // when optional
};

// Why `v` is not a value of `spec` ("attribute 'axis' must be an integer, got 1.5"), or "" when it is.
std::string attr_kind_error(const AttrSpec& spec, const ir::AttrValue& v);

// Checks written attributes against an op's declarations: no unknown name, every kind as
// declared, every required one present. Throws ValueError starting "[op] ".
void check_attrs(const std::string& op, const std::vector<AttrSpec>& specs, const ir::Attrs& attrs);

// A node's attributes read through its op's declarations. Holds references: use it while the
// schema and the attribute map live (a call of infer, a gradient, a kernel run).
class AttrReader {
 public:
  AttrReader(const std::string& op, const std::vector<AttrSpec>& specs, const ir::Attrs& attrs)
      : op_(op), specs_(specs), attrs_(attrs) {}

  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  std::string get_str(const std::string& name) const;
  std::vector<int64_t> get_ints(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  // Whether get_* gives a value: the attribute is written, or the schema gives it a default.
  bool has(const std::string& name) const;
  const std::string& op() const { return op_; }

 private:
  // The written value, or the default; throws for a required or optional one that is absent.
  const ir::AttrValue& value(const std::string& name, AttrKind kind) const;
  const AttrSpec& spec(const std::string& name, AttrKind kind) const;

  const std::string& op_;
  const std::vector<AttrSpec>& specs_;
  const ir::Attrs& attrs_;
};

// The attributes of a node of a registered op (ValueError for an unknown op). Kernels get theirs
// from KernelArgs::attrs().
AttrReader attrs_of(const ir::Node& n);

}  // namespace kiln::ops
