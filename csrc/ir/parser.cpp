// Text IR → Graph. Syntax only (names, types, attributes, definition before use); op semantics
// are checked by verify(). Every error gives line:column and echoes the line with a caret.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "base/text.h"
#include "ir/ir.h"

namespace kiln::ir {
namespace {

enum class Tok { ident, value, global, integer, number, string, punct, end };

struct Token {
  Tok kind;
  std::string text;
  int col;
};

class LineParser {
 public:
  LineParser(const std::string& line, int lineno) : s_(line), lineno_(lineno) { lex(); }

  [[noreturn]] void fail(const std::string& msg, int col = -1) const {
    if (col < 0) col = pos_ < toks_.size() ? toks_[pos_].col : static_cast<int>(s_.size());
    std::ostringstream o;
    o << "line " << lineno_ << ", col " << col + 1 << ": " << msg << "\n  " << s_ << "\n  "
      << std::string(col, ' ') << "^";
    throw ParseError(o.str());
  }

  const Token& peek() const { return toks_[pos_]; }
  bool at_end() const { return toks_[pos_].kind == Tok::end; }
  bool is_punct(char c) const { return peek().kind == Tok::punct && peek().text[0] == c; }
  bool accept(char c) {
    if (!is_punct(c)) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const char* what) {
    if (!accept(c)) fail(std::string("expected '") + c + "' " + what);
  }
  Token next() { return toks_[pos_ == toks_.size() - 1 ? pos_ : pos_++]; }
  std::string expect_kind(Tok k, const char* what) {
    if (peek().kind != k) fail(std::string("expected ") + what);
    return next().text;
  }
  void expect_end() {
    if (!at_end()) fail("unexpected '" + peek().text + "' at end of line");
  }

  Type parse_type() {
    Type t;
    int col = peek().col;
    std::string dt = expect_kind(Tok::ident, "a type such as f32[?,10]");
    if (dt == "f32") t.dtype = DType::f32;
    else if (dt == "i32") t.dtype = DType::i32;
    else fail("unknown dtype '" + dt + "' (expected f32 or i32)", col);
    expect('[', "after the dtype");
    if (!accept(']')) {
      for (;;) {
        t.dims.push_back(parse_dim());
        if (accept(']')) break;
        expect(',', "or ']' in the dimension list");
      }
    }
    if (t.dims.size() > 8) fail("more than 8 dimensions", col);
    return t;
  }

  // dim := INT | term ('*' term)*, term := '?' | '?NAME' | INT, with at least one '?', at most one
  // batch, one name and one factor (dims.h). Printed canonically: ?, ?*3, ?t, ?t*3, ?*?t, ?*?t*3.
  int64_t parse_dim() {
    int col = peek().col;
    if (peek().kind == Tok::integer) {
      std::string d = next().text;
      long long v = std::strtoll(d.c_str(), nullptr, 10);
      if (v < 0 || d.size() > 12) fail("dimension out of range: " + d, col);
      if (!(peek().kind == Tok::punct && peek().text == "*")) return v;
      fail("a static factor comes last in a symbolic dim, as in ?*" + d, col);
    }
    DimParts p;
    bool factor = false;
    for (;;) {
      int c = peek().col;
      if (accept('?')) {
        if (peek().kind == Tok::ident && peek().col == c + 1) {
          std::string name = next().text;
          if (p.name) fail("a dim holds at most one named dynamic dim", c);
          try {
            p.name = dim_name_code(name);
          } catch (const ShapeError& e) {
            fail(e.what(), c);
          }
        } else {
          if (p.batch) fail("a dim holds the batch ? at most once", c);
          p.batch = true;
        }
      } else if (peek().kind == Tok::integer && !factor) {
        std::string f = next().text;
        long long v = std::strtoll(f.c_str(), nullptr, 10);
        if (v < 1 || v > kMaxDimFactor || f.size() > 9) fail("factor out of range (1 .. 2^24-1): " + f, c);
        p.factor = v;
        factor = true;
      } else {
        fail("expected a dimension (a non-negative integer, ?, ?name, or their product such as ?*?t*2)", c);
      }
      if (!accept('*')) break;
    }
    if (!p.batch && !p.name) fail("a factor needs ? or ?name before it", col);
    return make_dim(p);
  }

