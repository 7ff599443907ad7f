"""Shared helpers: the machine, medians, child processes and process-tree memory."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# Pin BLAS to one thread before anything loads numpy (as `sim` does): benchmark scripts
# import this module first.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def median(values: list[float]) -> float:
    """Median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    """What the figures were measured on."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "blas_threads": "1 (pinned in every benchmark process)",
        "bytecode_cache": "on in benchmark processes",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
    }
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            (ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("model name")),
            platform.processor(),
        )
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 2**20, 1)
    except OSError:
        info["cpu"] = platform.processor()
    from importlib.metadata import version

    for pkg in ("mesa", "numpy", "scipy", "pandas", "networkx"):
        info[pkg] = version(pkg)
    return info


def child_env() -> dict[str, str]:
    """Environment of child processes: the repository importable, BLAS pinned to 1 thread,
    and Python's bytecode cache on (as on users' machines: a sandbox that sets
    PYTHONDONTWRITEBYTECODE recompiles every module in every new process, which makes
    process start-up several times slower and would dominate small sweeps)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH), env.get("PYTHONPATH", "")])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


class TreeMemory:
    """Samples the memory of a process and all its descendants in a background thread.

    Three views of the tree's memory, each the largest value seen:
    * `peak_mb` (footprint): the private memory of every process (USS) plus the largest
      shared part of any of them, i.e. pages shared between the processes of the tree (the
      libraries, and what forked workers share with their parent) counted once;
    * `peak_rss_mb`: the sum of resident set sizes, which counts shared pages once per process;
    * `peak_pss_mb`: the sum of proportional set sizes (shared pages split between all the
      processes of the machine mapping them, so it drops when unrelated Python processes run).
    `cpu_s`: CPU seconds of the tree (the last value seen of each process). Uses psutil when
    installed, else /proc. Four samples a second: reading a process's USS/PSS costs about a
    millisecond.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self.peak_processes = 0
        self.footprint_mb: list[tuple[float, float]] = []  # (seconds since start, footprint)
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())

    def _loop(self) -> None:
        t0 = time.perf_counter()
        while not self._stop.is_set():
            footprint, rss, pss, count = _tree_memory(self.pid, self._cpu)
            self.footprint_mb.append((time.perf_counter() - t0, footprint / 2**20))
            self.peak_mb = max(self.peak_mb, footprint / 2**20)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 2**20)
            self.peak_processes = max(self.peak_processes, count)
            self._stop.wait(self.interval)


def _tree_memory(pid: int, cpu: dict[int, float]) -> tuple[int, int, int, int]:
    """(footprint, RSS, PSS in bytes, number of processes) of pid and its descendants right
    now (see `TreeMemory`); records each process's CPU seconds in `cpu`."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with dask[distributed]
        return _proc_tree_memory(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0, 0
    uss = shared = rss = pss = count = 0
    for proc in procs:
        try:
            full = proc.memory_full_info()
            times = proc.cpu_times()
        except psutil.Error:
            continue
        cpu[proc.pid] = times.user + times.system
        uss += full.uss
        shared = max(shared, full.rss - full.uss)
        rss += full.rss
        pss += getattr(full, "pss", full.rss)
        count += 1
    return uss + shared, rss, pss, count


def _proc_tree_memory(pid: int) -> tuple[int, int, int, int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo, uss, shared, rss, pss, count = [pid], 0, 0, 0, 0, 0
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            fields = {
                ln.split(":")[0]: int(ln.split()[1]) * 1024
                for ln in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:]
            }
        except (OSError, ValueError, IndexError):
            continue
        private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        uss += private
        shared = max(shared, fields.get("Rss", 0) - private)
        rss += fields.get("Rss", 0)
        pss += fields.get("Pss", fields.get("Rss", 0))
        count += 1
    return uss + shared, rss, pss, count


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (None without /proc)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_child(script: str, args: list[str], *, memory: bool = False, timeout: float = 3600) -> dict:
    """Run `python benchmarks/<script> <args>` and return the JSON it prints last.

    Adds `other_load`: the average number of cores that processes other than this benchmark
    kept busy meanwhile (shared machine), and `load_average` after the run. With `memory`,
    the child's process tree is sampled and `peak_rss_mb`, `peak_pss_mb` and `processes`
    are added. Raises RuntimeError (with the child's stderr) if the child fails.
    """
    cmd = [sys.executable, str(BENCH / script), *args]
    busy0 = _busy_seconds()
    self0, kids0 = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT
    )
    sampler = TreeMemory(proc.pid) if memory else None
    t0 = time.perf_counter()
    if sampler:
        sampler.__enter__()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if sampler:
            sampler.__exit__(None, None, None)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-4000:]}")
    wall = time.perf_counter() - t0
    busy1 = _busy_seconds()
    own = _cpu_seconds(resource.RUSAGE_SELF) - self0  # this process, sampler included
    tree = _cpu_seconds(resource.RUSAGE_CHILDREN) - kids0  # the child and what it reaped
    if sampler:  # a forkserver's workers are not the child's children: use the samples too
        tree = max(tree, sampler.cpu_s)
    result = json.loads(out.strip().splitlines()[-1])
    result["child_wall_s"] = wall
    result["cpu_s"] = tree
    if busy0 is not None and busy1 is not None:
        result["other_load"] = max(0.0, (busy1 - busy0) - own - tree) / wall
    result["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if sampler:
        half = wall / 2
        first = [m for t, m in sampler.footprint_mb if t <= half]
        second = [m for t, m in sampler.footprint_mb if t > half]
        result.update(
            peak_mb=sampler.peak_mb,
            peak_rss_mb=sampler.peak_rss_mb,
            peak_pss_mb=sampler.peak_pss_mb,
            processes=sampler.peak_processes,
            # growth of the tree's memory while it runs: peak of the second half of the run
            # over peak of the first half (1.0 = flat once started)
            growth=max(second) / max(first) if first and second and max(first) else None,
        )
    return result


def run_quiet(
    script: str, args: list[str], *, memory: bool = False, attempts: int = 3, busy: float = 0.25
) -> dict:
    """`run_child`, run again (up to `attempts` times) while other processes kept more than
    `busy` cores busy meanwhile; returns the least disturbed attempt, with `attempts`."""
    tries = []
    for _ in range(attempts):
        tries.append(run_child(script, args, memory=memory))
        if (tries[-1].get("other_load") or 0.0) <= busy:
            break
    best = min(tries, key=lambda r: r.get("other_load") or 0.0)
    best["attempts"] = len(tries)
    return best
