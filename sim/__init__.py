"""ddsim: an agent-based simulation of defense diplomacy (Mesa 3.5)."""

import os

# The model's matrices are small (N <= ~1000): BLAS threads cost more than they save, sweeps
# parallelise across processes instead, and a fixed thread count keeps floating-point
# reductions in the same order, so results are bit-identical across machines and workers.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from importlib.metadata import PackageNotFoundError  # noqa: E402
from importlib.metadata import version as _version  # noqa: E402

try:
    __version__ = _version("ddsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
