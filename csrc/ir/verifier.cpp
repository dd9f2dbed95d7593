// Re-checks a parsed or built graph against the op schemas: arity, attributes, and every
// declared result type against the type the schema infers. Errors name the line (or result).
#include "ir/ir.h"
#include "ops/registry.h"

namespace kiln::ir {

static std::string where(const Graph& g, const Node& n) {
  if (n.line > 0) return "line " + std::to_string(n.line) + ": ";
  if (!n.outputs.empty()) return "node %" + g.values[n.outputs[0]].name + ": ";
  return "node " + n.op + ": ";
}

// No tensor may hold more than 2^40 elements per sample (4 TiB of f32): a bigger declared shape
// is a malformed file, not a model, and must not reach an allocator.
constexpr int64_t kMaxElements = int64_t(1) << 40;

static void check_size(const Value& v) {
  int64_t n = 1;
  for (int64_t d : v.type.dims) {
    if (is_batch(d)) d = dim_parts(d).factor;  // per sample and per unit of each dynamic dim
    if (d != 0 && n > kMaxElements / d)
      throw ShapeError((v.line ? "line " + std::to_string(v.line) + ": " : std::string()) + "%" + v.name + " : " +
                       v.type.str() + " has more than 2^40 elements per sample");
    n *= d;
  }
}

static void verify_at(const Graph& g, int depth);

// Nested graphs: unique names, only inputs declared, within the nesting bound; each verified on
// its own before any node of `g` that runs it is inferred.
static void verify_bodies(const Graph& g, int depth) {
  if (!g.bodies.empty() && depth >= kMaxNesting)
    throw ValueError("graph @" + g.name + ": graphs nest at most " + std::to_string(kMaxNesting) + " deep");
  for (size_t i = 0; i < g.bodies.size(); ++i) {
    const Graph& b = g.bodies[i];
    for (size_t j = 0; j < i; ++j)
      if (g.bodies[j].name == b.name) throw ValueError("graph @" + g.name + " defines graph @" + b.name + " twice");
    if (!b.params.empty() || !b.states.empty())
      throw ValueError("graph @" + b.name + " (nested in @" + g.name +
                       ") declares a param or state: a nested graph declares only inputs");
    verify_at(b, depth + 1);
  }
}

void verify(const Graph& g) { verify_at(g, 0); }

static void verify_at(const Graph& g, int depth) {
  if (g.outputs.empty()) throw ShapeError("graph @" + g.name + " has no outputs");
  verify_bodies(g, depth);
  for (const Value& v : g.values) check_size(v);
  for (const Value& v : g.values) {
    if (v.kind != ValueKind::param && v.kind != ValueKind::state) continue;
    for (auto& [k, a] : v.attrs) {
      if (k != "init" && k != "seed" && k != "scale")
        throw ValueError((v.line ? "line " + std::to_string(v.line) + ": " : std::string()) + "%" + v.name +
                         ": unknown declaration attribute '" + k + "' (accepted: init, scale, seed)");
    }
  }
  for (const Node& n : g.nodes) {
    const ops::Schema* s = ops::Registry::get().find(n.op);
    if (!s) throw ValueError(where(g, n) + "unknown op '" + n.op + "'");
    std::vector<Type> in;
    for (int v : n.inputs) in.push_back(g.values[v].type);
    std::vector<Type> out;
    try {
      out = ops::infer(n.op, in, n.attrs, &g);
    } catch (const ShapeError& e) {
      throw ShapeError(where(g, n) + e.what());
    } catch (const ValueError& e) {
      throw ValueError(where(g, n) + e.what());
    }
    if (out.size() != n.outputs.size())
      throw ShapeError(where(g, n) + "[" + n.op + "] gives " + std::to_string(out.size()) + " result(s), " +
                       std::to_string(n.outputs.size()) + " named");
    for (size_t i = 0; i < out.size(); ++i) {
      const Value& v = g.values[n.outputs[i]];
      if (v.type != out[i])
        throw ShapeError(where(g, n) + "[" + n.op + "] result %" + v.name + " is declared " + v.type.str() +
                         " but the op gives " + out[i].str());
    }
    for (int w : s->writes) {
      if (w >= static_cast<int>(n.inputs.size())) continue;
      ValueKind k = g.values[n.inputs[w]].kind;
      if (k != ValueKind::param && k != ValueKind::state)
        throw ValueError(where(g, n) + "[" + n.op + "] writes operand " + std::to_string(w) + " (%" +
                         g.values[n.inputs[w]].name + "), which must be a param or state");
    }
  }
}

}  // namespace kiln::ir
