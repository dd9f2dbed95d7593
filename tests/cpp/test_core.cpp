// Core unit tests under ctest: the golden IR files (what they parse to, and their round trip),
// malformed IR errors, the memory planner, and the optimization passes. Prints "N passed, N
// failed".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <variant>

#include "testing.h"
#include "ir/ir.h"
#include "memory/planner.h"
#include "ops/registry.h"
#include "passes/passes.h"

using namespace kiln;

using kiln::testing::check;

static void expect_error(const std::string& text, const std::string& fragment, const std::string& what) {
  try {
    ir::Graph g = ir::parse(text);
    ir::verify(g);
    check(false, what + ": no error raised");
  } catch (const Error& e) {
    bool ok = std::string(e.what()).find(fragment) != std::string::npos;
    if (!ok) std::cout << "  got: " << e.what() << "\n";
    check(ok, what + ": error mentions '" + fragment + "'");
  }
}

static const char* kMlp = R"(kiln 1
graph @mlp {
  input %x : f32[?,4]
  input %t : f32[?,3]
  param %w1 : f32[4,5] {init="glorot_uniform", seed=1}
  param %b1 : f32[5] {init=0.0}
  param %w2 : f32[5,3] {init="glorot_uniform", seed=2}
  %h = matmul(%x, %w1) : f32[?,5]
  %hb = bias_add(%h, %b1) : f32[?,5]
  %a = relu(%hb) : f32[?,5]
  %z = matmul(%a, %w2) : f32[?,3]
  %y = softmax(%z) {axis=-1} : f32[?,3]
  %l = categorical_crossentropy(%t, %y) : f32[?]
  %loss = reduce_mean(%l) : f32[]
  output %loss
}
)";

// What a parsed graph means, written without the printer: declarations with their kinds,
// dtypes, dims (-1 is the batch) and attributes tagged by kind (i: integer, f: number,
// s: string, [..]: integers), then each node with its index, operands by name and result types,
// then the outputs. A golden file's description is written out by hand below.
static std::string describe_type(const ir::Type& t) {
  std::string s = t.dtype == ir::DType::f32 ? "f32[" : t.dtype == ir::DType::i32 ? "i32[" : "?[";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? "," : "") + std::to_string(t.dims[i]);
  return s + "]";
}

static std::string describe_attrs(const ir::Attrs& attrs) {
  std::string s;
  for (const auto& [key, v] : attrs) {
    s += " " + key + "=";
    if (auto* i = std::get_if<int64_t>(&v)) {
      s += "i" + std::to_string(*i);
    } else if (auto* f = std::get_if<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "f%.9g", *f);
      s += buf;
    } else if (auto* str = std::get_if<std::string>(&v)) {
      s += "s\"" + *str + "\"";
    } else {
      const auto& xs = std::get<std::vector<int64_t>>(v);
      s += "[";
      for (size_t i = 0; i < xs.size(); ++i) s += (i ? "," : "") + std::to_string(xs[i]);
      s += "]";
    }
  }
  return s;
}

static std::string describe(const ir::Graph& g) {
  static const char* kinds[] = {"input", "param", "state", "node"};
  std::string s = "graph " + g.name + "\n";
  for (const std::vector<int>* list : {&g.inputs, &g.params, &g.states})
    for (int v : *list) {
      const ir::Value& val = g.values[v];
      s += std::string(kinds[static_cast<int>(val.kind)]) + " " + val.name + " " + describe_type(val.type) +
           describe_attrs(val.attrs) + "\n";
    }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    s += std::to_string(i) + " ";
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const ir::Value& out = g.values[n.outputs[k]];
      s += (k ? "," : "") + out.name;
      // a result is a node value whose producer is this node
      if (out.kind != ir::ValueKind::node || out.producer != static_cast<int>(i))
        s += "(producer " + std::to_string(out.producer) + ")";
    }
    s += " = " + n.op + "(";
    for (size_t k = 0; k < n.inputs.size(); ++k) s += (k ? "," : "") + g.values[n.inputs[k]].name;
    s += ")" + describe_attrs(n.attrs) + " :";
    for (int v : n.outputs) s += " " + describe_type(g.values[v].type);
    s += "\n";
  }
  for (int v : g.outputs) s += "output " + g.values[v].name + "\n";
  return s;
}

