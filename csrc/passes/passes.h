// Graph-to-graph passes. Each takes a verified graph and leaves a verified graph.
//
//   ir::Graph g = ir::parse(text);
//   passes::build_train(g, {"rmsprop", {{"lr", 0.001}}, "rmsprop_1"});  // autodiff + updates
//   passes::optimize(g);                                     // dce, cse, fold_transposes, fusions
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kiln::passes {

// Appends the backward nodes of `loss` (an f32[] value) with respect to each of `wrt` and returns
// their cotangent values, in order. A value the loss does not depend on gets zeros.
std::vector<int> gradients(ir::Graph& g, int loss, const std::vector<int>& wrt);
// The vector-Jacobian product: given cotangent values `dys` of the values `ys` (already in g),
// appends the backward nodes and returns the cotangent of each of `wrt` (zeros where none).
std::vector<int> vjp(ir::Graph& g, const std::vector<int>& ys, const std::vector<int>& dys, const std::vector<int>& wrt);

struct OptimizerSpec {
  std::string name;                    // sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam
  std::map<std::string, double> hyper; // lr and the optimizer's own hyper-parameters
  std::string prefix;                  // state names: <prefix>.lr, <prefix>.<param>.<slot>
  // Constraints by param name: apply_constraint's attributes (kind, ...), applied right after
  // that param's update.
  std::map<std::string, ir::Attrs> constraints;
  // Data-parallel training: the gradients go through one replica_mean (ops/replica.cpp) before
  // clipping and the updates, so every rank applies the whole batch's gradient.
  bool replicated = false;
};

// Turns a forward graph whose first output is the scalar loss into a train graph: gradients of
// the loss for every param, then one update op per param, then the iteration increment. Slots
// and the lr/iteration scalars are declared as state with their initial values.
void build_train(ir::Graph& g, const OptimizerSpec& opt);

// Removes nodes whose results nothing uses (side-effecting nodes always stay).
void dead_code_elimination(ir::Graph& g);
// Merges nodes that compute the same thing (same op, operands, attributes; not random, no side
// effect), keeping the first.
void common_subexpressions(ir::Graph& g);
// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2), dropped when that is the identity.
void fold_transposes(ir::Graph& g);
// Fuses matmul -> bias_add -> activation chains into one dense node, and conv2d -> bias_add ->
// activation into one conv2d with its epilogue, when the intermediates have no other use.
void fuse_dense(ir::Graph& g);
// Folds a max pool2d whose windows tile its input (stride = pool, valid) into the conv2d before
// it when nothing else reads the convolution's result: conv2d {pool=[PH, PW]}.
void fuse_conv_pool(ir::Graph& g);
// Folds <act>_grad(d, x) into the pool2d_grad or conv2d_grad_input that made d from the same x
// (act relu, sigmoid or tanh): {activation=act}, when nothing else reads d.
void fuse_activation_grad(ir::Graph& g);
// The standard pipeline: dce, cse, fold_transposes, fuse_dense, fuse_conv_pool,
// fuse_activation_grad, dce. Re-verifies after each pass when the
// environment sets KILN_CHECK_IR=1 (and then also re-parses the printed text and compares).
void optimize(ir::Graph& g);

// Drops values no node, declaration or output refers to and renumbers (keeps printing stable).
void compact(ir::Graph& g);
// Per value: how many operands read it (a graph output counts 1000 more, so fusions never
// absorb it) and the last node reading it; single_user is that node when it is the only use.
struct Uses {
  std::vector<int> count, user;
  int single_user(int v) const { return count[v] == 1 ? user[v] : -1; }
};
Uses value_uses(const ir::Graph& g);
// Removes the nodes marked in `drop` (by index), then compacts.
void drop_nodes(ir::Graph& g, const std::vector<bool>& drop);

}  // namespace kiln::passes
