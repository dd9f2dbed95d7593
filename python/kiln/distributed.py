"""Data-parallel training over MPI: the same `fit()` on every process of a job.

    mpiexec -n 4 python train.py

where train.py is ordinary kiln code plus `kiln.distributed.init()` before `fit` (or
`fit(..., distribute=True)`). Every rank builds the same model and loads the same data; `fit`
then starts every rank from rank 0's weights and shuffle seed, cuts each global batch
(`batch_size` is the global batch) into one contiguous slice per rank, and all-reduces the
gradients inside the native step, so every rank applies the whole batch's gradient and all
ranks' weights stay bitwise equal. Losses and metrics are averaged over the ranks, so every rank
reports the global figures; only rank 0 prints progress and writes checkpoints. `evaluate` and
`predict` shard the rows and combine the results. See docs/distributed.md.

MPI comes from mpi4py (`pip install mpi4py mpich`); kiln's side of it, the native communicator,
is the separate module kiln._mpi, imported only here, so a plain install needs no MPI.
"""
import sys
import traceback

import numpy as np

_job = None  # the job once init() ran: (mpi4py communicator, native communicator)


class _Job:
    def __init__(self, comm, native):
        self.comm = comm
        self.native = native
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()


def init():
    """Joins the MPI job this process was started in (mpiexec, srun, an MPI operator) and
    returns (rank, size). Idempotent. After it, an exception that escapes on any rank prints
    that rank's traceback and aborts the whole job, instead of leaving the other ranks waiting
    in a collective."""
    global _job
    if _job is not None:
        return _job.rank, _job.size
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("kiln.distributed needs mpi4py and an MPI library: pip install mpi4py mpich (%s)" % e) from None
    try:
        from . import _mpi
    except ImportError as e:
        raise ImportError("this kiln was built without its MPI module (kiln._mpi: %s); install an MPI with its "
                          "headers (pip install mpich) and reinstall kiln so that its build finds mpi.h" % e) from None
    comm = MPI.COMM_WORLD
    _job = _Job(comm, _mpi.Communicator(comm.py2f()))
    _install_abort_hook()
    return _job.rank, _job.size


def _install_abort_hook():
    previous = sys.excepthook

    def hook(kind, value, tb):
        if _job.size == 1:  # nobody to wait for this process
            return previous(kind, value, tb)
        lines = traceback.format_exception(kind, value, tb)
        sys.stderr.write("".join("[rank %d] %s" % (_job.rank, line) for line in "".join(lines).splitlines(True)))
        sys.stderr.write("[rank %d] kiln.distributed: aborting the job\n" % _job.rank)
        sys.stderr.flush()
        _job.comm.Abort(1)
    sys.excepthook = hook


def is_initialized():
    return _job is not None


def active():
    """True when init() joined a job of more than one process."""
    return _job is not None and _job.size > 1


def rank():
    """This process's rank (0 when not distributed)."""
    return _job.rank if _job is not None else 0


def size():
    """The number of processes (1 when not distributed)."""
    return _job.size if _job is not None else 1


def is_chief():
    """Rank 0, the one that prints and writes files (True when not distributed)."""
    return rank() == 0


def barrier():
    """Waits for every rank (a no-op when not distributed)."""
    if active():
        _job.native.barrier()


def native_capsule():
    """The communicator as the native loops take it (None when not distributed)."""
    return _job.native.capsule() if active() else None


def broadcast(obj):
    """Rank 0's `obj` on every rank (returned unchanged when not distributed)."""
    return _job.comm.bcast(obj, root=0) if active() else obj


def broadcast_weights(model):
    """Sets every rank's weights to rank 0's, in place (one broadcast per weight)."""
    if not active():
        return
    weights = [np.ascontiguousarray(w) for w in model.get_weights()]
    for w in weights:
        _job.comm.Bcast(w, root=0)
    if _job.rank != 0:
        model.set_weights(weights)


def shard(n):
    """This rank's contiguous rows [lo, hi) of n, as the native loops cut a batch."""
    return n * rank() // size(), n * (rank() + 1) // size()


def gather_rows(local, n):
    """Every rank's rows of an n-row result, concatenated in rank order, on every rank."""
    if not active():
        return local
    counts = [(n * (r + 1) // _job.size - n * r // _job.size) for r in range(_job.size)]
    row = int(np.prod(local.shape[1:], dtype=np.int64))
    out = np.empty((n,) + local.shape[1:], dtype=local.dtype)
    sizes = [c * row for c in counts]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64).tolist()
    from mpi4py import MPI
    _job.comm.Allgatherv(np.ascontiguousarray(local), [out, sizes, offsets, MPI.FLOAT])
    return out

