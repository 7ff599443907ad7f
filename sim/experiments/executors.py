"""Where sweep batches run: in-process, a local process pool, or a Dask cluster.

All executors share one small interface (`Executor`): ``submit_batches(fn, batches,
shared)`` calls ``fn(shared, batch)`` for every batch and yields the results as they
complete (any order). ``shared`` (the base scenario and outcome specs) is shipped to each
worker once, not with every batch. Batches are pulled lazily from the iterable and at
most a few per worker are in flight, so the parent never holds more than a handful of
results (memory stays flat however many runs a sweep has) and the batch iterator can
adapt batch sizes to the run times observed so far.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from sim.errors import InputError

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "SerialExecutor",
    "check_scheduler_address",
    "default_workers",
    "make_executor",
    "start_fork_server",
    "uses_process_pool",
]

B = TypeVar("B")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 2


class ExecutorError(InputError):
    """An executor cannot be set up (e.g. Dask missing or a scheduler unreachable)."""


class Executor(Protocol):
    """Runs ``fn(shared, batch)`` for each batch; yields results as they complete."""

    name: str
    workers: int

    def submit_batches(
        self, fn: Callable[[Any, B], R], batches: Iterable[B], shared: Any = None
    ) -> Iterator[R]:
        """Yield ``fn(shared, batch)`` for every batch, in completion order."""
        ...

    def close(self) -> None:
        """Release workers (idempotent)."""
        ...


def default_workers() -> int:
    """CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Base:
    name = "base"
    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (idempotent)."""


class SerialExecutor(_Base):
    """Runs every batch in this process, one after the other (1 worker, no pickling)."""

    name = "serial"

    def submit_batches(
        self, fn: Callable[[Any, B], R], batches: Iterable[B], shared: Any = None
    ) -> Iterator[R]:
        """Yield ``fn(shared, batch)`` for each batch in order."""
        for batch in batches:
            yield fn(shared, batch)


# --- local process pool ---------------------------------------------------------------------

_WORKER_SHARED: Any = None


def _init_worker(shared: Any, sweep_pid: int | None = None) -> None:
    """Keep the sweep's shared context, and die with the sweep process.

    First freeze the objects inherited from the fork server, so the garbage collector
    never touches (and so copies) their shared pages: each worker's private memory drops
    from about 75 to 45 MB on the benchmark sweep. Ctrl-C is left to the sweep process
    (which stops the pool), and a watchdog ends the worker when the sweep process dies
    (SIGKILL, OOM killer): the fork server and the resource tracker then exit too, as
    nothing holds their pipes open any more."""
    global _WORKER_SHARED
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_SHARED = shared
    if sweep_pid is not None:
        watch_parent(sweep_pid)


def watch_parent(pid: int, poll_seconds: float = 1.0) -> None:
    """End this process (exit status 1) as soon as process `pid` has ended: a daemon
    thread waits on a pidfd (Linux 5.3+), else polls every `poll_seconds`. A worker's
    parent is the fork server, not the sweep, so the parent-death signal of prctl
    (PR_SET_PDEATHSIG) cannot tell it that the sweep died."""
    try:
        fd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - alive, someone else's
            pass

    def wait() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:  # pragma: no cover - no pidfd
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                threading.Event().wait(poll_seconds)
        os._exit(1)

    threading.Thread(target=wait, name="ddsim-parent-watchdog", daemon=True).start()


def _call_with_shared(fn: Callable[[Any, Any], Any], batch: Any) -> Any:
    return fn(_WORKER_SHARED, batch)


PRELOAD = ("sim.experiments.sweep", "sim.core.model")


def _mp_context() -> multiprocessing.context.BaseContext:
    """forkserver where available (safe with threads; the server imports the model once and
    workers fork from it, so they start fast), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform != "win32" and "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def start_fork_server() -> None:
    """Start the fork server now, so it imports the model (about 1.5 s: mesa, pandas, scipy)
    while this process is still busy with its own imports, the experiment and the store; the
    pool's workers then fork from it at once. Harmless if no pool follows: the server exits
    with this process. A no-op where workers are spawned instead.

    The server is started with SIGINT ignored, which it and the workers forked from it
    inherit: Ctrl-C in a terminal reaches the whole process group, and only this process
    should act on it (it stops the pool and commits what finished), not print a
    KeyboardInterrupt traceback from a fork-server child."""
    if _mp_context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()  # signal handlers can only be set in the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _signals_deferred(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM) until the block is done, then deliver them to their
    handlers. Around the pool's submit and shutdown: a KeyboardInterrupt raised while a
    worker is being started could leave the worker unregistered, so the pool would release
    its semaphores while the worker still unpickles them, and the worker would print a
    traceback. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in signums:
        previous[signum] = signal.signal(signum, lambda sig, frame: received.append(sig))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


