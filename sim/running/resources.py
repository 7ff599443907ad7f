"""How much memory a run needs, estimated from its size before it starts, and what the
machine can hold: a run that cannot fit is refused with a one-line error instead of
failing minutes later with a MemoryError (5,000 states: 8.7 GB).

The model holds about twenty N x N float matrices; a run directory also keeps the start
and final dyad snapshots (N (N - 1) / 2 rows each) and writes them out. The coefficients
below were measured with ``ddsim run`` on synthetic worlds (peak RSS, docs/reliability.md);
they are upper-side fits, not exact.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import InputError

__all__ = [
    "RunSize",
    "check_run_memory",
    "check_sweep_memory",
    "estimate_run_bytes",
    "machine_memory_bytes",
]

# interpreter, numpy, pandas, mesa, pyarrow loaded; 230 MB until the calibrated defaults
# (more arms transfers) raised the peak of a 400-state run from 311 to 321 MB
BASE_BYTES = 245e6
FIGURES_BYTES = 80e6  # matplotlib and the figures of a small world
MODEL_BYTES_PER_CELL = 320.0  # the model's N x N matrices and their temporaries, per N^2 (220 before issue 14 added the trust memory, the cached trust ties, the hollow-agreement clock and the dense signed-modularity matrices of bloc detection)
RUN_DIR_BYTES_PER_CELL = 300.0  # start/final dyad snapshots, written out, figures, per N^2
DYAD_ROW_BYTES = 230.0  # one recorded dyad row: held, then converted when written
STATE_ROW_BYTES = 260.0  # one recorded state row (held, converted)


class RunSize(dict):
    """The estimate's parts in bytes ({'model': ..., 'dyad tables': ..., ...})."""

    @property
    def total(self) -> float:
        """All parts together."""
        return float(sum(self.values()))


def estimate_run_bytes(
    n_states: int,
    *,
    steps: int,
    record_every: int = 1,
    record_dyads: int = 0,
    run_directory: bool = True,
    figures: bool = True,
) -> RunSize:
    """Peak memory of one run of `n_states` states (bytes, by part). ``run_directory``:
    the run keeps dyad snapshots and writes its tables (``ddsim run``), and draws
    ``figures``; sweeps do neither."""
    n = max(int(n_states), 0)
    cells = float(n) * n
    records = steps // max(int(record_every), 1) + 2
    size = RunSize(
        {
            "base": BASE_BYTES,
            "model": MODEL_BYTES_PER_CELL * cells,
            "state tables": STATE_ROW_BYTES * n * records,
        }
    )
    if run_directory:
        size["dyad snapshots"] = RUN_DIR_BYTES_PER_CELL * cells
        if figures:
            size["figures"] = FIGURES_BYTES
    if record_dyads:
        dyad_records = steps // int(record_dyads) + 1
        size["recorded dyads"] = DYAD_ROW_BYTES * (n * (n - 1) / 2) * dyad_records
    return size


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def machine_memory_bytes() -> int | None:
    """Memory this process may use: physical memory, or a smaller cgroup limit (a
    container's); None when unknown."""
    total = None
    with contextlib.suppress(AttributeError, ValueError, OSError):  # not POSIX
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limits = [
        _read_int(Path("/sys/fs/cgroup/memory.max")),
        _read_int(Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")),
    ]
    known = [v for v in (total, *limits) if v]
    return min(known) if known else None


def _gb(value: float) -> str:
    return f"{value / 1e9:.1f} GB"


def check_run_memory(
    size: RunSize, *, what: str, limit: int | None = None, advice: str = ""
) -> None:
    """Raise InputError when a run of this estimated size cannot fit in the machine;
    ``advice`` (e.g. ", fewer --workers") is added to what the message suggests."""
    limit = machine_memory_bytes() if limit is None else limit
    if limit is None or size.total <= limit:
        return
    parts = ", ".join(f"{k} {_gb(v)}" for k, v in size.items() if v >= 0.05e9)
    raise InputError(
        f"{what}: expected a run that fits in this machine's memory ({_gb(limit)}), "
        f"got one that needs about {_gb(size.total)} ({parts}); use fewer states"
        + (", fewer dyad snapshots (--dyads)" if "recorded dyads" in size else "")
        + advice
        + " or a machine with more memory (limits: docs/reliability.md)"
    )


def check_sweep_memory(
    base: Mapping[str, Any], *, workers: int | None, limit: int | None = None
) -> None:
    """Refuse a sweep whose runs cannot fit: one run per worker process (None: the
    workers are elsewhere, on a Dask cluster, and only one run is checked)."""
    states = base.get("states") or []
    parameters = base.get("parameters") or {}
    size = estimate_run_bytes(
        len(states),
        steps=int(base.get("steps") or 1),
        record_every=int(parameters.get("record_every") or 1),
        run_directory=False,
    )
    n = max(int(workers or 1), 1)
    if n > 1:
        size = RunSize({k: v * n for k, v in size.items()})
    what = f"sweep of {len(states)}-state runs" + (f" on {n} workers" if n > 1 else "")
    check_run_memory(size, what=what, limit=limit, advice=", fewer --workers" if n > 1 else "")
