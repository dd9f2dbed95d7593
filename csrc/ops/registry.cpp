// Registry storage, attribute declarations, the inference entry point, GradBuilder and shared
// shape helpers.
#include "ops/registry.h"

#include <algorithm>

namespace kiln::ops {

Schema& Schema::add(AttrSpec spec) {
  if (find_attr(spec.name)) throw std::logic_error("[" + name + "] attribute '" + spec.name + "' declared twice");
  attrs.push_back(std::move(spec));
  return *this;
}

Schema& Schema::declare(const std::string& n, AttrKind k, ir::AttrValue dflt) {
  AttrSpec s{n, k, AttrSpec::Presence::defaulted, std::move(dflt), ""};
  if (!attr_kind_error(s, s.dflt).empty()) throw std::logic_error("[" + name + "] default of '" + n + "' is not a " + attr_kind_name(k));
  return add(std::move(s));
}

Schema& Schema::declare(const std::string& n, AttrKind k) {
  return add(AttrSpec{n, k, AttrSpec::Presence::required, {}, ""});
}

Schema& Schema::declare(const std::string& n, AttrKind k, WhenAbsent w) {
  return add(AttrSpec{n, k, AttrSpec::Presence::optional, {}, std::move(w.meaning)});
}

Schema& Schema::attrs_like(const std::string& op, const std::vector<std::string>& names) {
  const Schema& other = Registry::get().at(op);
  for (const AttrSpec& s : other.attrs)
    if (names.empty() || std::find(names.begin(), names.end(), s.name) != names.end()) add(s);
  for (const std::string& n : names)
    if (!other.find_attr(n)) throw std::logic_error("[" + name + "] attrs_like: " + op + " declares no '" + n + "'");
  return *this;
}

const AttrSpec* Schema::find_attr(const std::string& n) const {
  for (const AttrSpec& s : attrs)
    if (s.name == n) return &s;
  return nullptr;
}

Registry& Registry::get() {
  static Registry r;
  return r;
}

Schema& Registry::def(const std::string& name) {
  for (Schema* s : schemas_)
    if (s->name == name) throw std::logic_error("op registered twice: " + name);
  auto* s = new Schema();  // lives for the whole process, like the registry
  s->name = name;
  schemas_.push_back(s);
  by_name_[name] = s;
  return *s;
}

const Schema* Registry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Schema& Registry::at(const std::string& name) const {
  const Schema* s = find(name);
  if (!s) throw ValueError("unknown op '" + name + "'");
  return *s;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const Schema* s : schemas_) out.push_back(s->name);
  std::sort(out.begin(), out.end());
  return out;
}

const ir::Graph& body_of(const ir::Graph& scope, const Attrs& attrs, const std::string& op) {
  std::string name = ir::attr_str(attrs, "body", "");
  const ir::Graph* b = scope.body(name);
  if (!b) throw ValueError("[" + op + "] runs graph @" + name + ", which graph @" + scope.name + " does not define");
  return *b;
}

std::vector<Type> infer(const std::string& op, const std::vector<Type>& in, const Attrs& attrs, const ir::Graph* scope) {
  const Schema& s = Registry::get().at(op);
  int n = static_cast<int>(in.size());
  if (n < s.min_inputs || n > s.max_inputs) {
    std::string want = s.min_inputs == s.max_inputs ? std::to_string(s.min_inputs)
                       : s.max_inputs > 1000 ? "at least " + std::to_string(s.min_inputs)
                                             : std::to_string(s.min_inputs) + " to " + std::to_string(s.max_inputs);
    throw ShapeError("[" + op + "] expected " + want + " operand(s), got " + std::to_string(n));
  }
  check_attrs(op, s.attrs, attrs);
  try {
    if (s.runs_body()) {
      if (!scope) throw ValueError("runs a nested graph, so it is inferred only within a graph");
      return s.body_infer(in, AttrReader(s.name, s.attrs, attrs), body_of(*scope, attrs, op));
    }
    return s.infer(in, AttrReader(s.name, s.attrs, attrs));
  } catch (const ShapeError& e) {
    throw ShapeError("[" + op + "] " + e.what());
  } catch (const ValueError& e) {
    throw ValueError("[" + op + "] " + e.what());
  }
}