static const std::map<std::string, std::string> kGoldenMeaning = {
    {"attrs.kir",
     "graph attrs\n"
     "input x f32[-1,3]\n"
     "state lr f32[] init=f0.001\n"
     "0 c = clip(x) max=f1e+30 min=f-0.5 : f32[-1,3]\n"
     "1 s = reduce_sum(c) axes=[0,1] keepdims=i0 : f32[]\n"
     "2 k = constant() value=f2.5 : f32[]\n"
     "3 m = mul(s,k) : f32[]\n"
     "output m\n"
     "output c\n"},
    {"conv.kir",
     "graph conv\n"
     "input image f32[-1,9,8,1]\n"
     "param conv_W f32[3,3,1,4] init=s\"glorot_uniform\" seed=i1\n"
     "param conv_b f32[4] init=f0\n"
     "0 conv.1 = conv2d(image,conv_W) padding=s\"same\" strides=[1,1] : f32[-1,9,8,4]\n"
     "1 conv.2 = bias_add(conv.1,conv_b) : f32[-1,9,8,4]\n"
     "2 conv = relu(conv.2) : f32[-1,9,8,4]\n"
     "3 pool = pool2d(conv) mode=s\"max\" padding=s\"valid\" pool=[2,2] strides=[2,2] : f32[-1,4,4,4]\n"
     "output pool\n"},
    {"mlp_predict.kir",
     "graph predict\n"
     "input input_1 f32[-1,784]\n"
     "param dense_1_W f32[784,64] init=s\"glorot_uniform\" seed=i1\n"
     "param dense_1_b f32[64] init=f0\n"
     "param dense_2_W f32[64,10] init=s\"glorot_uniform\" seed=i2\n"
     "param dense_2_b f32[10] init=f0\n"
     "0 dense_1.1 = matmul(input_1,dense_1_W) : f32[-1,64]\n"
     "1 dense_1.2 = bias_add(dense_1.1,dense_1_b) : f32[-1,64]\n"
     "2 dense_1 = relu(dense_1.2) : f32[-1,64]\n"
     "3 dense_2.1 = matmul(dense_1,dense_2_W) : f32[-1,10]\n"
     "4 dense_2.2 = bias_add(dense_2.1,dense_2_b) : f32[-1,10]\n"
     "5 dense_2 = softmax(dense_2.2) axis=i-1 : f32[-1,10]\n"
     "output dense_2\n"},
    {"shape_ops.kir",
     "graph shape_ops\n"
     "input ids f32[-1,5]\n"
     "input x f32[-1,6]\n"
     "param emb f32[10,4]\n"
     "0 e = gather(emb,ids) : f32[-1,5,4]\n"
     "1 t = transpose(e) perm=[0,2,1] : f32[-1,4,5]\n"
     "2 r = reshape(t) shape=[-1] : f32[-1,20]\n"
     "3 xs = slice(x) axis=i1 begin=i1 end=i-1 : f32[-1,4]\n"
     "4 c = concat(r,xs,x) axis=i-1 : f32[-1,30]\n"
     "5 two = constant() value=f2 : f32[]\n"
     "6 p = pow(c,two) : f32[-1,30]\n"
     "7 m = reshape(p) shape=[3,-1] : f32[-1,3,10]\n"
     "output m\n"
     "output xs\n"},
};

// A memory plan is sound when every value computed per batch has bytes in the arena, params
// and state have none, and any two values live at the same time get disjoint bytes. Live
// ranges are found here from the graph alone: a graph input is live from before the first
// node (-1), a result from its node; both until their last use, or past the end (the node
// count) when they are graph outputs.
static bool plan_is_sound(const ir::Graph& g, const memory::Plan& p, std::string* why) {
  const int nn = static_cast<int>(g.nodes.size());
  const int nv = static_cast<int>(g.values.size());
  std::vector<int> begin(nv, 0), end(nv, -2);  // end -2: not computed per batch
  for (int v : g.inputs) begin[v] = end[v] = -1;
  for (int i = 0; i < nn; ++i)
    for (int v : g.nodes[i].outputs) begin[v] = end[v] = i;
  for (int i = 0; i < nn; ++i)
    for (int v : g.nodes[i].inputs)
      if (end[v] != -2) end[v] = std::max(end[v], i);
  for (int v : g.outputs)
    if (end[v] != -2) end[v] = nn;
  auto bytes = [&](int v) { return g.values[v].type.numel(p.batch) * 4; };
  for (int v = 0; v < nv; ++v) {
    bool per_batch = end[v] != -2;
    if (per_batch != (p.offset[v] >= 0)) {
      *why = "%" + g.values[v].name + (per_batch ? " has no offset" : " (param/state) has an offset");
      return false;
    }
    if (per_batch && p.offset[v] + bytes(v) > static_cast<int64_t>(p.arena_bytes)) {
      *why = "%" + g.values[v].name + " ends past the arena";
      return false;
    }
  }
  // A value may use another's bytes only as the result of a view op (reshape and the like) on
  // it, at the same offset, neither of them a graph input or output.
  auto io = [&](int v) {
    return std::count(g.inputs.begin(), g.inputs.end(), v) + std::count(g.outputs.begin(), g.outputs.end(), v) > 0;
  };
  for (int i = 0; i < nn; ++i) {
    const ir::Node& n = g.nodes[i];
    for (int v : n.outputs) {
      if (p.storage[v] == v) continue;
      bool view = ops::Registry::get().at(n.op).view && v == n.outputs[0];
      if (!view || p.storage[n.inputs[0]] != p.storage[v] || p.offset[v] != p.offset[n.inputs[0]] || io(v) ||
          io(n.inputs[0])) {
        *why = "%" + g.values[v].name + " takes the bytes of %" + g.values[p.storage[v]].name + " without being its view";
        return false;
      }
    }
  }
  for (int a = 0; a < nv; ++a)
    for (int b = a + 1; b < nv; ++b) {
      if (end[a] == -2 || end[b] == -2) continue;
      bool live_together = begin[a] <= end[b] && begin[b] <= end[a];
      bool share = p.offset[a] < p.offset[b] + bytes(b) && p.offset[b] < p.offset[a] + bytes(a);
      if (live_together && share && p.storage[a] != p.storage[b]) {
        *why = "%" + g.values[a].name + " [" + std::to_string(begin[a]) + "," + std::to_string(end[a]) + "] and %" +
               g.values[b].name + " [" + std::to_string(begin[b]) + "," + std::to_string(end[b]) + "] share bytes";
        return false;
      }
    }
  return true;
}

