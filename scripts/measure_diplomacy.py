"""Measure the two-sided diplomacy claims of issue 15 at DEFAULT parameters, over seeds.

    python scripts/measure_diplomacy.py [--seeds 10] [--only consent,market,...]

Prints, per claim, the seed mean and a 95% t confidence interval (paired by seed where a
treatment is compared with a baseline: the same seed in both runs, common random numbers).
The figures in docs/diplomacy.md come from this script.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.core.crises import credible_backing  # noqa: E402
from sim.core.model import DiplomacyModel  # noqa: E402
from sim.core.scenario import Event  # noqa: E402
from sim.scenarios.loader import load_scenario  # noqa: E402

HOSTILE = 0.3  # initial hostility at which a dyad counts as rivals
MIN_DEALS = 5  # deliveries an importer needs before its supplier shares are compared with SIPRI


def ci(values) -> str:
    """Mean and 95% t interval of the values."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return f"{x.mean():.3f}"
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return f"{x.mean():.3f} [{x.mean() - half:.3f}, {x.mean() + half:.3f}]"


def scenario(name: str, steps: int | None = None, events=(), **params):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    changes = {}
    if steps is not None:
        changes["steps"] = steps
    if events:
        changes["events"] = tuple(sorted((*sc.events, *events), key=lambda e: e.step))
    if params:
        changes["parameters"] = sc.parameters.replace(**params)
    return dataclasses.replace(sc, **changes) if changes else sc


def run(sc, seed: int) -> DiplomacyModel:
    m = DiplomacyModel(sc, rng=seed)
    m.run()
    return m


def hostile_exercises(m: DiplomacyModel) -> int:
    """Chosen (unscripted) exercises with a pair of participants at initial hostility >= HOSTILE."""
    count = 0
    for _t, kind, _k, init, partners, _s, series, *_ in m.activity_log:
        if kind != "exercise" or series:
            continue
        who = [init, *partners]
        sub = m.hostility0[np.ix_(who, who)]
        count += bool((sub >= HOSTILE).any())
    return count


def transfers(m: DiplomacyModel, scripted: bool = False):
    """(supplier, recipient) -> volume of the run's arms transfers (chosen only, unless scripted)."""
    vol: Counter = Counter()
    for _t, kind, _k, sup, partners, v, series, *_ in m.activity_log:
        if kind == "arms_transfer" and (scripted or not series):
            vol[(sup, partners[0])] += v
    return vol


def share(vol: Counter, recipient: int, suppliers: list[int]) -> float:
    total = sum(v for (s, r), v in vol.items() if r == recipient)
    part = sum(v for (s, r), v in vol.items() if r == recipient and s in suppliers)
    return part / total if total else float("nan")


def customers(vol: Counter, supplier: int) -> int:
    return len({r for (s, r) in vol if s == supplier})


def measure_consent(seeds):
    print("## consent: chosen exercises between rivals (initial hostility >= 0.3), per run")
    for name in ("indo_pacific", "middle_east", "europe_nato"):
        counts = [hostile_exercises(run(scenario(name), s)) for s in seeds]
        print(f"{name:14s} hostile exercises {ci(counts)}")
    counts, cp = [], []
    for s in seeds[:3]:
        m = run(scenario("world", steps=120), s)
        counts.append(hostile_exercises(m))
        i, j = m.index["CHN"], m.index["PRK"]
        cp.append(
            sum(
                1
                for r in m.activity_log
                if r[1] == "exercise" and not r[6] and {i, j} <= {r[3], *r[4]}
            )
        )
    print(f"world (120 steps, 3 seeds) hostile exercises {ci(counts)}; CHN-PRK exercises {ci(cp)}")


def measure_market(seeds):
    print("## market: arms_market scenario, shares of chosen transfers over the run")
    rows = {
        k: []
        for k in (
            "PAK<-CHN",
            "PAK<-RUS",
            "SAU<-USA",
            "SAU<-RUS",
            "EGY<-UAE",
            "USA customers",
            "USA world share",
            "IND<-RUS",
        )
    }
    for s in seeds:
        m = run(scenario("arms_market"), s)
        vol = transfers(m)
        ix = m.index
        rows["PAK<-CHN"].append(share(vol, ix["PAK"], [ix["CHN"]]))
        rows["PAK<-RUS"].append(share(vol, ix["PAK"], [ix["RUS"]]))
        rows["SAU<-USA"].append(share(vol, ix["SAU"], [ix["USA"]]))
        rows["SAU<-RUS"].append(share(vol, ix["SAU"], [ix["RUS"]]))
        rows["EGY<-UAE"].append(share(vol, ix["EGY"], [ix["UAE"]]))
        rows["IND<-RUS"].append(share(vol, ix["IND"], [ix["RUS"]]))
        rows["USA customers"].append(customers(vol, ix["USA"]))
        total = sum(vol.values())
        rows["USA world share"].append(
            sum(v for (a, _), v in vol.items() if a == ix["USA"]) / total if total else np.nan
        )
    for k, v in rows.items():
        print(f"{k:16s} {ci(v)}")