AttrReader attrs_of(const ir::Node& n) {
  const Schema& s = Registry::get().at(n.op);
  return AttrReader(s.name, s.attrs, n.attrs);
}

int GradBuilder::emit(const std::string& op, std::vector<int> ins, Attrs attrs) {
  auto outs = emit_multi(op, std::move(ins), std::move(attrs));
  if (outs.size() != 1) throw std::logic_error("emit: op " + op + " has several results");
  return outs[0];
}

std::vector<int> GradBuilder::emit_multi(const std::string& op, std::vector<int> ins, Attrs attrs) {
  std::vector<Type> in_types;
  for (int v : ins) in_types.push_back(g_.values[v].type);
  std::vector<Type> out_types = infer(op, in_types, attrs, &g_);
  std::vector<std::string> names;
  for (size_t i = 0; i < out_types.size(); ++i) names.push_back(g_.fresh_name(stem_));
  int n = g_.add_node(op, std::move(ins), std::move(attrs), names, out_types);
  return g_.nodes[n].outputs;
}

std::vector<int> GradBuilder::extend_results(const ir::Node& n, const Attrs& attrs) {
  ir::Node* fwd = nullptr;
  for (ir::Node& m : g_.nodes)
    if (!m.outputs.empty() && !n.outputs.empty() && m.outputs[0] == n.outputs[0]) fwd = &m;
  if (!fwd) throw std::logic_error("extend_results: the forward node is not in the graph");
  std::vector<Type> in_types;
  for (int v : fwd->inputs) in_types.push_back(g_.values[v].type);
  Attrs merged = fwd->attrs;
  for (auto& [k, v] : attrs) merged[k] = v;
  std::vector<Type> out_types = infer(fwd->op, in_types, merged, &g_);
  if (out_types.size() < fwd->outputs.size()) throw std::logic_error("extend_results: the node would lose results");
  fwd->attrs = merged;
  std::string stem = g_.values[fwd->outputs[0]].name + ".saved";
  std::vector<int> added;
  for (size_t i = fwd->outputs.size(); i < out_types.size(); ++i) {
    int v = g_.add_decl(g_.fresh_name(stem), ir::ValueKind::node, out_types[i]);
    added.push_back(v);
  }
  fwd->outputs.insert(fwd->outputs.end(), added.begin(), added.end());  // add_decl leaves nodes as they are
  g_.reindex();
  return added;
}

int GradBuilder::unbroadcast(int dy, int x) {
  if (type(dy).dims == type(x).dims) return dy;
  return emit("sum_like", {dy, x});
}

int GradBuilder::scalar(double v) { return emit("constant", {}, {{"value", v}}); }

std::string shape_str(const Type& t) { return t.str(); }

bool may_equal(int64_t a, int64_t b) {
  return a == b || (ir::is_named(a) && (b >= 0 || ir::is_named(b))) || (ir::is_named(b) && a >= 0);
}

Type broadcast(const Type& a, const Type& b, const char* op) {
  if (a.dtype != b.dtype)
    throw ShapeError(std::string("operands have different dtypes: ") + a.str() + " and " + b.str());
  int r = std::max(a.rank(), b.rank());
  Type t;
  t.dtype = a.dtype;
  t.dims.resize(r);
  for (int i = 0; i < r; ++i) {
    int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da == db) t.dims[i] = da;
    else if (da == 1) t.dims[i] = db;
    else if (db == 1) t.dims[i] = da;
    else if (may_equal(da, db)) t.dims[i] = db >= 0 ? db : da;  // checked when the lengths are known
    else
      throw ShapeError(std::string("shapes cannot be broadcast together: ") + a.str() + " and " + b.str());
  }
  return t;
}

int norm_axis(int64_t axis, int rank, const char* op) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw ShapeError("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(a);
}

}  // namespace kiln::ops
