"""What actually happened in a window [Y0, Y1): the observations hindcasts are scored on.

    from sim.experiments.observed import observe
    obs = observe(2000, 2010)                         # the world of January 2000
    asia = observe(2000, 2010, region="indo_pacific")

The states scored are those of the Y0 scenario (`sim.scenarios.builder.scenario_ids`):
the system members of January Y0 (or of a region). Every family is read from its
dataset for the window and for the previous window of the same length (for "new"
ties); a family whose dataset does not cover the window is None, and `notes` says
why (MME and DCAD end in 2010, ATOP in 2018, SIPRI deliveries in 2024).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from sim.experiments.scoring import Observed
from sim.scenarios.builder import agreements_in_force, scenario_ids
from sim.scenarios.sources import Sources, load_sources


def exercise_ties(src: Sources, first: int, end: int) -> pd.DataFrame:
    """Dyads a < b with at least one shared MME exercise starting in [first, end):
    n exercises and weight (each exercise adds 1 / (participants - 1))."""
    p = src.mme_pairs[(src.mme_pairs.year >= first) & (src.mme_pairs.year < end)]
    return p.groupby(["a", "b"]).agg(n=("weight", "size"), weight=("weight", "sum")).reset_index()


def agreements_signed(src: Sources, first: int, end: int) -> pd.DataFrame:
    """Dyads a < b with n DCAD agreements signed in [first, end)."""
    d = src.dcad[(src.dcad.sign_year >= first) & (src.dcad.sign_year < end)]
    return d.groupby(["a", "b"]).size().rename("n").reset_index()


def arms_flows(src: Sources, first: int, end: int) -> tuple[pd.DataFrame, pd.Series]:
    """SIPRI deliveries in [first, end): flows (supplier, recipient, tiv, n_deliveries,
    share of the recipient's imports from every supplier, named or not) between states,
    and each state's imports."""
    s = src.sipri[(src.sipri.year >= first) & (src.sipri.year < end) & (src.sipri.recipient != "")]
    imports = s.groupby("recipient").tiv.sum()
    pairs = s[(s.supplier != "") & (s.supplier != s.recipient)]
    g = pairs.groupby(["supplier", "recipient"]).agg(
        tiv=("tiv", "sum"), n_deliveries=("tiv", "size")
    )
    g = g.reset_index()
    total = g.recipient.map(imports)
    g["share"] = (g.tiv / total).where(total > 0, 0.0)
    return g, imports


def defence_pacts(src: Sources, year: int) -> pd.DataFrame:
    """Dyads a < b with an ATOP defence pact in `year`."""
    a = src.atop[(src.atop.year == year) & (src.atop.defense == 1)]
    return a[["a", "b"]].reset_index(drop=True)


def observe(
    start: int,
    end: int,
    *,
    region: str | None = None,
    ids: list[str] | None = None,
    source_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> Observed:
    """The observations of [start, end) for the states of the `start` scenario (world,
    `region` of data/regions.csv, or explicit `ids`)."""
    if not start < end:
        raise ValueError(f"window: expected start < end, got {start}..{end}")
    world = _observe_world(start, end, _key(source_dir), _key(data_dir))
    chosen = scenario_ids(
        start, region=region, states=ids, source_dir=source_dir, data_dir=data_dir
    )
    return world.restrict(chosen)


def _key(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path).resolve()


@functools.lru_cache(maxsize=16)
def _observe_world(
    start: int, end: int, source_dir: Path | None, data_dir: Path | None
) -> Observed:
    src = load_sources(source_dir, data_dir)
    cov = src.coverage
    length = end - start
    before = start - length
    notes: list[str] = []
    fields: dict = {}

    def covered(name: str, span: tuple[int, int], uses_before: bool = True) -> bool:
        if end - 1 > span[1] or start < span[0]:
            notes.append(
                f"{name}: data cover {span[0]}-{span[1]}, not the window {start}-{end - 1}"
            )
            return False
        if uses_before and before < span[0]:
            notes.append(
                f"{name}: the previous window {before}-{start - 1} is cut to {span[0]}-{start - 1}"
            )
        return True

    if covered("MME", cov.mme):
        fields["exercise"] = exercise_ties(src, start, end)
        fields["exercise_before"] = exercise_ties(src, before, start)
    if covered("DCAD", cov.dcad):
        fields["agreements_new"] = agreements_signed(src, start, end)
        in_force, _ = agreements_in_force(start, src)
        fields["agreements_in_force"] = in_force.reset_index()[["a", "b"]]
    if covered("SIPRI", cov.sipri):
        fields["arms"], fields["arms_imports"] = arms_flows(src, start, end)
        fields["arms_before"], _ = arms_flows(src, before, start)
    # pacts at the start = ATOP start-1 (January of start), at the end = ATOP end-1
    if covered("ATOP", (cov.atop[0] + 1, cov.atop[1]), uses_before=False):
        fields["pacts_start"] = defence_pacts(src, start - 1)
        fields["pacts_end"] = defence_pacts(src, end - 1)
    ids = tuple(scenario_ids(start, source_dir=source_dir, data_dir=data_dir))
    return Observed(start=start, end=end, ids=ids, notes=tuple(notes), **fields)