def measure_embargo(seeds):
    print("## embargo (arms_market, from step 0), paired by seed: treatment - baseline")
    cases = {
        "US+UK+FR on SAU": (["USA", "UKG", "FRN"], "SAU"),
        "RUS on IND": (["RUS"], "IND"),
    }
    for label, (sups, target) in cases.items():
        ev = Event(0, "embargo", {"suppliers": sups, "targets": [target]})
        d_share, d_cap = [], []
        for s in seeds:
            base = run(scenario("arms_market"), s)
            emb = run(scenario("arms_market", events=(ev,)), s)
            ix = base.index
            su = [ix[x] for x in sups]
            t = ix[target]
            d_share.append(share(transfers(emb), t, su) - share(transfers(base), t, su))
            d_cap.append(emb.capability[t] / base.capability[t] - 1.0)
        print(f"{label:16s} share from embargoing suppliers: {ci(d_share)}")
        print(f"{label:16s} relative capability change: {ci(d_cap)}")


def exporter_share(vol: Counter, supplier: int) -> float:
    total = sum(vol.values())
    return sum(v for (s, _), v in vol.items() if s == supplier) / total if total else np.nan


def measure_doubling(seeds):
    print("## exporter shares are an outcome: arms_market, one exporter's arms_industry x 2")
    for sid in ("FRN", "CHN"):
        ratio = []
        for s in seeds:
            base = scenario("arms_market")
            k = base.ids.index(sid)
            spec = base.states[k]
            doubled = dataclasses.replace(spec, arms_industry=min(1.0, 2 * spec.arms_industry))
            states = (*base.states[:k], doubled, *base.states[k + 1 :])
            m0, m1 = run(base, s), run(dataclasses.replace(base, states=states), s)
            ratio.append(exporter_share(transfers(m1), k) / exporter_share(transfers(m0), k))
        print(f"{sid}: share(2 x arms_industry) / share(base) {ci(ratio)} (squared inputs: 4)")


def measure_deterrence(seeds):
    print("## deterrence: default vs switched off (deterrence=0, deescalation_deterrence=0)")
    for name in ("indo_pacific", "europe_nato", "middle_east"):
        d_crises, d_inc, share_on, share_off = [], [], [], []
        for s in seeds:
            on = run(scenario(name), s)
            off = run(scenario(name, deterrence=0.0, deescalation_deterrence=0.0), s)
            d_crises.append(on.crises_total - off.crises_total)
            d_inc.append(on.incidents - off.incidents)
            share_on.append(on.incidents / max(on.crises_total, 1))
            share_off.append(off.incidents / max(off.crises_total, 1))
        print(f"{name:14s} crises on - off {ci(d_crises)}; incidents on - off {ci(d_inc)}")
        print(f"{name:14s} incidents per crisis on {ci(share_on)}, off {ci(share_off)}")
    print("## within a run: incident share of crises above minus below the median backing")
    for name in ("indo_pacific", "middle_east"):
        diff = []
        for s in seeds:
            m = run(scenario(name), s)
            backing = np.array(m.crisis_backing)
            incident = np.array([c[3] == "incident" for c in m.crisis_log])
            drawn = ~np.isnan(backing)  # wars are not drawn crises
            backing, incident = backing[drawn], incident[drawn]
            high = backing >= np.median(backing)
            if high.any() and (~high).any():
                diff.append(incident[high].mean() - incident[~high].mean())
        print(f"{name:14s} {ci(diff)} ({len(diff)} seeds with crises on both sides)")


