// Graph → canonical text: header, declarations, one node per line in schedule order, sorted
// attributes, a type on every result. parse(print(g)) prints identically.
#include <sstream>

#include "ir/ir.h"

namespace kiln::ir {

static std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string attr_text(const AttrValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return format_float(*p);
  if (auto p = std::get_if<std::string>(&v)) return quote(*p);
  const auto& xs = std::get<std::vector<int64_t>>(v);
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? "," : "") + std::to_string(xs[i]);
  return s + "]";
}

static std::string attrs_text(const Attrs& a) {
  if (a.empty()) return "";
  std::string s = " {";
  bool first = true;
  for (auto& [k, v] : a) {
    s += (first ? "" : ", ") + k + "=" + attr_text(v);
    first = false;
  }
  return s + "}";
}

// Version 2 features: named dims in some type, or nested graphs.
static bool needs_v2(const Graph& g) {
  if (!g.bodies.empty()) return true;
  for (const Value& v : g.values)
    if (v.type.has_names()) return true;
  return false;
}

// One graph, its nested graphs first, indented two spaces per level.
static void print_graph(std::ostringstream& o, const Graph& g, const std::string& pad) {
  o << pad << "graph @" << g.name << " {\n";
  const std::string in = pad + "  ";
  for (const Graph& b : g.bodies) print_graph(o, b, in);
  auto decl = [&](const char* kw, int id) {
    const Value& v = g.values[id];
    o << in << kw << " %" << v.name << " : " << v.type.str() << attrs_text(v.attrs) << "\n";
  };
  for (int id : g.inputs) decl("input", id);
  for (int id : g.params) decl("param", id);
  for (int id : g.states) decl("state", id);
  for (const Node& n : g.nodes) {
    o << in;
    for (size_t i = 0; i < n.outputs.size(); ++i) o << (i ? ", %" : "%") << g.values[n.outputs[i]].name;
    if (!n.outputs.empty()) o << " = ";
    o << n.op << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i) o << (i ? ", %" : "%") << g.values[n.inputs[i]].name;
    o << ")" << attrs_text(n.attrs);
    for (size_t i = 0; i < n.outputs.size(); ++i) o << (i ? ", " : " : ") << g.values[n.outputs[i]].type.str();
    o << "\n";
  }
  o << in << "output";
  for (size_t i = 0; i < g.outputs.size(); ++i) o << (i ? ", %" : " %") << g.values[g.outputs[i]].name;
  o << "\n" << pad << "}\n";
}

std::string print(const Graph& g) {
  std::ostringstream o;
  // Version 1 unless the graph needs version 2 (named dims, nested graphs), so such files stay
  // readable by version 1.
  o << (needs_v2(g) ? "kiln 2" : "kiln 1") << "\n";
  print_graph(o, g, "");
  return o.str();
}

}  // namespace kiln::ir
