// Scratch memory for kernels: one buffer per thread and slot that only grows, so a warm step
// allocates nothing (every thread, the OpenMP workers too, has its own). A kernel uses distinct
// slots for buffers that are alive at the same time; contents do not survive a later call.
#pragma once

#include <cstdint>

namespace kiln::cpu {

enum WorkspaceSlot {
  kWsConvCol,
  kWsRecurrentWeights,
  kWsRecurrentWeights2,
  kWsRecurrentRow,
  kWsRecurrentRow2,
  kWsDropoutW,    // a recurrent op's dropout masks, drawn once per call
  kWsDropoutU,
  kWsDropoutRows,  // rows of x or h_prev times one gate's mask
  kWsDropoutRows2,
  kWsPoolChannels,   // pool2d_grad: per-channel scratch
  kWsPoolPositions,
  kWsWinogradV,       // winograd.cpp: a block's transformed input tiles
  kWsWinogradM,       // ... its products (or the output gradient's transformed tiles)
  kWsWinogradTile,    // ... one tile's intermediate
  kWsWinogradOut,     // ... one output tile
  kWsWinogradZero,    // ... a row of zeros for taps outside the input
  kWsWinogradZero2,
  kWsWinogradPartial, // ... the filter gradient's partial sums, shared by the team
  kWsWinogradFilter,  // conv2d.cpp: the transformed filter
  kWsConvPooled,      // conv2d.cpp: a pooled convolution's whole result, where its method cannot pool tiles
  kWsDirectPartial,   // conv_direct.cpp: the filter gradient's sum per image
  kWsSlots
};

float* workspace(WorkspaceSlot slot, int64_t n);

}  // namespace kiln::cpu
