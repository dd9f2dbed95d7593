// Core unit tests under ctest: IR round trips of the golden files, malformed IR errors, the
// memory planner, and the optimization passes. Prints "N passed, N failed".
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "ir/ir.h"
#include "memory/planner.h"
#include "passes/passes.h"

using namespace kiln;

static int passed = 0, failed = 0;

static void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::cout << "FAIL: " << what << "\n";
  }
}

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

int main(int argc, char** argv) {
  // Golden files: parse -> print must reproduce the file exactly, and print is a fixed point.
  if (argc > 1) {
    for (auto& e : std::filesystem::directory_iterator(argv[1])) {
      if (e.path().extension() != ".kir") continue;
      std::ifstream f(e.path());
      std::stringstream ss;
      ss << f.rdbuf();
      try {
        ir::Graph g = ir::parse(ss.str());
        ir::verify(g);
        std::string p1 = ir::print(g);
        check(p1 == ss.str(), e.path().filename().string() + ": printed text equals the golden file");
        check(ir::print(ir::parse(p1)) == p1, e.path().filename().string() + ": print is a fixed point");
      } catch (const Error& err) {
        check(false, e.path().filename().string() + ": " + err.what());
      }
    }
  }

  // Malformed IR: each names the problem and the line.
  expect_error("", "header", "empty text");
  expect_error("kiln 2\ngraph @g {\n}\n", "unsupported IR version 2", "version");
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
  expect_error("kiln 1\ngraph @g {\n  param %w : f32[?,3]\n  output %w\n}\n", "cannot have a batch dimension", "batch param");
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

  // Planner: no two simultaneously live values overlap, and reuse makes the arena smaller.
  {
    ir::Graph g = ir::parse(kMlp);
    ir::verify(g);
    memory::Plan p = memory::plan_memory(g, 64);
    check(p.arena_bytes < p.naive_bytes, "planner reuses memory");
    bool overlap_ok = true;
    int nn = static_cast<int>(g.nodes.size());
    for (int i = 0; i < nn; ++i) {
      // Operands and results of one node must not overlap.
      for (int a : g.nodes[i].inputs)
        for (int b : g.nodes[i].outputs) {
          if (p.offset[a] < 0 || p.offset[b] < 0) continue;
          int64_t sa = g.values[a].type.numel(64) * 4, sb = g.values[b].type.numel(64) * 4;
          if (p.offset[a] < p.offset[b] + sb && p.offset[b] < p.offset[a] + sa) overlap_ok = false;
        }
    }
    check(overlap_ok, "planner keeps a node's operands and results apart");
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

  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}
