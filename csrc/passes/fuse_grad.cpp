// pool2d_grad(dy, x, y) {...}       -> <act>_grad(., x)  ==>  pool2d_grad(dy, x, y) {..., activation=act}
// conv2d_grad_input(dy, W, x) {...} -> <act>_grad(., x)  ==>  conv2d_grad_input(dy, W, x) {..., activation=act}
// when the activation gradient reads the same x the gradient op was given (x being that
// activation's result: a ReLU'd convolution pooled, or one convolution feeding the next) and
// nothing else reads the unscaled gradient. The kernels apply the derivative to each image or
// row of dx while it is in cache instead of writing dx and reading it back (the MNIST convnet's
// training step had two such passes over 19 MB and 11 MB). Runs after autodiff, in optimize:
// the fused ops have no gradient.
#include "ops/activations.h"
#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

// The operand that is the forward op's input x, for each gradient op that can take dx on.
int x_operand(const std::string& op) {
  if (op == "pool2d_grad") return 1;
  if (op == "conv2d_grad_input") return 2;
  return -1;
}

}  // namespace

void fuse_activation_grad(ir::Graph& g) {
  const Uses uses = value_uses(g);
  std::vector<bool> gone(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    const int xi = x_operand(n.op);
    if (gone[i] || xi < 0 || ops::attrs_of(n).get_str("activation") != "linear") continue;
    const int u = uses.single_user(n.outputs[0]);
    if (u < 0) continue;
    const ir::Node& ag = g.nodes[u];
    const std::string suffix = "_grad";
    if (ag.op.size() <= suffix.size() || ag.op.compare(ag.op.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string act = ag.op.substr(0, ag.op.size() - suffix.size());
    if (!ops::elementwise_activation(act) || act == "linear") continue;
    if (ag.inputs.size() != 2 || ag.inputs[0] != n.outputs[0] || ag.inputs[1] != n.inputs[xi]) continue;
    n.attrs["activation"] = act;
    n.outputs = ag.outputs;
    n.line = ag.line;
    gone[u] = true;
  }
  drop_nodes(g, gone);
}

}  // namespace kiln::passes