  AttrValue parse_attr_value() {
    const Token& t = peek();
    int col = t.col;
    if (t.kind == Tok::integer) {
      errno = 0;
      long long v = std::strtoll(next().text.c_str(), nullptr, 10);
      if (errno == ERANGE) fail("integer out of range", col);
      return static_cast<int64_t>(v);
    }
    if (t.kind == Tok::number) return std::strtod(next().text.c_str(), nullptr);
    if (t.kind == Tok::string) return next().text;
    if (accept('[')) {
      std::vector<int64_t> xs;
      if (accept(']')) return xs;
      for (;;) {
        int c = peek().col;
        std::string d = expect_kind(Tok::integer, "an integer in the list");
        errno = 0;
        long long v = std::strtoll(d.c_str(), nullptr, 10);
        if (errno == ERANGE) fail("integer out of range", c);
        xs.push_back(v);
        if (accept(']')) return xs;
        expect(',', "or ']' in the list");
      }
    }
    fail("expected an attribute value (integer, number, \"string\" or [integers])", col);
  }

  Attrs parse_attrs() {
    Attrs a;
    if (!accept('{')) return a;
    if (accept('}')) return a;
    for (;;) {
      int col = peek().col;
      std::string key = expect_kind(Tok::ident, "an attribute name");
      if (a.count(key)) fail("attribute '" + key + "' given twice", col);
      expect('=', "after the attribute name");
      a[key] = parse_attr_value();
      if (accept('}')) return a;
      expect(',', "or '}' between attributes");
    }
  }

 private:
  void lex() {
    size_t i = 0, n = s_.size();
    while (i < n) {
      char c = s_[i];
      int col = static_cast<int>(i);
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
      } else if (c == '#') {
        break;
      } else if (c == '%' || c == '@') {
        size_t j = i + 1;
        while (j < n && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_' || s_[j] == '.'))
          ++j;
        if (j == i + 1) fail(std::string("expected a name after '") + c + "'", col);
        toks_.push_back({c == '%' ? Tok::value : Tok::global, s_.substr(i + 1, j - i - 1), col});
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < n && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
        std::string w = s_.substr(i, j - i);
        toks_.push_back({(w == "nan" || w == "inf") ? Tok::number : Tok::ident, w, col});
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
        size_t j = i + 1;
        bool is_float = (c == '.');
        while (j < n) {
          char d = s_[j];
          if (std::isdigit(static_cast<unsigned char>(d))) {
            ++j;
          } else if (d == '.') {
            is_float = true;
            ++j;
          } else if ((d == 'e' || d == 'E')) {
            is_float = true;
            ++j;
            if (j < n && (s_[j] == '-' || s_[j] == '+')) ++j;
          } else {
            break;
          }
        }
        std::string w = s_.substr(i, j - i);
        if (w == "-" && j < n && s_.compare(j, 3, "inf") == 0) {
          toks_.push_back({Tok::number, "-inf", col});
          i = j + 3;
          continue;
        }
        char* endp = nullptr;
        std::strtod(w.c_str(), &endp);
        if (endp != w.c_str() + w.size() || w == "-" || w == "+")
          fail("malformed number '" + w + "'", col);
        toks_.push_back({is_float ? Tok::number : Tok::integer, w, col});
        i = j;
      } else if (c == '"') {
        std::string v;
        size_t j = i + 1;
        for (;; ++j) {
          if (j >= n) fail("unterminated string", col);
          if (s_[j] == '"') break;
          if (s_[j] == '\\') {
            if (j + 1 >= n || (s_[j + 1] != '"' && s_[j + 1] != '\\')) fail("bad escape in string", int(j));
            ++j;
          }
          v += s_[j];
        }
        toks_.push_back({Tok::string, v, col});
        i = j + 1;
      } else if (std::string("=(){}[],:?*").find(c) != std::string::npos) {
        toks_.push_back({Tok::punct, std::string(1, c), col});
        ++i;
      } else {
        fail(std::string("unexpected character '") + c + "'", col);
      }
    }
    toks_.push_back({Tok::end, "end of line", static_cast<int>(n)});
  }

