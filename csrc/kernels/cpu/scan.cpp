// scan (ops/scan.cpp): runs the nested step graph once per timestep. The constants are copied
// into the step's inputs once per run, the states carried in them from step to step; each step
// gathers the sequences' slices at t and scatters the per-step outputs (and, with save=1, the
// states entering the step) to t. Nothing is allocated per step.
#include <cstring>
#include <vector>

#include "kernels/cpu/kernel.h"

namespace kiln::cpu {
namespace {

size_t bytes(const TensorView& v) { return static_cast<size_t>(v.numel) * 4; }

// Row b of the step tensor [B, R...] <-> element [b, t] of the sequence [B, T, R...].
void gather_step(const TensorView& seq, int64_t t, const TensorView& step) {
  int64_t B = seq.dim(0), T = seq.dim(1), R = B ? step.numel / B : 0;
  const char* src = static_cast<const char*>(seq.data);
  char* dst = static_cast<char*>(step.data);
  for (int64_t b = 0; b < B; ++b) std::memcpy(dst + b * R * 4, src + (b * T + t) * R * 4, static_cast<size_t>(R) * 4);
}

void scatter_step(const TensorView& step, int64_t t, const TensorView& seq) {
  int64_t B = seq.dim(0), T = seq.dim(1), R = B ? step.numel / B : 0;
  const char* src = static_cast<const char*>(step.data);
  char* dst = static_cast<char*>(seq.data);
  for (int64_t b = 0; b < B; ++b) std::memcpy(dst + (b * T + t) * R * 4, src + b * R * 4, static_cast<size_t>(R) * 4);
}

void copy_view(const TensorView& from, const TensorView& to) {
  if (from.data != to.data) std::memcpy(to.data, from.data, bytes(to));
}

void scan_k(const KernelArgs& a) {
  if (!a.body) throw std::logic_error("scan ran without its body");
  kernels::Subgraph& body = *a.body;
  const std::vector<TensorView>& bin = body.inputs();
  const std::vector<TensorView>& bout = body.outputs();
  auto at = a.attrs();
  const int S = static_cast<int>(at.get_int("sequences")), K = static_cast<int>(at.get_int("states"));
  const int n = static_cast<int>(a.in.size()), Y = static_cast<int>(bout.size()) - K;
  const bool reverse = at.get_bool("reverse"), save = at.get_bool("save");
  const int64_t T = a.in[0].dim(1);
  for (int i = S + K; i < n; ++i) copy_view(a.in[i], bin[i]);
  for (int k = 0; k < K; ++k) copy_view(a.in[S + k], bin[S + k]);
  // A new state that is another state's input (a step that swaps two states) must not be
  // overwritten before it is read: then the new states go through a staging copy.
  bool staged = false;
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < K; ++j) staged = staged || (j != k && bout[Y + k].data == bin[S + j].data);
  std::vector<std::vector<char>> stage(staged ? K : 0);
  for (int k = 0; k < static_cast<int>(stage.size()); ++k) stage[k].resize(bytes(bin[S + k]));
  for (int64_t step = 0; step < T; ++step) {
    int64_t t = reverse ? T - 1 - step : step;
    for (int s = 0; s < S; ++s) gather_step(a.in[s], t, bin[s]);
    if (save)
      for (int k = 0; k < K; ++k) scatter_step(bin[S + k], t, a.out[Y + K + k]);
    body.run(a.ctx);
    for (int y = 0; y < Y; ++y) scatter_step(bout[y], t, a.out[y]);
    if (staged) {
      for (int k = 0; k < K; ++k) std::memcpy(stage[k].data(), bout[Y + k].data, stage[k].size());
      for (int k = 0; k < K; ++k) std::memcpy(bin[S + k].data, stage[k].data(), stage[k].size());
    } else {
      for (int k = 0; k < K; ++k) copy_view(bout[Y + k], bin[S + k]);
    }
  }
  for (int k = 0; k < K; ++k) copy_view(bin[S + k], a.out[Y + k]);
}

}  // namespace

KILN_CPU_KERNEL(scan, scan_k);

}  // namespace kiln::cpu
