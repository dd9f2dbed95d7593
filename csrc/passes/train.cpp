// Forward graph + optimizer spec -> train graph (gradients, then updates, then the increment).
#include <set>

#include "ops/registry.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

// The hyper-parameters each optimizer accepts besides lr and clipnorm are its update op's
// attributes (csrc/ops/optimizers.cpp), with their kinds and defaults.
struct OptimizerDef {
  std::string op;
  std::vector<std::string> slots;
  double default_lr;
};

const OptimizerDef& lookup(const std::string& name) {
  static const std::map<std::string, OptimizerDef> defs = {
      {"sgd", {"apply_sgd", {"moment"}, 0.01}},
      {"rmsprop", {"apply_rmsprop", {"accumulator"}, 0.001}},
      {"adagrad", {"apply_adagrad", {"accumulator"}, 0.01}},
      {"adadelta", {"apply_adadelta", {"accumulator", "delta_accumulator"}, 1.0}},
      {"adam", {"apply_adam", {"m", "v"}, 0.001}},
      {"adamax", {"apply_adamax", {"m", "u"}, 0.002}},
      {"nadam", {"apply_nadam", {"m", "v"}, 0.002}},
  };
  auto it = defs.find(name);
  if (it == defs.end())
    throw ValueError("unknown optimizer '" + name + "' (accepted: sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam)");
  return it->second;
}

// Keras' clipnorm: with n the global norm of all gradients, g *= c / max(n, c) (so gradients are
// scaled down to norm c when n >= c and left alone otherwise).
void clip_global_norm(ir::Graph& g, std::vector<int>& grads, double c) {
  ops::GradBuilder b(g);
  int total = -1;
  for (int d : grads) {
    int s = b.emit("reduce_sum", {b.emit("square", {d})}, {{"keepdims", int64_t(0)}});
    total = total < 0 ? s : b.emit("add", {total, s});
  }
  if (total < 0) return;
  int cc = b.scalar(c);
  int scale = b.emit("div", {cc, b.emit("maximum", {b.emit("sqrt", {total}), cc})});
  for (int& d : grads) d = b.emit("mul", {d, scale});
}

}  // namespace

void build_train(ir::Graph& g, const OptimizerSpec& opt) {
  const OptimizerDef& def = lookup(opt.name);
  const ops::Schema& update = ops::Registry::get().at(def.op);
  ir::Attrs attrs;
  double clipnorm = 0;
  for (auto& [k, v] : opt.hyper) {
    if (k == "lr") continue;
    if (k == "clipnorm") {
      clipnorm = v;
      continue;
    }
    const ops::AttrSpec* spec = update.find_attr(k);
    if (!spec) {
      std::string accepted = "lr, clipnorm";
      for (const ops::AttrSpec& a : update.attrs) accepted += ", " + a.name;
      throw ValueError("optimizer " + opt.name + ": unknown hyper-parameter '" + k + "' (accepted: " + accepted + ")");
    }
    if (spec->kind == ops::AttrKind::boolean) attrs[k] = static_cast<int64_t>(v != 0);
    else attrs[k] = v;
  }
  if (g.outputs.empty()) throw ValueError("the forward graph has no outputs (the first must be the loss)");
  if (opt.prefix.empty()) throw ValueError("optimizer state needs a name prefix");

  std::vector<int> params = g.params;
  int loss = g.outputs[0];
  std::vector<int> grads = gradients(g, loss, params);
  if (opt.replicated && !grads.empty()) {
    ops::GradBuilder b(g);
    b.set_stem("g.replica");  // renamed d.<param> below
    grads = b.emit_multi("replica_mean", grads);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    ir::Value& v = g.values[grads[i]];
    if (v.kind == ir::ValueKind::node && v.name.rfind("g.", 0) == 0) v.name = g.fresh_name("d." + g.values[params[i]].name);
  }
  g.reindex();
  if (clipnorm > 0) clip_global_norm(g, grads, clipnorm);

  auto scalar = [&](const std::string& n, double init) {
    return g.add_decl(opt.prefix + "." + n, ir::ValueKind::state, ir::Type{ir::DType::f32, {}}, {{"init", init}});
  };
  int lr = scalar("lr", opt.hyper.count("lr") ? opt.hyper.at("lr") : def.default_lr);
  int iters = scalar("iterations", 0.0);
  int sched = opt.name == "nadam" ? scalar("m_schedule", 1.0) : -1;
  for (size_t i = 0; i < params.size(); ++i) {
    // copies: add_decl grows g.values, which would leave a reference into it dangling
    const std::string pname = g.values[params[i]].name;
    const ir::Type t = g.values[params[i]].type;
    std::vector<int> ins = {params[i], grads[i], lr, iters};
    for (auto& s : def.slots)
      ins.push_back(g.add_decl(opt.prefix + "." + pname + "." + s, ir::ValueKind::state, t, {{"init", 0.0}}));
    if (sched >= 0) ins.push_back(sched);
    ops::infer(def.op, [&] {
      std::vector<ir::Type> ts;
      for (int v : ins) ts.push_back(g.values[v].type);
      return ts;
    }(), attrs);
    g.add_node(def.op, ins, attrs, {}, {});
    auto c = opt.constraints.find(pname);
    if (c != opt.constraints.end()) {
      try {
        ops::infer("apply_constraint", {t}, c->second);
      } catch (const Error& e) {
        throw ValueError("the constraint on %" + pname + ": " + e.what());
      }
      g.add_node("apply_constraint", {params[i]}, c->second, {}, {});
    }
  }
  for (auto& [name, attrs] : opt.constraints) {
    int v = g.find(name);
    if (v < 0 || g.values[v].kind != ir::ValueKind::param)
      throw ValueError("a constraint names %" + name + ", which is not a param of the graph");
  }
  if (sched >= 0) {
    ir::Attrs sa;  // the hyper-parameters nadam_schedule shares with apply_nadam
    for (const ops::AttrSpec& a : ops::Registry::get().at("nadam_schedule").attrs)
      if (attrs.count(a.name)) sa[a.name] = attrs[a.name];
    g.add_node("nadam_schedule", {sched, iters}, sa, {}, {});
  }
  g.add_node("increment", {iters}, {{"by", 1.0}}, {}, {});
}

}  // namespace kiln::passes
