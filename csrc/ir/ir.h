// The in-memory form of kiln's text IR (grammar in docs/ir.md).
//
// A Graph is a list of values and a list of nodes in execution order. Every value has one
// definition: a graph input, a persistent param/state (owned by the Store, shared by every
// program), or an output of exactly one node. Node order is the schedule: the executor runs nodes
// as listed, and side-effecting nodes (optimizer updates) are placed after every read of the
// state they write. A dim of -1 (`?` in text) is the batch size and `?t` a named dynamic dim
// (ir/dims.h), both fixed per memory plan.
//
// A graph may hold nested graphs (`bodies`), which a node runs by name (scan's `body` attribute:
// its step, run once per timestep). A body declares only inputs: what it reads from outside it
// comes in as the node's operands, so it is a pure function of its inputs, differentiated and
// planned like any graph. Bodies are scoped to the graph that holds them.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/errors.h"
#include "ir/dims.h"

namespace kiln::ir {

enum class DType { f32, i32 };
const char* dtype_name(DType t);
// Dims are sizes >= 0, or negative for symbolic dims (ir/dims.h): -1 (`?`) is the batch size,
// -k (`?*k`) the batch size times k (a time axis folded into the batch), `?t` a named dynamic dim.

struct Type {
  DType dtype = DType::f32;
  std::vector<int64_t> dims;

  int rank() const { return static_cast<int>(dims.size()); }
  bool operator==(const Type& o) const { return dtype == o.dtype && dims == o.dims; }
  bool operator!=(const Type& o) const { return !(*this == o); }
  // Number of elements at the run's sizes (overflow is a ShapeError).
  int64_t numel(const Sizes& sizes) const;
  bool has_names() const;  // some dim carries a named dynamic dim
  std::string str() const;
};

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>>;
using Attrs = std::map<std::string, AttrValue>;  // sorted: the printer is canonical

// An attribute value as the printer writes it: 3, 1.5, "same", [1,2].
std::string attr_text(const AttrValue& v);

// Typed reads of declaration attributes (init, seed, scale), with a clear error when one has the
// wrong kind. Op attributes are read through ops::AttrReader, which takes defaults from the schema.
int64_t attr_int(const Attrs& a, const std::string& key, int64_t dflt);
double attr_float(const Attrs& a, const std::string& key, double dflt);
std::string attr_str(const Attrs& a, const std::string& key, const std::string& dflt);
std::vector<int64_t> attr_ints(const Attrs& a, const std::string& key);
bool has_attr(const Attrs& a, const std::string& key);

enum class ValueKind { input, param, state, node };

struct Value {
  std::string name;  // without the leading %
  Type type;
  ValueKind kind = ValueKind::node;
  int producer = -1;  // node index for kind == node
  Attrs attrs;        // param/state: how to initialize (`init`), nothing else
  int line = 0;       // source line when parsed, 0 when built
};

struct Node {
  std::string op;
  std::vector<int> inputs;
  std::vector<int> outputs;
  Attrs attrs;
  int line = 0;
};

class Graph {
 public:
  std::string name = "main";
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs, params, states, outputs;
  std::vector<Graph> bodies;  // nested graphs, run by nodes of this graph (unique names)

  int find(const std::string& name) const;  // -1 when absent
  int add_decl(const std::string& name, ValueKind kind, const Type& t, Attrs attrs = {});
  // Appends a node whose outputs get the given names and types (no inference here).
  int add_node(const std::string& op, std::vector<int> inputs, Attrs attrs,
               const std::vector<std::string>& out_names, const std::vector<Type>& out_types);
  // The nested graph named `name`, or nullptr.
  const Graph* body(const std::string& name) const;
  // A body name not used yet, built from `stem`.
  std::string fresh_body_name(const std::string& stem) const;
  // A name not used yet, built from `stem`.
  std::string fresh_name(const std::string& stem);
  // Rebuilds the name index and producers after values or nodes were removed or reordered.
  void reindex();

 private:
  std::unordered_map<std::string, int> by_name_;
  int counter_ = 0;
};

// Text form. parse() trusts nothing: every error names the line and column and echoes the line.
Graph parse(const std::string& text);
std::string print(const Graph& g);
// One type written as the IR writes it ("f32[?,784]", "f32[?,?t,3]"); a ParseError otherwise.
Type parse_type(const std::string& text);
// Re-infers every node's output types from the op schemas and checks them against the declared
// ones; checks arity, attributes, single definition and use before definition. Nested graphs are
// verified first, each on its own (declaring only inputs), then as the interface their node needs.
void verify(const Graph& g);

std::string format_float(double v);

// Nested graphs may nest this deep (the parser, printer and verifier recurse).
constexpr int kMaxNesting = 8;

}  // namespace kiln::ir
