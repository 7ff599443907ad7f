"""Fault injection for tests (never imported by ``sim``): runs that raise on purpose, in any
executor, including worker processes (where a pytest monkeypatch does not reach)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sim.experiments.sweep as sweep_module


def _with_failures(fail_seeds: frozenset[int], fn: Callable, shared: Any, batch: Any) -> Any:
    """Run ``fn(shared, batch)`` with the sweep's simulate raising for the listed seeds
    (module-level, so a process pool can pickle it)."""
    real = sweep_module.simulate

    def failing(scenario: Any, overrides: Any = None, seed: int | None = None, **kw: Any) -> Any:
        if seed in fail_seeds:
            raise RuntimeError(f"injected failure for seed {seed}")
        return real(scenario, overrides, seed, **kw)

    sweep_module.simulate = failing
    try:
        return fn(shared, batch)
    finally:
        sweep_module.simulate = real


class FailingRuns:
    """An executor that forwards to `inner` and makes the runs with these seeds raise."""

    def __init__(self, inner: Any, fail_seeds: Iterable[int]) -> None:
        self.inner = inner
        self.fail_seeds = frozenset(int(s) for s in fail_seeds)
        self.name, self.workers = inner.name, inner.workers

    def submit_batches(self, fn: Callable, batches: Iterable, shared: Any = None) -> Iterator:
        """Yield the inner executor's results of the fault-injecting function."""
        wrapped = functools.partial(_with_failures, self.fail_seeds, fn)
        return self.inner.submit_batches(wrapped, batches, shared)

    def close(self) -> None:
        """Close the inner executor."""
        self.inner.close()
