// Schema attribute tests under ctest: the declarations every registered op makes, the reader
// that applies their defaults, and the verifier's errors for a wrong kind or a missing required
// attribute (with the line). Prints "N passed, N failed".
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>

#include "testing.h"
#include "ir/ir.h"
#include "ops/registry.h"
#include "ops/window.h"

using namespace kiln;

using kiln::testing::check;

static const char* kHeader = "kiln 1\ngraph @g {\n  input %x : f32[?,4,4,2]\n";

// The text of the error verifying `body` (the lines after the header) gives, or "" for none.
static std::string verify_error(const std::string& body) {
  try {
    ir::verify(ir::parse(kHeader + body + "  output %y\n}\n"));
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

static void expect_error(const std::string& body, const std::string& want, const std::string& what) {
  std::string got = verify_error(body);
  bool ok = got.find(want) != std::string::npos;
  if (!ok) std::cout << "  got: " << (got.empty() ? "(no error)" : got) << "\n";
  check(ok, what + ": error says '" + want + "'");
}

template <typename F>
static bool throws_logic_error(F f) {
  try {
    f();
  } catch (const std::logic_error&) {
    return true;
  }
  return false;
}

int main() {
  const ops::Registry& reg = ops::Registry::get();

  // Every declaration is whole: a default of its own kind, or required, or a stated meaning of
  // its absence; and no op declares a name twice (Schema::add refuses it at registration).
  for (const std::string& op : reg.names()) {
    for (const ops::AttrSpec& a : reg.at(op).attrs) {
      std::string what = op + "." + a.name;
      switch (a.presence) {
        case ops::AttrSpec::Presence::defaulted:
          check(ops::attr_kind_error(a, a.dflt).empty(), what + ": default is of the declared kind");
          break;
        case ops::AttrSpec::Presence::optional:
          check(!a.when_absent.empty(), what + ": says what leaving it out means");
          break;
        case ops::AttrSpec::Presence::required:
          break;
      }
    }
  }

  // Gradient helpers carry their forward op's declarations, defaults included (conv2d's helpers
  // its geometry only: its epilogue's activation is differentiated before them, and a fused
  // pool has no gradient).
  for (auto [fwd, helper] : {std::pair{"softmax", "softmax_grad"}, {"elu", "elu_grad"}, {"clip", "clip_grad"},
                             {"conv2d", "conv2d_grad_input"}, {"conv2d", "conv2d_grad_filter"}, {"pool2d", "pool2d_grad"},
                             {"slice", "slice_grad"}}) {
    std::vector<ops::AttrSpec> f;
    for (const ops::AttrSpec& a : reg.at(fwd).attrs)
      if (!(std::string(fwd) == "conv2d" && (a.name == "activation" || a.name == "pool"))) f.push_back(a);
    // pool2d_grad and conv2d_grad_input add the activation they take dx through (fuse_grad.cpp)
    const bool through = std::string(helper) == "pool2d_grad" || std::string(helper) == "conv2d_grad_input";
    std::vector<ops::AttrSpec> h;
    bool has_through = false;
    for (const ops::AttrSpec& a : reg.at(helper).attrs) {
      if (through && a.name == "activation") {
        has_through = a.kind == ops::AttrKind::string && a.dflt == ir::AttrValue(std::string("linear"));
        continue;
      }
      h.push_back(a);
    }
    check(has_through == through, std::string(helper) + (through ? " declares" : " does not declare") +
                                      " activation=\"linear\" to take dx through");
    bool same = f.size() == h.size();
    for (size_t i = 0; same && i < f.size(); ++i)
      same = f[i].name == h[i].name && f[i].kind == h[i].kind && f[i].presence == h[i].presence && f[i].dflt == h[i].dflt;
    check(same, std::string(helper) + " declares exactly " + fwd + "'s attributes");
  }

  // The reader: a written value, else the schema's default; has() for optional ones.
  {
    ir::Node n;
    n.op = "softmax";
    check(ops::attrs_of(n).get_int("axis") == -1, "softmax: axis defaults to -1");
    n.attrs["axis"] = int64_t(0);
    check(ops::attrs_of(n).get_int("axis") == 0, "softmax: a written axis wins");
    n.op = "clip";
    n.attrs = {{"min", int64_t(2)}};
    check(ops::attrs_of(n).get_float("min") == 2.0, "clip: an integer min reads as a number");
    check(ops::attrs_of(n).get_float("max") == INFINITY, "clip: max defaults to +inf");
    n.op = "slice";
    n.attrs = {{"axis", int64_t(1)}};
    check(!ops::attrs_of(n).has("end") && ops::attrs_of(n).has("begin"), "slice: begin has a default, end none");
    check(ops::attrs_of(n).get_int("begin") == 0, "slice: begin defaults to 0");
    check(throws_logic_error([&] { ops::attrs_of(n).get_int("end"); }), "slice: reading an absent end is a bug");
    check(throws_logic_error([&] { ops::attrs_of(n).get_int("stride"); }), "slice: reading an undeclared name is a bug");
    check(throws_logic_error([&] { ops::attrs_of(n).get_float("axis"); }), "slice: reading axis as a float is a bug");
    n.op = "pool2d";
    n.attrs = {{"mode", std::string("max")}, {"pool", std::vector<int64_t>{3, 2}}};
    ops::AttrReader a = ops::attrs_of(n);
    check(ops::window_strides(a, 3, 2) == std::array<int64_t, 2>{3, 2}, "pool2d: strides default to the pool");
    check(!ops::window_same(a), "pool2d: padding defaults to valid");
    n.op = "conv2d";
    n.attrs = {};
    check(ops::window_strides(ops::attrs_of(n), 3, 3) == std::array<int64_t, 2>{1, 1}, "conv2d: strides default to [1,1]");
  }

  // A node built past the verifier still gets a ValueError, not a crash.
  {
    ir::Node n;
    n.op = "pool2d";
    bool value_error = false;
    try {
      ops::attrs_of(n).get_str("mode");
    } catch (const ValueError& e) {
      value_error = std::string(e.what()) == "[pool2d] needs a 'mode' attribute (a string)";
    }
    check(value_error, "pool2d without mode, read directly: ValueError naming op and attribute");
  }

  // The verifier: kinds and required attributes, with the line.
  expect_error("  %y = softmax(%x) {axis=1.5} : f32[?,4,4,2]\n",
               "line 4: [softmax] attribute 'axis' must be an integer, got 1.5", "float for an int");
  expect_error("  %y = pool2d(%x) {mode=1, pool=[2,2]} : f32[?,2,2,2]\n",
               "line 4: [pool2d] attribute 'mode' must be a string, got 1", "int for a string");
  expect_error("  %y = pool2d(%x) {mode=\"max\", pool=2.0} : f32[?,2,2,2]\n",
               "line 4: [pool2d] attribute 'pool' must be a list of integers, got 2.0", "float for ints");
  expect_error("  %r = relu(%x) : f32[?,4,4,2]\n  %y = reduce_sum(%r) {keepdims=3} : f32[]\n",
               "line 5: [reduce_sum] attribute 'keepdims' must be 0 or 1 (a bool), got 3", "3 for a bool");
  expect_error("  %y = pool2d(%x) {pool=[2,2]} : f32[?,2,2,2]\n",
               "line 4: [pool2d] needs a 'mode' attribute (a string)", "missing required");
  expect_error("  %y = softmax(%x) {axes=[1]} : f32[?,4,4,2]\n",
               "line 4: [softmax] unknown attribute 'axes' (accepted: axis)", "unknown name");
  check(verify_error("  %y = pool2d(%x) {mode=\"avg\", pool=[2,2]} : f32[?,2,2,2]\n").empty(),
        "pool2d with mode and pool verifies");

  // Defaults stay unwritten: a verified graph prints as it was written.
  {
    std::string text = std::string(kHeader) + "  %y = softmax(%x) : f32[?,4,4,2]\n  output %y\n}\n";
    ir::Graph g = ir::parse(text);
    ir::verify(g);
    check(ir::print(g) == text, "a node that leaves axis out prints without it");
  }

  return kiln::testing::summary();
}
