"""Measure the alignment claims of issue 14 at default parameters over several seeds.

Prints, per shipped regional scenario, with 95% confidence intervals over seeds (t
intervals of the per-seed values; ARI across seeds over all seed pairs):

* pos_share: share of dyads with positive affinity at the end (saturation);
* trust_r: correlation of final mutual trust with the static trust baseline of step 0;
* ari_seeds: agreement of the final blocs across seeds (adjusted Rand index);
* ari_onoff: agreement of the final blocs of a default run and the same seed with
  activities switched off (1 = activities change nothing);
* face validity: USA with China / Russia in one bloc, a Russia+Belarus bloc without NATO
  members, Belarus on the USA's landscape side;
* hedging: India's hedging rank (1 = top hedger), the best rank of USA/China/Russia, and
  the share of seeds in which each of them is in the bottom third (ties at two decimals counted as equal);
* europe_nato only: Finland's and Sweden's trust and interoperability with the NATO core
  minus a counterfactual run of the same seeds without their join events; Russia-Georgia,
  Russia-Turkey and Belarus-Ukraine bilateral agreements still in force at the end.

With --table it prints instead, for every shipped scenario at its own seed, the blocs
(named by their most capable member) and the five strongest hedgers at the start and at
the end, as the markdown table of docs/alignment.md.

Usage: uv run python scripts/alignment_measures.py [--seeds 8] [--scenarios a,b] [--table]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys

import numpy as np
from scipy import stats

from sim.core.model import DiplomacyModel
from sim.core.relations import trust_baseline
from sim.experiments.scoring import adjusted_rand
from sim.running.simulate import prepare_scenario

SCENARIOS = ("minimal", "indo_pacific", "europe_nato", "middle_east", "middle_powers")
NATO_CORE = ("USA", "UKG", "FRN", "GMY", "NOR", "DEN", "POL")


ari = adjusted_rand  # Hubert & Arabie 1985; tested in tests/test_scoring.py


def ci(values) -> str:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return "n/a"
    if v.size == 1 or np.all(v == v[0]):
        return f"{v.mean():.3f}"
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return f"{v.mean():.3f} [{v.mean() - half:.3f}, {v.mean() + half:.3f}]"


EXTRA: list[str] = []  # --set overrides applied to every run


def run(
    name: str, seed: int, overrides=None, drop_events=None
) -> tuple[DiplomacyModel, np.ndarray]:
    world = prepare_scenario(name, seed=seed, overrides=[*EXTRA, *(overrides or [])])
    if drop_events:
        world = dataclasses.replace(
            world, events=tuple(e for e in world.events if not drop_events(e))
        )
    m = DiplomacyModel(world)
    base0 = trust_baseline(m.p, m.affinity_pos, m.hostility, m.agreements)
    m.run()
    return m, base0


def rank_of(m: DiplomacyModel, sid: str) -> int:
    order = np.argsort(-m.hedging, kind="stable")
    return int(np.flatnonzero(order == m.index[sid])[0]) + 1


def bottom_third(m: DiplomacyModel, sid: str) -> bool:
    """Whether at most n // 3 states hedge less than `sid` at the two decimals the run's
    summary reports (ties count as equal: a state tied with the lowest is in the bottom
    third, as in tests/test_emergence.py)."""
    h = np.round(m.hedging, 2)
    return int((h < h[m.index[sid]]).sum()) <= m.n // 3


def same_bloc(m: DiplomacyModel, a: str, b: str) -> float:
    if a not in m.index or b not in m.index:
        return float("nan")
    return float(m.bloc[m.index[a]] == m.bloc[m.index[b]])


def measure(name: str, seeds: list[int]) -> dict[str, str]:
    rows: dict[str, list] = {}
    blocs = []
    for seed in seeds:
        m, base0 = run(name, seed)
        off, _ = run(name, seed, overrides=["parameters.activities=0"])
        blocs.append(m.bloc.copy())
        iu = m.upper
        aff = m.affinity[iu]
        rows.setdefault("pos_share", []).append(float((aff > 0).mean()))
        mutual = 0.5 * (m.trust + m.trust.T)
        rows.setdefault("trust_r", []).append(float(np.corrcoef(mutual[iu], base0[iu])[0, 1]))
        rows.setdefault("ari_onoff", []).append(ari(m.bloc, off.bloc))
        rows.setdefault("n_blocs", []).append(m.alignment_stats["n_blocs"])
        rows.setdefault("polarization", []).append(m.alignment_stats["polarization"])
        rows.setdefault("USA~CHN", []).append(same_bloc(m, "USA", "CHN"))
        rows.setdefault("USA~RUS", []).append(same_bloc(m, "USA", "RUS"))
        if "RUS" in m.index and "BLR" in m.index:
            b = m.bloc[m.index["RUS"]]
            nato = [m.index[s] for s in sorted(m.alliances and m.world.alliances.get("NATO", ()))]
            ok = m.bloc[m.index["BLR"]] == b and not any(m.bloc[k] == b for k in nato)
            rows.setdefault("RUS+BLR bloc w/o NATO", []).append(float(ok))
            rows.setdefault("BLR side = USA side", []).append(
                float(m.side[m.index["BLR"]] == m.side[m.index["USA"]])
            )
        if "IND" in m.index:
            rows.setdefault("IND hedging rank", []).append(rank_of(m, "IND"))
        greats = [s for s in ("USA", "CHN", "RUS") if s in m.index]
        if greats:
            rows.setdefault("best great-power rank", []).append(min(rank_of(m, s) for s in greats))
            for s in greats:
                rows.setdefault(f"{s} in bottom third", []).append(float(bottom_third(m, s)))
        rows.setdefault("n", []).append(m.n)
        if name == "europe_nato":
            cf, _ = run(
                name,
                seed,
                drop_events=lambda e: (
                    e.type == "join_alliance" and e.args["state"] in ("FIN", "SWD")
                ),
            )
            core = [m.index[s] for s in NATO_CORE]
            for s in ("FIN", "SWD"):
                i = m.index[s]
                for arr in ("trust", "interoperability", "affinity"):
                    d = getattr(m, arr)[i, core].mean() - getattr(cf, arr)[i, core].mean()
                    rows.setdefault(f"{s} join d{arr}", []).append(float(d))
            for a, b in (("RUS", "GRG"), ("RUS", "TUR"), ("BLR", "UKR")):
                rows.setdefault(f"{a}-{b} agreement at end", []).append(
                    float(m.bilateral[m.index[a], m.index[b]])
                )
    out = {k: ci(v) for k, v in rows.items()}
    out["ari_seeds"] = ci([ari(a, b) for a, b in itertools.combinations(blocs, 2)])
    return out


def _blocs_text(m: DiplomacyModel) -> str:
    parts = []
    for b in np.unique(m.bloc):
        members = np.flatnonzero(m.bloc == b)
        if members.size < 2:
            continue
        members = members[np.argsort(-m.capability[members], kind="stable")]
        shown = ", ".join(m.ids[k] for k in members[1:13])
        more = f" +{members.size - 13} more" if members.size > 13 else ""
        parts.append(f"**{m.ids[members[0]]}**: {shown}{more}")
    return "; ".join(parts) or "none"


def _hedgers_text(m: DiplomacyModel) -> str:
    order = np.argsort(-m.hedging, kind="stable")[:5]
    shown = [k for k in order if round(float(m.hedging[k]), 2) > 0]  # as the run's summary
    return ", ".join(f"{m.ids[k]} {m.hedging[k]:.2f}" for k in shown) or "none"


def table(names: list[str]) -> None:
    print("| scenario | when | blocs (leader: members) | top hedgers (hedging) |")
    print("|---|---|---|---|")
    for name in names:
        world = prepare_scenario(name)
        m = DiplomacyModel(world)
        start = (_blocs_text(m), _hedgers_text(m))
        m.run()
        print(f"| {name} (seed {world.seed}) | start | {start[0]} | {start[1]} |")
        print(f"| | end ({world.steps} months) | {_blocs_text(m)} | {_hedgers_text(m)} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--set", action="append", default=[], help="override, e.g. parameters.x=1")
    ap.add_argument("--table", action="store_true", help="blocs and hedgers, start and end")
    args = ap.parse_args(argv)
    EXTRA[:] = args.set
    if args.table:
        table(
            args.scenarios.split(",")
            if args.scenarios != ",".join(SCENARIOS)
            else [*SCENARIOS[1:], "arms_market", "world"]
        )
        return 0
    seeds = list(range(1, args.seeds + 1))
    for name in args.scenarios.split(","):
        print(f"== {name} (seeds {seeds[0]}-{seeds[-1]}, default parameters, full length)")
        for k, v in measure(name, seeds).items():
            print(f"  {k:28s} {v}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