  std::string s_;
  int lineno_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

Type parse_type(const std::string& text) {
  LineParser p(text, 1);
  Type t = p.parse_type();
  p.expect_end();
  return t;
}

Graph parse(const std::string& text) {
  std::vector<std::string> lines = split_lines(text);
  // The graphs being read, outermost first: a nested graph is read inside its parent and moved
  // into the parent's bodies at its closing '}'.
  struct Frame {
    Graph g;
    bool after_output = false;
  };
  std::vector<Frame> open;
  Graph top;
  enum { kHeader, kGraph, kOpen, kDone } state = kHeader;
  int version = 2;
  // Version 2 adds named dynamic dims (?t) and nested graphs; a version 1 file holds neither.
  auto type_at = [&](LineParser& p) {
    int col = p.peek().col;
    Type t = p.parse_type();
    if (version == 1 && t.has_names()) p.fail("named dynamic dims such as ?t need the header 'kiln 2'", col);
    return t;
  };
  auto open_graph = [&](LineParser& p) {
    p.next();
    Frame f;
    f.g.name = p.expect_kind(Tok::global, "the graph name, e.g. @train");
    p.expect('{', "after the graph name");
    p.expect_end();
    open.push_back(std::move(f));
  };
  for (size_t li = 0; li < lines.size(); ++li) {
    int lineno = static_cast<int>(li) + 1;
    LineParser p(lines[li], lineno);
    if (p.at_end()) continue;  // blank or comment
    const Token first = p.peek();
    switch (state) {
      case kHeader: {
        if (first.kind != Tok::ident || first.text != "kiln") p.fail("expected the header 'kiln 1'");
        p.next();
        int col = p.peek().col;
        std::string v = p.expect_kind(Tok::integer, "the IR version after 'kiln'");
        if (v != "1" && v != "2") p.fail("unsupported IR version " + v + " (this runtime reads versions 1 and 2)", col);
        version = v == "1" ? 1 : 2;
        p.expect_end();
        state = kGraph;
        break;
      }
      case kGraph: {
        if (first.kind != Tok::ident || first.text != "graph") p.fail("expected 'graph @name {'");
        open_graph(p);
        state = kOpen;
        break;
      }
      case kDone:
        p.fail("unexpected text after the end of the graph");
      case kOpen: {
        Frame& f = open.back();
        Graph& g = f.g;
        auto define = [&](int id) { g.values[id].line = lineno; };
        if (f.after_output) {
          if (!p.accept('}')) p.fail("expected '}': the 'output' line must be the last line of the graph");
          p.expect_end();
          Graph done = std::move(g);
          open.pop_back();
          if (open.empty()) {
            top = std::move(done);
            state = kDone;
          } else {
            if (open.back().g.body(done.name))
              p.fail("graph @" + done.name + " is already defined in graph @" + open.back().g.name, first.col);
            open.back().g.bodies.push_back(std::move(done));
          }
          break;
        }
        if (first.kind == Tok::punct && first.text == "}") p.fail("the graph has no 'output' line");
        if (first.kind == Tok::ident && first.text == "graph") {
          if (version == 1) p.fail("nested graphs need the header 'kiln 2'");
          if (!g.values.empty() || !g.nodes.empty())
            p.fail("nested graphs come first in a graph, before its declarations and nodes");
          if (open.size() >= static_cast<size_t>(kMaxNesting))
            p.fail("graphs nest at most " + std::to_string(kMaxNesting) + " deep");
          open_graph(p);
          break;
        }
        if (first.kind == Tok::ident && (first.text == "input" || first.text == "param" || first.text == "state")) {
          p.next();
          if (!g.nodes.empty()) p.fail("declarations (input/param/state) must come before the first node", first.col);
          if (first.text != "input" && open.size() > 1)
            p.fail("a nested graph declares only inputs: what it reads comes in as operands of the node that runs it",
                   first.col);
          int col = p.peek().col;
          std::string name = p.expect_kind(Tok::value, "a value name such as %x");
          if (g.find(name) >= 0) p.fail("value %" + name + " is already defined", col);
          p.expect(':', "after the value name");
          Type t = type_at(p);
          Attrs a = p.parse_attrs();
          p.expect_end();
          ValueKind k = first.text == "input" ? ValueKind::input
                        : first.text == "param" ? ValueKind::param : ValueKind::state;
          if (k == ValueKind::input && !a.empty()) p.fail("inputs take no attributes", col);
          if (k != ValueKind::input) {
            for (int64_t d : t.dims)
              if (is_batch(d)) p.fail("a " + first.text + " cannot have a symbolic dimension (? or ?name)", col);
          }
          define(g.add_decl(name, k, t, std::move(a)));
          break;
        }
        if (first.kind == Tok::ident && first.text == "output") {
          p.next();
          for (;;) {
            int col = p.peek().col;
            std::string name = p.expect_kind(Tok::value, "a value name after 'output'");
            int id = g.find(name);
            if (id < 0) p.fail("output %" + name + " is not defined", col);
            g.outputs.push_back(id);
            if (p.at_end()) break;
            p.expect(',', "between outputs");
          }
          f.after_output = true;
          break;
        }
        // Node: [%a, %b =] op(%x, ...) [{attrs}] [: type, type]
        std::vector<std::pair<std::string, int>> outs;
        if (first.kind == Tok::value) {
          for (;;) {
            int col = p.peek().col;
            std::string name = p.expect_kind(Tok::value, "a result name");
            for (auto& o : outs)
              if (o.first == name) p.fail("result %" + name + " is named twice", col);
            if (g.find(name) >= 0) p.fail("value %" + name + " is already defined", col);
            outs.push_back({name, col});
            if (p.accept('=')) break;
            p.expect(',', "or '=' after a result name");
          }
        }
        int opcol = p.peek().col;
        std::string op = p.expect_kind(Tok::ident, "an op name");
        p.expect('(', "after the op name");
        std::vector<int> ins;
        if (!p.accept(')')) {
          for (;;) {
            int col = p.peek().col;
            std::string name = p.expect_kind(Tok::value, "an operand such as %x");
            int id = g.find(name);
            if (id < 0) p.fail("operand %" + name + " is used before it is defined", col);
            ins.push_back(id);
            if (p.accept(')')) break;
            p.expect(',', "or ')' between operands");
          }
        }
        Attrs a = p.parse_attrs();
        std::vector<Type> types;
        if (p.accept(':')) {
          for (;;) {
            types.push_back(type_at(p));
            if (p.at_end()) break;
            p.expect(',', "between result types");
          }
        }
        p.expect_end();
        if (types.size() != outs.size())
          p.fail("op '" + op + "' names " + std::to_string(outs.size()) + " result(s) but gives " +
                     std::to_string(types.size()) + " type(s)",
                 opcol);
        std::vector<std::string> names;
        for (auto& o : outs) names.push_back(o.first);
        int n = g.add_node(op, std::move(ins), std::move(a), names, types);
        g.nodes[n].line = lineno;
        for (int o : g.nodes[n].outputs) define(o);
        break;
      }
    }
  }
  if (state == kHeader) throw ParseError("line 1: empty IR: expected the header 'kiln 1'");
  if (state == kGraph) throw ParseError("line " + std::to_string(lines.size()) + ": expected 'graph @name {'");
  if (state == kOpen) {
    const std::string at = "line " + std::to_string(lines.size()) + ": ";
    if (open.back().after_output) throw ParseError(at + "missing '}' at the end of graph @" + open.back().g.name);
    throw ParseError(at + "graph @" + open.back().g.name + " has no 'output' line");
  }
  return top;
}

}  // namespace kiln::ir
