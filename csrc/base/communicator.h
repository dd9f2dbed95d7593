// The collectives of a data-parallel job, as the runtime sees them. The runtime (the epoch loop,
// the replica_mean kernel) talks only to this interface; an implementation lives in its own
// module (csrc/mpi/: MPI through mpi4py's communicator) loaded only when distributed training is
// asked for, so a plain build and install need no MPI.
//
//   kiln::Communicator& c = ...;          // handed over by kiln.distributed (a PyCapsule)
//   c.allreduce_sum(buf.data(), n);       // every rank gets the element-wise sum, bitwise equal
#pragma once

#include <cstdint>

namespace kiln {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place: every rank's `data` becomes the element-wise sum over ranks. Every rank calls it
  // with the same n, in the same order as every other collective.
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  virtual void barrier() = 0;
};

}  // namespace kiln