int main(int argc, char** argv) {
  // Golden files: the parsed graph means what the file says (its description, written by hand,
  // covers kinds, types, attributes and operand links), parse -> print reproduces the file
  // exactly, and reparsing the printed text gives the same graph.
  if (argc > 1) {
    int golden = 0;
    for (auto& e : std::filesystem::directory_iterator(argv[1])) {
      if (e.path().extension() != ".kir") continue;
      std::string name = e.path().filename().string();
      std::ifstream f(e.path());
      std::stringstream ss;
      ss << f.rdbuf();
      try {
        ir::Graph g = ir::parse(ss.str());
        ir::verify(g);
        auto want = kGoldenMeaning.find(name);
        if (want == kGoldenMeaning.end()) {
          check(false, name + ": no hand-written description in kGoldenMeaning");
        } else {
          ++golden;
          std::string got = describe(g);
          if (got != want->second) std::cout << "  parsed " << name << " as:\n" << got;
          check(got == want->second, name + ": parsed graph matches its description");
        }
        std::string p1 = ir::print(g);
        check(p1 == ss.str(), name + ": printed text equals the golden file");
        ir::Graph g2 = ir::parse(p1);
        check(describe(g2) == describe(g), name + ": the printed text parses to the same graph");
        check(ir::print(g2) == p1, name + ": print is a fixed point");
      } catch (const Error& err) {
        check(false, name + ": " + err.what());
      }
    }
    check(golden == static_cast<int>(kGoldenMeaning.size()), "every described golden file was found");
  }

  // Malformed IR: each names the problem and the line.
  expect_error("", "header", "empty text");
  expect_error("kiln 3\ngraph @g {\n}\n", "unsupported IR version 3", "version");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,?t]\n  output %x\n}\n", "need the header 'kiln 2'", "named dim in v1");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%q) : f32[?,3]\n  output %y\n}\n",
               "line 4, col 13: operand %q is used before it is defined", "undefined operand");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) : f32[?,4]\n  output %y\n}\n",
               "line 4: [relu] result %y is declared f32[?,4] but the op gives f32[?,3]", "wrong declared type");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = frobnicate(%x) : f32[?,3]\n  output %y\n}\n",
               "line 4: unknown op 'frobnicate'", "unknown op");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  param %w : f32[4,2]\n  %y = matmul(%x, %w) : f32[?,2]\n  output %y\n}\n",
               "contracted dims differ", "matmul shape mismatch");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) {alpha=1} : f32[?,3]\n  output %y\n}\n",
               "unknown attribute 'alpha'", "unknown attribute");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %x = relu(%x) : f32[?,3]\n  output %x\n}\n",
               "already defined", "redefinition");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3\n  output %x\n}\n", "line 3", "unterminated type");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n}\n", "no 'output' line", "missing output");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  output %x\n", "missing '}'", "missing brace");
  expect_error("kiln 1\ngraph @g {\n  input %x : f64[?,3]\n  output %x\n}\n", "unknown dtype 'f64'", "bad dtype");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = relu(%x) : f32[?,3]\n  output %y\n}\ntrailing\n",
               "after the end of the graph", "trailing text");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = clip(%x) {min=\"a} : f32[?,3]\n  output %y\n}\n",
               "unterminated string", "unterminated string");
  expect_error("kiln 1\ngraph @g {\n  param %w : f32[?,3]\n  output %w\n}\n", "cannot have a symbolic dimension", "batch param");
  expect_error("kiln 1\ngraph @g {\n  param %w : f32[100000000,100000000]\n  output %w\n}\n",
               "line 3: %w : f32[100000000,100000000] has more than 2^40 elements", "huge shape");

  // Shape ops: the verifier reports their shape rules with the line, both shapes and the op.
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,6]\n  %y = reshape(%x) {shape=[4,2]} : f32[?,4,2]\n  output %y\n}\n",
               "line 4: [reshape] cannot reshape f32[?,6] to [?,4,2]", "reshape element count");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  input %z : f32[?,4,1]\n"
               "  %y = concat(%x, %z) {axis=1} : f32[?,7]\n  output %y\n}\n",
               "line 5: [concat] operands must have the same rank, got f32[?,3], f32[?,4,1]", "concat rank");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = slice(%x) {axis=0, begin=0, end=1} : f32[1,3]\n  output %y\n}\n",
               "line 4: [slice] axis 0 of f32[?,3] is the batch dim ?", "slice batch axis");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = transpose(%x) {perm=[1,0]} : f32[?,3]\n  output %y\n}\n",
               "line 4: [transpose] result %y is declared f32[?,3] but the op gives f32[3,?]", "transpose moves the batch dim");
  expect_error("kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %y = tile(%x) {reps=[1,99999999999999]} : f32[?,3]\n  output %y\n}\n",
               "line 4: [tile] result %y is declared f32[?,3] but the op gives f32[?,299999999999997]", "tile result type");

  // Planner: no two simultaneously live values overlap (checked for every pair, on the predict
  // graph and on the larger train graph, at two batch sizes), and reuse makes the arena smaller.
  {
    ir::Graph g = ir::parse(kMlp);
    ir::verify(g);
    ir::Graph train = ir::parse(kMlp);
    passes::build_train(train, {"sgd", {{"lr", 0.1}}, "sgd_1"});
    passes::optimize(train);
    ir::verify(train);
    memory::Plan p = memory::plan_memory(g, 64);
    check(p.arena_bytes < p.naive_bytes, "planner reuses memory");
    for (const ir::Graph* graph : {&g, &train})
      for (int64_t batch : {1, 64}) {
        std::string why;
        bool ok = plan_is_sound(*graph, memory::plan_memory(*graph, batch), &why);
        if (!ok) std::cout << "  " << why << "\n";
        check(ok, "planner keeps values that are live together apart (" + std::to_string(graph->nodes.size()) +
                      " nodes, batch " + std::to_string(batch) + ")");
      }
  }

  // Train graph + passes: fuse_dense turns the first layer into one dense op.
  {
    ir::Graph g = ir::parse(kMlp);
    ir::verify(g);
    passes::build_train(g, {"sgd", {{"lr", 0.1}}, "sgd_1"});
    ir::verify(g);
    passes::optimize(g);
    ir::verify(g);
    std::string text = ir::print(g);
    check(text.find("dense(%x, %w1, %b1) {activation=\"relu\"}") != std::string::npos, "fuse_dense fuses the first layer");
    check(text.find("apply_sgd(%w1,") != std::string::npos, "train graph updates w1");
    check(ir::print(ir::parse(text)) == text, "train graph round-trips");
  }

  // CSE: a repeated pure node is merged; a random one is not.
  {
    ir::Graph g = ir::parse(
        "kiln 1\ngraph @g {\n  input %x : f32[?,3]\n  %a = relu(%x) : f32[?,3]\n  %b = relu(%x) : f32[?,3]\n"
        "  %m1 = dropout_mask(%x) {rate=0.5, seed=1} : f32[?,3]\n  %m2 = dropout_mask(%x) {rate=0.5, seed=1} : f32[?,3]\n"
        "  %s = add(%a, %b) : f32[?,3]\n  %t = add(%m1, %m2) : f32[?,3]\n  %u = add(%s, %t) : f32[?,3]\n  output %u\n}\n");
    ir::verify(g);
    passes::common_subexpressions(g);
    ir::verify(g);
    std::string text = ir::print(g);
    check(text.find("%b = relu") == std::string::npos && text.find("%s = add(%a, %a)") != std::string::npos,
          "cse merges the repeated relu");
    check(text.find("%m2 = dropout_mask") != std::string::npos, "cse keeps both random masks");
  }

  return kiln::testing::summary();
}
