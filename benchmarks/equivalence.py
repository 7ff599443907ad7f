"""Check that a change to the model core changed nothing but floating-point rounding.

Runs a fixed set of scenarios (every bundled scenario plus synthetic worlds, with dyad
snapshots) with the model of a git revision (default HEAD) and with the working tree, each
in its own process, and compares every table: integer, text and boolean columns (every
activity, crisis and bloc) must be identical, floating-point columns equal within --tol.

    python benchmarks/equivalence.py                 # working tree against HEAD
    python benchmarks/equivalence.py --ref abc123 --tol 0

Exit status 0 when equivalent, 1 otherwise. Takes about a minute (--quick: seconds).
Used while optimizing the core; `run.py` does not run it.
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUN = r"""
import pickle, sys
sys.path.insert(0, sys.argv[1])
import sim  # first: pins BLAS threads
from pathlib import Path
try:  # the layered package (sim.core, sim.scenarios), or the flat one before it
    from sim.scenarios.loader import load_scenario
    from sim.core.model import DiplomacyModel
    from sim.core.synthetic import synthetic_world
except ImportError:
    from sim.loader import load_scenario
    from sim.model import DiplomacyModel
    from sim.synthetic import synthetic_world
quick = sys.argv[3] == "1"
root = Path(sys.argv[1])
out = {}
for path in sorted((root / "scenarios").glob("*.yaml")):
    if quick and path.stem not in ("minimal", "indo_pacific"):
        continue
    world = load_scenario(path)
    out[path.stem] = DiplomacyModel(world).run(min(world.steps, 60) if quick else None).tables()
out["indo_pacific_seed7_dyads"] = DiplomacyModel(
    load_scenario(root / "scenarios/indo_pacific.yaml"), rng=7, record_dyads=6
).run(120).tables()
for n in (2, 12, 60) if quick else (2, 12, 60, 300):
    out[f"synthetic_{n}"] = DiplomacyModel(
        synthetic_world(n, seed=n, steps=120), record_dyads=24
    ).run().tables()
Path(sys.argv[2]).write_bytes(pickle.dumps(out))
"""


def export_revision(ref: str, into: Path) -> None:
    """Write `sim/` and `scenarios/` of git revision `ref` into `into`."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "sim", "scenarios"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def _tables(root: Path, out: Path, quick: bool) -> dict:
    subprocess.run(
        [sys.executable, "-c", _RUN, str(root), str(out), "1" if quick else "0"], check=True
    )
    return pickle.loads(out.read_bytes())


def compare(before: dict, after: dict, tol: float) -> list[str]:
    """Lines describing each table; lines starting with 'DIFFERENT' are failures."""
    lines = []
    for case, tables in before.items():
        for name, a in tables.items():
            b = after.get(case, {}).get(name)
            where = f"{case}/{name}"
            if b is None or list(a.columns) != list(b.columns) or a.shape != b.shape:
                lines.append(f"DIFFERENT {where}: shape or columns")
                continue
            floats = [c for c in a.columns if a[c].dtype.kind == "f"]
            exact = [c for c in a.columns if c not in floats]
            bad = [c for c in exact if not a[c].equals(b[c])]
            gaps = {c: float((a[c] - b[c]).abs().max()) for c in floats if len(a)}
            diff = max(gaps.values(), default=0.0)
            bad += [c for c, gap in gaps.items() if gap > tol]
            if bad or diff > tol:
                lines.append(f"DIFFERENT {where}: columns {bad}, max float difference {diff:.3g}")
            else:
                lines.append(f"same      {where}: max float difference {diff:.3g}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default="HEAD", help="git revision to compare with (default HEAD)")
    ap.add_argument("--tol", type=float, default=1e-9, help="largest float difference allowed")
    ap.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ref_root = Path(tmp) / "ref"
        export_revision(args.ref, ref_root)
        before = _tables(ref_root, Path(tmp) / "before.pkl", args.quick)
        after = _tables(ROOT, Path(tmp) / "after.pkl", args.quick)
    lines = compare(before, after, args.tol)
    print("\n".join(lines))
    failed = sum(line.startswith("DIFFERENT") for line in lines)
    print(f"{'NOT equivalent' if failed else 'equivalent'}: {failed} of {len(lines)} tables differ")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