class ProcessExecutor(_Base):
    """A local pool of worker processes (`concurrent.futures.ProcessPoolExecutor`).

    Workers are started with forkserver (or spawn), receive ``shared`` once through the
    pool initializer, and keep it for every batch they run.
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or default_workers())
        self._pool: ProcessPoolExecutor | None = None
        self._shared_id: int | None = None

    def _ensure_pool(self, shared: Any) -> ProcessPoolExecutor:
        if self._pool is not None and self._shared_id != id(shared):
            self.close()
        if self._pool is None:
            start_fork_server()  # (no-op when running) with SIGINT ignored, see there
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_mp_context(),
                initializer=_init_worker,
                initargs=(shared, os.getpid()),
            )
            self._shared_id = id(shared)
        return self._pool

    def submit_batches(
        self, fn: Callable[[Any, B], R], batches: Iterable[B], shared: Any = None
    ) -> Iterator[R]:
        """Yield results as batches complete; at most 2 batches per worker in flight."""
        pool = self._ensure_pool(shared)
        it = iter(batches)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        pending: set[Future] = set()
        try:
            while True:
                while len(pending) < limit:
                    batch = next(it, _END)
                    if batch is _END:
                        break
                    with _signals_deferred():
                        pending.add(pool.submit(_call_with_shared, fn, batch))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    result = fut.result()
                    del fut
                    yield result
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        """Shut the pool down, cancelling batches not started yet."""
        if self._pool is not None:
            with _signals_deferred():
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_END = object()


# --- Dask distributed -----------------------------------------------------------------------


class DaskExecutor(_Base):
    """Batches on a Dask distributed cluster: an existing scheduler (``address``, e.g. one
    started by dask-jobqueue's SLURMCluster) or a LocalCluster of ``workers`` processes.

    Needs the optional extra: ``pip install "ddsim[dask]"``; every worker must be able to
    import ``sim`` (same environment).
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        processes: bool = True,
        threads_per_worker: int = 1,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the environment
            raise ExecutorError(
                'Dask distributed is not installed; install the extra: pip install "ddsim[dask]"'
            ) from None
        self._cluster = None
        try:
            if address:
                self.client = Client(address, timeout="30s")
                self.name = f"dask ({address})"
            else:
                n = max(1, workers or default_workers())
                self._cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=threads_per_worker,
                    processes=processes,
                    dashboard_address=None,
                )
                self.client = Client(self._cluster)
                self.name = "dask (local cluster)"
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            self.close()
            raise ExecutorError(
                f"cannot connect to the Dask scheduler {address!r}: {exc}"
            ) from None
        nthreads = self.client.nthreads()
        self.workers = max(1, sum(nthreads.values()) if nthreads else (workers or 1))

    def submit_batches(
        self, fn: Callable[[Any, B], R], batches: Iterable[B], shared: Any = None
    ) -> Iterator[R]:
        """Yield results as batches complete; ``shared`` is scattered to every worker once."""
        from distributed import as_completed

        shared_future = self.client.scatter(shared, broadcast=True)
        it = iter(batches)
        limit = max(self.workers, 1) * IN_FLIGHT_PER_WORKER
        queue = as_completed()
        in_flight = 0

        def fill() -> None:
            nonlocal in_flight
            while in_flight < limit:
                batch = next(it, _END)
                if batch is _END:
                    return
                queue.add(self.client.submit(fn, shared_future, batch, pure=False))
                in_flight += 1

        fill()
        try:
            while in_flight:
                fut = next(queue)
                in_flight -= 1
                result = fut.result()
                fut.release()
                yield result
                fill()
        finally:
            for fut in list(queue.futures):
                fut.cancel()

    def close(self) -> None:
        """Close the client (and the local cluster if we started one)."""
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


_SCHEDULER_RE = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?/?$"
)
SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_scheduler_address(address: str) -> str:
    """Return a Dask scheduler address if it has the form ``[scheme://]host[:port]``
    (scheme tcp, tls, ucx, ws, wss or inproc); else raise ExecutorError. Checked before a
    sweep creates anything, so a typo never leaves a half-made store."""
    match = _SCHEDULER_RE.match(address.strip()) if isinstance(address, str) else None
    scheme = match.group("scheme") if match else None
    port = int(match.group("port")) if match and match.group("port") else None
    bad_port = port is not None and not 1 <= port <= 65535
    if match is None or (scheme is not None and scheme not in SCHEDULER_SCHEMES) or bad_port:
        raise ExecutorError(
            f"--scheduler: expected a Dask scheduler address such as tcp://host:8786 "
            f"(scheme {', '.join(SCHEDULER_SCHEMES)}), got {address!r}"
        )
    if scheme is None and port is None:
        raise ExecutorError(
            f"--scheduler: expected a Dask scheduler address with a port, such as "
            f"tcp://{address}:8786, got {address!r}"
        )
    return address.strip()


def make_executor(
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    dask_local: bool = False,
) -> Executor:
    """The executor for the CLI flags: Dask (``scheduler`` or ``dask_local``), else a process
    pool, or in-process when a single worker is asked for."""
    if scheduler or dask_local:
        return DaskExecutor(scheduler, workers=workers)
    if not uses_process_pool(workers):
        return SerialExecutor()
    return ProcessExecutor(workers or default_workers())


def uses_process_pool(
    workers: int | None, *, scheduler: str | None = None, dask_local: bool = False
) -> bool:
    """Whether `make_executor` with these flags gives a local process pool (not Dask, and
    more than one worker)."""
    return not (scheduler or dask_local) and (workers or default_workers()) > 1
