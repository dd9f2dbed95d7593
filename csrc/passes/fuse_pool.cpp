// conv2d(x, W[, b]) {...} -> pool2d(.) {mode="max", pool=P, strides=P, padding="valid"}
//   ==>  conv2d(x, W[, b]) {..., pool=P}
// when nothing else reads the convolution's result (so never in a graph with its backward pass,
// which reads it) and it is not a graph output: the kernel pools each block of results while
// they are in cache instead of writing the whole image and reading it back.
#include "ops/registry.h"
#include "ops/window.h"
#include "passes/passes.h"

namespace kiln::passes {

void fuse_conv_pool(ir::Graph& g) {
  const Uses uses = value_uses(g);
  std::vector<bool> gone(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& c = g.nodes[i];
    if (gone[i] || c.op != "conv2d") continue;
    std::vector<int64_t> own = ops::attrs_of(c).get_ints("pool");
    if (own[0] != 1 || own[1] != 1) continue;
    const int p = uses.single_user(c.outputs[0]);
    if (p < 0 || g.nodes[p].op != "pool2d") continue;
    const ir::Node& pn = g.nodes[p];
    ops::AttrReader pa = ops::attrs_of(pn);
    std::vector<int64_t> pool = pa.get_ints("pool");
    std::array<int64_t, 2> strides = ops::window_strides(pa, pool[0], pool[1]);
    if (pa.get_str("mode") != "max" || ops::window_same(pa) || strides[0] != pool[0] || strides[1] != pool[1]) continue;
    const ir::Type& t = g.values[c.outputs[0]].type;
    if (t.dims[1] < 0 || t.dims[2] < 0) continue;  // the fused shape rule wants static sizes
    c.attrs["pool"] = pool;
    c.outputs = pn.outputs;
    c.line = pn.line;
    gone[p] = true;
  }
  drop_nodes(g, gone);
}

}  // namespace kiln::passes
