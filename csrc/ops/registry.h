// The op registry: one Schema per op, found by name. A schema holds everything about an op but
// its kernels: arity, its attributes with their kinds and defaults (attrs.h), shape/dtype
// inference and the gradient, written as other registered ops (so it runs wherever those ops
// have kernels).
//
//   KILN_OP(softmax).inputs({"x"}).attr_int("axis", -1).set_infer(infer_softmax).set_grad(grad_softmax);
//   KILN_OP(pool2d).inputs({"x"}).attr_str("mode").attr_ints("pool")          // required
//       .attr_ints("strides", WhenAbsent{"the pool"}).attr_str("padding", "valid") ...
//
// Kernels attach by the same name from csrc/kernels/cpu (KILN_CPU_KERNEL) and cuda/.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/ir.h"
#include "ops/attrs.h"

namespace kiln::ops {

using ir::Attrs;
using ir::Type;

class GradBuilder;

// Infers result types from operand types and attributes (checked against the declarations
// before it runs). Throws ShapeError stating the local fact ("expected ..., got ..."); the
// verifier adds the op, node and line.
using InferFn = std::function<std::vector<Type>(const std::vector<Type>&, const AttrReader&)>;
// Given the node and the cotangent value of each result (-1 when none), emits backward nodes
// and returns one cotangent value per operand (-1 when the operand gets none).
// For an op that runs a nested graph (its `body` attribute names one of the enclosing graph's
// bodies): infers from the operand types, the attributes and that graph's declared interface.
using BodyInferFn = std::function<std::vector<Type>(const std::vector<Type>&, const AttrReader&, const ir::Graph&)>;
using GradFn = std::function<std::vector<int>(GradBuilder&, const ir::Node&, const std::vector<int>&)>;

struct Schema {
  std::string name;
  std::vector<std::string> input_names;
  int min_inputs = 0, max_inputs = 0;
  int num_outputs = 1;
  std::vector<AttrSpec> attrs;  // every attribute the op accepts, in declaration order
  InferFn infer;
  BodyInferFn body_infer;  // set instead of `infer` by ops that run a nested graph
  GradFn grad;
  bool differentiable = true;
  bool side_effect = false;  // writes persistent state; never removed, never reordered
  std::vector<int> writes;   // operands written in place (side-effecting ops)
  // The gradient takes -1 for a result with no cotangent instead of a zero-filled one (ops whose
  // extra results are saved for the backward pass: filling them with zeros would cost a pass).
  bool accepts_missing_cotangents = false;
  // Result 0 holds operand 0's elements in the same order under another type (reshape): the
  // memory plan gives it operand 0's bytes where it can, and the kernel then has nothing to do.
  bool view = false;
  std::string doc;

  Schema& inputs(std::vector<std::string> names, int optional = 0) {
    input_names = std::move(names);
    max_inputs = static_cast<int>(input_names.size());
    min_inputs = max_inputs - optional;
    return *this;
  }
  Schema& variadic(int min_count) {
    min_inputs = min_count;
    max_inputs = 1 << 20;
    return *this;
  }
  Schema& outputs(int n) { num_outputs = n; return *this; }
  // Attributes: (name, default), (name) for a required one, or (name, WhenAbsent{...}) for an
  // optional one whose absence the op gives a meaning to.
  Schema& attr_int(const std::string& n, int64_t d) { return declare(n, AttrKind::integer, d); }
  Schema& attr_int(const std::string& n) { return declare(n, AttrKind::integer); }
  Schema& attr_int(const std::string& n, WhenAbsent w) { return declare(n, AttrKind::integer, std::move(w)); }
  Schema& attr_float(const std::string& n, double d) { return declare(n, AttrKind::number, d); }
  Schema& attr_float(const std::string& n) { return declare(n, AttrKind::number); }
  Schema& attr_str(const std::string& n, std::string d) { return declare(n, AttrKind::string, std::move(d)); }
  Schema& attr_str(const std::string& n) { return declare(n, AttrKind::string); }
  Schema& attr_ints(const std::string& n, std::vector<int64_t> d) { return declare(n, AttrKind::integers, std::move(d)); }
  Schema& attr_ints(const std::string& n) { return declare(n, AttrKind::integers); }
  Schema& attr_ints(const std::string& n, WhenAbsent w) { return declare(n, AttrKind::integers, std::move(w)); }
  Schema& attr_bool(const std::string& n, bool d) { return declare(n, AttrKind::boolean, int64_t(d)); }
  // The declarations of `op` (all, or those named), registered earlier in the same file: a
  // gradient helper takes its forward op's attributes, defaults included, from there.
  Schema& attrs_like(const std::string& op, const std::vector<std::string>& names = {});
  // Runs `declare` on this schema: attributes several ops share, declared once.
  Schema& with(void (*declare)(Schema&)) { declare(*this); return *this; }
  const AttrSpec* find_attr(const std::string& n) const;
  Schema& set_infer(InferFn f) { infer = std::move(f); return *this; }
  Schema& set_body_infer(BodyInferFn f) { body_infer = std::move(f); return *this; }
  bool runs_body() const { return static_cast<bool>(body_infer); }
  Schema& set_grad(GradFn f) { grad = std::move(f); return *this; }
  Schema& non_differentiable() { differentiable = false; return *this; }
  Schema& sparse_cotangents() { accepts_missing_cotangents = true; return *this; }
  Schema& view_of_first() { view = true; return *this; }
  Schema& effect(std::vector<int> written) { side_effect = true; writes = std::move(written); differentiable = false; return *this; }
  Schema& describe(std::string d) { doc = std::move(d); return *this; }

