// The manifest's strict reader and its canonical writer (manifest.h).
#include "bundle/manifest.h"

#include <cctype>
#include <set>
#include <sstream>

#include "base/text.h"

namespace kiln::bundle {
namespace {

class Lines {
 public:
  Lines(const std::string& file) : file_(file) {}
  [[noreturn]] void fail(int line, const std::string& msg) const {
    throw ParseError(file_ + " line " + std::to_string(line) + ": " + msg);
  }

 private:
  std::string file_;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool plain_name(const std::string& s) {  // a file of the bundle's own folder: no path, no hidden file
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool identifier(const std::string& s) {
  if (s.empty() || s.size() > 64 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

bool value_name(const std::string& s) {
  if (s.size() < 2 || s.size() > 256 || s[0] != '%') return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (!(std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.')) return false;
  return true;
}

}  // namespace

const ProgramEntry* Manifest::program(const std::string& name) const {
  for (const ProgramEntry& p : programs)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<Port> Manifest::ports(const std::vector<Port>& all, const std::string& name) const {
  std::vector<Port> out;
  for (const Port& p : all)
    if (p.program == name) out.push_back(p);
  return out;
}

Manifest parse_manifest(const std::string& text, const std::string& file) {
  Lines L(file);
  Manifest m;
  std::vector<std::string> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find('\0') != std::string::npos) L.fail(static_cast<int>(i) + 1, "a NUL byte: a manifest is text");
  if (lines.empty() || split(lines[0]) != std::vector<std::string>{"kiln-bundle", "1"}) {
    std::vector<std::string> w = lines.empty() ? std::vector<std::string>{} : split(lines[0]);
    if (w.size() == 2 && w[0] == "kiln-bundle")
      L.fail(1, "unsupported bundle version " + w[1] + " (this kiln reads version " + std::to_string(kFormatVersion) + ")");
    L.fail(1, "expected the header 'kiln-bundle 1'");
  }
  auto number = [&](int line, const std::string& s, const char* what) {
    if (s.empty() || s.size() > 18) L.fail(line, std::string("expected ") + what + ", got '" + s + "'");
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c))) L.fail(line, std::string("expected ") + what + ", got '" + s + "'");
    return std::stoll(s);
  };
  auto type = [&](int line, const std::string& s) {
    try {
      return ir::parse_type(s);
    } catch (const ParseError&) {
      L.fail(line, "expected a type such as f32[?,784], got '" + s + "'");
    }
  };
  std::set<std::string> tensor_names, port_names;
  for (size_t i = 1; i < lines.size(); ++i) {
    int n = static_cast<int>(i) + 1;
    std::vector<std::string> w = split(lines[i]);
    if (w.empty()) continue;
    const std::string& k = w[0];
    auto arity = [&](size_t want, const char* form) {
      if (w.size() != want) L.fail(n, "expected '" + std::string(form) + "'");
    };
    if (k == "kiln-version") {
      arity(2, "kiln-version VERSION");
      if (!m.kiln_version.empty()) L.fail(n, "kiln-version given twice");
      m.kiln_version = w[1];
    } else if (k == "weights") {
      arity(2, "weights FILE");
      if (!m.weights.empty()) L.fail(n, "weights given twice");
      if (!plain_name(w[1])) L.fail(n, "weights file '" + w[1] + "' must be a plain file name in the bundle's folder");
      m.weights = w[1];
    } else if (k == "program") {
      arity(5, "program NAME FILE runs COUNT");
      if (!identifier(w[1])) L.fail(n, "program name '" + w[1] + "' is not an identifier");
      if (m.program(w[1])) L.fail(n, "program " + w[1] + " given twice");
      if (!plain_name(w[2])) L.fail(n, "program file '" + w[2] + "' must be a plain file name in the bundle's folder");
      if (w[3] != "runs") L.fail(n, "expected 'program NAME FILE runs COUNT'");
      m.programs.push_back({w[1], w[2], static_cast<uint64_t>(number(n, w[4], "a run count"))});
    } else if (k == "input" || k == "output") {
      arity(4, (k + " PROGRAM %VALUE TYPE").c_str());
      if (!m.program(w[1])) L.fail(n, "program " + w[1] + " is not declared above");
      if (!value_name(w[2])) L.fail(n, "expected a value name such as %input_1, got '" + w[2] + "'");
      if (!port_names.insert(k + " " + w[1] + " " + w[2]).second) L.fail(n, k + " " + w[2] + " given twice");
      (k == "input" ? m.inputs : m.outputs).push_back({w[1], w[2].substr(1), type(n, w[3])});
    } else if (k == "tensor") {
      arity(7, "tensor %NAME TYPE offset OFFSET bytes BYTES");
      if (!value_name(w[1])) L.fail(n, "expected a tensor name such as %dense_1_W, got '" + w[1] + "'");
      if (w[3] != "offset" || w[5] != "bytes") L.fail(n, "expected 'tensor %NAME TYPE offset OFFSET bytes BYTES'");
      TensorEntry t{w[1].substr(1), type(n, w[2]), number(n, w[4], "an offset"), number(n, w[6], "a byte count")};
      if (!tensor_names.insert(t.name).second) L.fail(n, "tensor " + w[1] + " given twice");
      if (t.type.dtype != ir::DType::f32) L.fail(n, "tensor " + w[1] + " is " + t.type.str() + "; stored tensors are f32");
      int64_t numel = 1;
      for (int64_t d : t.type.dims) {
        if (d < 0) L.fail(n, "tensor " + w[1] + " : " + t.type.str() + " has a symbolic dim; a stored tensor's are known");
        if (d && numel > (int64_t(1) << 40) / d) L.fail(n, "tensor " + w[1] + " : " + t.type.str() + " is too large");
        numel *= d;
      }
      if (t.bytes != numel * 4)
        L.fail(n, "tensor " + w[1] + " : " + t.type.str() + " holds " + std::to_string(numel * 4) + " bytes, not " +
                      std::to_string(t.bytes));
      if (t.offset % kAlign) L.fail(n, "tensor " + w[1] + " starts at offset " + w[4] + ", not a multiple of 64");
      m.tensors.push_back(t);
    } else {
      L.fail(n, "unknown entry '" + k + "' (expected kiln-version, weights, program, input, output or tensor)");
    }
  }
  int last = static_cast<int>(lines.size());
  if (m.kiln_version.empty()) L.fail(last, "no kiln-version line");
  if (m.weights.empty()) L.fail(last, "no weights line");
  if (m.programs.empty()) L.fail(last, "no program line");
  return m;
}

std::string print_manifest(const Manifest& m) {
  std::ostringstream o;
  o << "kiln-bundle " << kFormatVersion << "\nkiln-version " << m.kiln_version << "\nweights " << m.weights << "\n";
  for (const ProgramEntry& p : m.programs) {
    o << "program " << p.name << " " << p.file << " runs " << p.runs << "\n";
    for (const Port& q : m.ports(m.inputs, p.name)) o << "input " << p.name << " %" << q.value << " " << q.type.str() << "\n";
    for (const Port& q : m.ports(m.outputs, p.name)) o << "output " << p.name << " %" << q.value << " " << q.type.str() << "\n";
  }
  for (const TensorEntry& t : m.tensors)
    o << "tensor %" << t.name << " " << t.type.str() << " offset " << t.offset << " bytes " << t.bytes << "\n";
  return o.str();
}

}  // namespace kiln::bundle
