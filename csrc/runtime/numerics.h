// Numerics checking (compile(check_numerics=True) or KILN_CHECK_NUMERICS=1): after every node,
// its f32 results (and, for side-effecting nodes, the operands they write) are scanned, and the
// first NaN or infinity stops the run with a NumericsError naming the op, its IR line and the
// layer it came from. It costs one pass over every value, so it is a debugging mode.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "kernels/kernel.h"

namespace kiln::rt {

// The layer a value belongs to, read off its name: lowering names a layer's values `layer`,
// `layer.N` (params `layer_W`...), autodiff names backward values `g.<forward value>.N`.
std::string layer_of(const std::string& value_name);
bool is_backward(const std::string& value_name);

// Throws NumericsError when an operand of the graph (a graph input or a stored tensor) that
// node `n` reads holds a non-finite value. Used once per run before the first node.
void check_inputs(const ir::Graph& g, const std::vector<int>& values, const std::vector<kernels::TensorView>& views);

// Throws NumericsError when a result of node `n` (or a stored operand it writes) holds a
// non-finite value.
void check_node(const ir::Graph& g, const ir::Node& n, const std::vector<kernels::TensorView>& in,
                const std::vector<kernels::TensorView>& out, const std::vector<int>& writes);

}  // namespace kiln::rt