 private:
  Schema& declare(const std::string& n, AttrKind k, ir::AttrValue dflt);
  Schema& declare(const std::string& n, AttrKind k);
  Schema& declare(const std::string& n, AttrKind k, WhenAbsent w);
  Schema& add(AttrSpec spec);
};

class Registry {
 public:
  static Registry& get();
  Schema& def(const std::string& name);
  const Schema* find(const std::string& name) const;
  const Schema& at(const std::string& name) const;  // throws ValueError naming the op
  std::vector<std::string> names() const;

 private:
  std::vector<Schema*> schemas_;
  std::unordered_map<std::string, Schema*> by_name_;  // kernels look their schema up on every run
};

// Infers the result types of `op` on operand types; checks arity and the attributes against
// their declarations (names, kinds, required ones present). `scope` is the graph the node is in:
// an op that runs a nested graph finds it there (without one, such an op is a ValueError).
std::vector<Type> infer(const std::string& op, const std::vector<Type>& in, const Attrs& attrs,
                        const ir::Graph* scope = nullptr);
// The nested graph a node of `scope` runs (its `body` attribute), or a ValueError naming it.
const ir::Graph& body_of(const ir::Graph& scope, const Attrs& attrs, const std::string& op);

// Emits nodes into a graph during autodiff, inferring each result's type.
class GradBuilder {
 public:
  explicit GradBuilder(ir::Graph& g) : g_(g) {}
  // Emitted values are named `<stem>.N`; autodiff sets "g.<forward result>" so that a backward
  // value tells which forward node (and so which layer) it came from.
  void set_stem(std::string stem) { stem_ = std::move(stem); }
  // Which operands of the node being differentiated need a cotangent (autodiff sets it before
  // calling the node's gradient, so a gradient can skip work nobody uses).
  void set_needed(std::vector<bool> needed) { needed_ = std::move(needed); }
  bool needed(size_t operand) const { return operand >= needed_.size() || needed_[operand]; }
  int emit(const std::string& op, std::vector<int> inputs, Attrs attrs = {});
  std::vector<int> emit_multi(const std::string& op, std::vector<int> inputs, Attrs attrs = {});
  // Gives the forward node `n` (found by its first result) the attributes `attrs` and the extra
  // results they add, returning those: scan saves its per-step states only when differentiated.
  std::vector<int> extend_results(const ir::Node& n, const Attrs& attrs);
  const Type& type(int v) const { return g_.values[v].type; }
  ir::Graph& graph() { return g_; }
  // Reduces `dy` to the shape of `x` when `x` was broadcast (no-op when shapes agree).
  int unbroadcast(int dy, int x);
  int scalar(double v);

 private:
  ir::Graph& g_;
  std::string stem_ = "g";
  std::vector<bool> needed_;
};

// Shared shape helpers for schema files.
std::string shape_str(const Type& t);
// Whether two dims can be equal at run time: the same dim, or a named dynamic dim (?t) against a
// static size or another name. Ops accept such pairs symbolically; Program::plan re-infers with
// the lengths put in, so a mismatch is an error naming the node before anything runs.
bool may_equal(int64_t a, int64_t b);
// NumPy broadcasting of two types (dims that may_equal count as equal; the static one is kept).
Type broadcast(const Type& a, const Type& b, const char* op);
int norm_axis(int64_t axis, int rank, const char* op);

#define KILN_OP_CAT2(a, b) a##b
#define KILN_OP_CAT(a, b) KILN_OP_CAT2(a, b)
#define KILN_DEF(name) ::kiln::ops::Registry::get().def(#name)
#define KILN_OP(name) \
  [[maybe_unused]] static ::kiln::ops::Schema& KILN_OP_CAT(kiln_op_, __COUNTER__) = KILN_DEF(name)

}  // namespace kiln::ops