def measure_within(seeds):
    """The controlled world of tests/worlds.py (deterrence_world): crises RED starts against
    allied and unallied targets, at defaults and with the mechanism switched off
    (tests/test_diplomacy.py::test_a_crisis_against_a_backed_target_less_often_becomes_an_incident)."""
    from tests.worlds import allied_incident_contrast, deterrence_world  # noqa: PLC0415

    print("## within a run, controlled: crises RED starts against allied and unallied targets")
    print("## at the same hostility, place and distance (tests/worlds.py deterrence_world)")
    sc, allied, unallied = deterrence_world()
    off = dataclasses.replace(sc, parameters=sc.parameters.replace(deescalation_deterrence=0.0))
    for label, world in (("defaults", sc), ("deescalation_deterrence 0", off)):
        est, lo, hi, c = allied_incident_contrast([run(world, s) for s in seeds], allied, unallied)
        print(
            f"{label}: crises a run against allied {c[:, 1].mean():.2f}, unallied "
            f"{c[:, 3].mean():.2f}; their backing {np.nanmean(c[:, 4]):.2f} and "
            f"{np.nanmean(c[:, 5]):.2f}; incident share {c[:, 0].sum() / c[:, 1].sum():.3f} "
            f"and {c[:, 2].sum() / c[:, 3].sum():.3f}, allied - unallied {est:.3f} "
            f"[{lo:.3f}, {hi:.3f}]"
        )


def measure_world_market(seeds):
    print("## world scenario, 10 years: USA customers and share; importers >= 90% from a")
    print("## supplier SIPRI 2015-24 does not list among its top two, among importers with")
    print(f"## >= {MIN_DEALS} deliveries and SIPRI imports ({len(seeds)} seeds)")
    dep = scenario("world").relations.dependency
    customers_, share_, violations, ind_rus, tur_main = [], [], [], [], Counter()
    for s in seeds:
        m = run(scenario("world", steps=120), s)
        vol = transfers(m)
        usa = m.index["USA"]
        customers_.append(customers(vol, usa))
        share_.append(exporter_share(vol, usa))
        ind_rus.append(share(vol, m.index["IND"], [m.index["RUS"]]))
        tur = {s_: v for (s_, r_), v in vol.items() if r_ == m.index["TUR"]}
        tur_main[m.ids[max(tur, key=tur.get)] if tur else "-"] += 1
        deals = Counter(r[4][0] for r in m.activity_log if r[1] == "arms_transfer")
        bad, small = [], 0
        for r in {r for (_, r) in vol}:
            for sup in sorted(s_ for (s_, r_) in vol if r_ == r):
                if share(vol, r, [sup]) >= 0.9 and (deals[r] < MIN_DEALS or not dep.get(m.ids[r])):
                    small += 1  # a handful of deliveries, or no SIPRI imports to compare
                elif share(vol, r, [sup]) >= 0.9:
                    top2 = [
                        k
                        for k, _ in sorted(dep.get(m.ids[r], {}).items(), key=lambda kv: -kv[1])[:2]
                    ]
                    if m.ids[sup] not in top2:
                        bad.append(f"{m.ids[r]}<-{m.ids[sup]}")
        violations.append(len(bad))
        print(
            f"seed {s}: violations {sorted(bad)}; >= 90% among small or unlisted importers {small}"
        )
    print(f"USA customers {ci(customers_)}; USA share {ci(share_)}; violations {ci(violations)}")
    print(f"India's share from Russia {ci(ind_rus)}; Turkey's main supplier {dict(tur_main)}")


GULF = ("SAU", "UAE", "QAT", "KUW", "BAH", "OMA")


def access_effects(m: DiplomacyModel) -> dict[str, float]:
    """End-of-run quantities access and basing act on, middle_east: the USA's reach to the
    Gulf states and Russia's to Syria; the credible backing of the Gulf states against Iran
    and of Syria against Israel and Turkey; the Gulf states' arms dependency on the USA;
    chosen US exercises with Gulf states and Russian ones with Syria so far."""
    ix = m.index
    usa, rus, syr, irn = ix["USA"], ix["RUS"], ix["SYR"], ix["IRN"]
    gulf = np.array([ix[g] for g in GULF])
    syria = np.full(2, syr)
    ex_us = ex_ru = 0
    for r in m.activity_log:
        if r[1] == "exercise" and not r[6]:  # chosen, not scripted
            who = {r[3], *r[4]}
            ex_us += usa in who and bool(who & set(gulf.tolist()))
            ex_ru += rus in who and syr in who
    return {
        "USA access in the Gulf": float(m.access[usa, gulf].mean()),
        "Russia access in Syria": float(m.access[rus, syr]),
        "USA reach to the Gulf": float(m.reach[usa, gulf].mean()),
        "Russia reach to Syria": float(m.reach[rus, syr]),
        "Gulf backing against Iran": float(
            credible_backing(m, np.full(len(gulf), irn), gulf).mean()
        ),
        "Syria backing against Israel, Turkey": float(
            credible_backing(m, np.array([ix["ISR"], ix["TUR"]]), syria).mean()
        ),
        "Gulf dependency on the USA": float(m.dependency[gulf, usa].mean()),
        "US exercises with Gulf states": float(ex_us),
        "Russia-Syria exercises": float(ex_ru),
    }


