"""Scripted wars (`war_shock` events, outcome `war` in the crises table) are scenario inputs:
the summary, sweep/compare outcomes and labels keep them apart from the model's crises."""

from __future__ import annotations

import pytest

from sim.running.simulate import run_scenario


@pytest.fixture(scope="module")
def indo_pacific():
    return run_scenario("indo_pacific")


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def test_the_scenario_has_wars_and_model_crises(indo_pacific):
    outcome = indo_pacific.crises["outcome"]
    assert (outcome == "war").any() and (outcome != "war").any()  # else nothing to tell apart


def test_summary_counts_model_crises_without_wars(indo_pacific):
    from sim.reports import summary

    built = summary.build_summary(indo_pacific)
    crises = indo_pacific.crises
    model = crises[crises["outcome"] != "war"]
    counts: dict[tuple[str, str], int] = {}
    for a, b in zip(model["state_a"], model["state_b"], strict=True):
        counts[_pair(a, b)] = counts.get(_pair(a, b), 0) + 1
    names = dict(zip(indo_pacific.meta["names"], indo_pacific.meta["states"], strict=True))
    risk = next(s for s in built.sections if s.title.startswith("Riskiest dyads"))
    assert "scripted wars not counted" in risk.note
    for row in risk.rows:
        a, b = (names[n] for n in row[0].split(" - "))
        assert row[4] == str(counts.get(_pair(a, b), 0)), row
    section = next(s for s in built.sections if s.title.startswith("Crises"))
    busiest = section.note.split("most model crises: ")[1].split(";")[0]
    top = max(counts.values())
    assert f"({top}, " in busiest and f"({top + 1}, " not in busiest
    for part in busiest.split("), "):  # "China - India (5, started: China 3, India 2"
        pair, detail = part.split(" (", 1)
        a, b = (names[n] for n in pair.split(" - "))
        total, started = detail.rstrip(")").split(", started: ")
        started = started.split(", ")
        assert int(total) == counts[_pair(a, b)]
        in_pair = model[
            [_pair(x, y) == _pair(a, b) for x, y in zip(model.state_a, model.state_b, strict=True)]
        ]
        truth = in_pair["challenger"].value_counts().to_dict()
        by = {names[s.rsplit(" ", 1)[0]]: int(s.rsplit(" ", 1)[1]) for s in started}
        assert by == truth, part


def test_outcomes_count_model_crises_and_wars_apart(indo_pacific):
    from sim.experiments.outcomes import OutcomeSpec, compute_outcomes, default_outcomes

    crises = indo_pacific.crises
    wars = crises[crises["outcome"] == "war"]
    a, b = wars["state_a"].iloc[0], wars["state_b"].iloc[0]
    in_pair = [
        _pair(x, y) == _pair(a, b)
        for x, y in zip(crises["state_a"], crises["state_b"], strict=True)
    ]
    pair = crises[in_pair]
    specs = (
        OutcomeSpec("pair_crises", None, "count", table="crises", between=(a, b)),
        OutcomeSpec("pair_wars", None, "count", table="crises", between=(a, b), outcome="war"),
        OutcomeSpec("pair_first", None, "first", table="crises", between=(a, b)),
        *default_outcomes(),
    )
    out = compute_outcomes(indo_pacific, specs)
    model = pair[pair["outcome"] != "war"]
    assert out["pair_crises"] == len(model)
    assert out["pair_wars"] == (pair["outcome"] == "war").sum()
    if len(model):
        assert out["pair_first"] == model["step"].min()
    years = indo_pacific.meta["steps"] / 12
    n_model = int((crises["outcome"] != "war").sum())
    n_incidents = int((crises["outcome"] == "incident").sum())
    assert out["crises_per_year"] == pytest.approx(n_model / years)
    assert out["incidents_per_year"] == pytest.approx(n_incidents / years)


def test_labels_say_what_they_count():
    from sim.reports.quantities import describe_outcome

    assert "model crises" in describe_outcome({"metric": "crises", "stat": "sum"}).label
    assert "model crises" in describe_outcome({"metric": "crises_total"}).label
    assert "scripted wars" in describe_outcome({"metric": "wars_total"}).label
    label = describe_outcome({"table": "crises", "stat": "count", "per_year": True}).label
    assert "model crises" in label
    assert "scripted wars" in describe_outcome({"table": "crises", "outcome": "war"}).label


def test_world_counters_keep_scripted_wars_apart(indo_pacific):
    """The world table's crises and incidents are the model's; scripted wars are counted
    in `wars`: together they make every row of the crises table."""
    world, crises = indo_pacific.world, indo_pacific.crises
    n_wars = int((crises["outcome"] == "war").sum())
    assert n_wars > 0  # indo_pacific scripts wars
    assert int(world["wars"].sum()) == n_wars == int(world["wars_total"].iloc[-1])
    assert int(world["crises"].sum()) == int((crises["outcome"] != "war").sum())
    assert int(world["crises_total"].iloc[-1]) == int(world["crises"].sum())
    assert int(world["incidents"].sum()) == int((crises["outcome"] == "incident").sum())