def without_access(name: str):
    sc = scenario(name)
    return dataclasses.replace(sc, relations=dataclasses.replace(sc.relations, access={}))


def measure_access(seeds):
    print("## access and basing: middle_east with the judged access (data/access_judgement.csv)")
    print("## minus the same seeds without it (paired), after 5 years (2022-12, before Assad's")
    print("## fall) and at the end of the run (2027-12)")
    rows: dict[str, list[float]] = {}
    for s in seeds:
        on = DiplomacyModel(scenario("middle_east"), rng=s)
        off = DiplomacyModel(without_access("middle_east"), rng=s)
        for when, steps in (("5y", 60), ("end", on.world.steps - 60)):
            on.run(steps)
            off.run(steps)
            a, b = access_effects(on), access_effects(off)
            for k in a:
                rows.setdefault(f"{when} {k}", []).append(a[k] - b[k])
                rows.setdefault(f"{when} {k} (with)", []).append(a[k])
    for k, v in rows.items():
        print(f"{k:48s} {ci(v)}")


def with_levers(name: str, **levers):
    sc = scenario(name)
    return dataclasses.replace(sc, governance={**sc.governance, **levers})


def ended_pairs(*runs: DiplomacyModel) -> tuple[np.ndarray, np.ndarray]:
    """(provider, host) pairs whose standing program ended in any of the runs."""
    if not all(hasattr(m, "program_ended") for m in runs):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.nonzero(np.logical_or.reduce([m.program_ended for m in runs]))


def advisory_missions(m: DiplomacyModel) -> int:
    return sum(1 for r in m.activity_log if r[1] == "advisory")


def measure_levers(seeds):
    print("## governance levers, paired by seed")
    for name in ("indo_pacific", "middle_east"):
        d_back, back0, d_rate, over, ended = [], [], [], [], []
        for s in seeds:
            lo = run(with_levers(name, oversight=0.0), s)
            hi = run(with_levers(name, oversight=1.0), s)
            d_back.append(hi.backlashes - lo.backlashes)
            back0.append(lo.backlashes)
            d_rate.append(
                hi.backlashes / max(advisory_missions(hi), 1)
                - lo.backlashes / max(advisory_missions(lo), 1)
            )
            base = run(scenario(name), s)
            over.append(getattr(base, "overreaches", 0) / max(advisory_missions(base), 1))
            ended.append(getattr(base, "programs_ended", 0))
        print(f"{name:14s} backlashes oversight 1 - 0: {ci(d_back)} (oversight 0: {ci(back0)})")
        print(f"{name:14s} backlashes per mission, oversight 1 - 0: {ci(d_rate)}")
        print(f"{name:14s} share of missions in overreach {ci(over)}; programs ended {ci(ended)}")
    # exit strategy: the test world of tests/worlds.py (weak hosts advised by strong states)
    sys.path.insert(0, str(ROOT / "tests"))
    from worlds import world  # noqa: PLC0415

    d_trust, d_gov, d_all = [], [], []
    for s in range(20):
        e9, e1 = (run(world(steps=120, governance={"exit_strategy": e}), s) for e in (0.9, 0.1))
        prov, host = ended_pairs(e9, e1)
        d_all.append(float(e9.trust.mean() - e1.trust.mean()))
        if len(prov):
            d_trust.append(float(e9.trust[host, prov].mean() - e1.trust[host, prov].mean()))
            d_gov.append(float(e9.governance[host].mean() - e1.governance[host].mean()))
    print(f"test world, 20 seeds: mean trust, exit 0.9 - 0.1: {ci(d_all)}")
    if d_trust:
        print(f"host trust in the provider after its program ended, exit 0.9 - 0.1: {ci(d_trust)}")
        print(f"host governance after the program ended, exit 0.9 - 0.1: {ci(d_gov)}")
    else:
        print("no standing program ended in any run")


MEASURES = {
    "consent": measure_consent,
    "market": measure_market,
    "embargo": measure_embargo,
    "doubling": measure_doubling,
    "deterrence": measure_deterrence,
    "within": measure_within,
    "world": measure_world_market,
    "access": measure_access,
    "levers": measure_levers,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--only", default=",".join(MEASURES))
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    for name in args.only.split(","):
        MEASURES[name](seeds)


if __name__ == "__main__":
    main()
