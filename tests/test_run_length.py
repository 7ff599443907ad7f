"""A run shorter than its scenario follows one rule in `ddsim run`, `--set steps=` and
sweeps: it ends earlier, the scheduled events after its last step are not run, and the
run (manifest meta, summary) or sweep (sweep.json) says how many were left out."""

from __future__ import annotations

import json

from sim.running.simulate import events_dropped, prepare_scenario


def _after(world, steps: int) -> int:
    return sum(1 for e in world.events if e.step >= steps)


def test_steps_and_a_steps_override_drop_the_same_events():
    full = prepare_scenario("indo_pacific")
    expected = _after(full, 60)
    assert expected > 0  # indo_pacific schedules events after step 59
    by_option = prepare_scenario("indo_pacific", steps=60)
    by_override = prepare_scenario("indo_pacific", overrides={"steps": 60})
    for world in (by_option, by_override):
        assert world.steps == 60 and all(e.step < 60 for e in world.events)
        assert events_dropped(world) == expected
    assert by_option.events == by_override.events
    assert events_dropped(full) == 0


def test_a_longer_or_bad_steps_override_is_still_checked():
    import pytest

    from sim.errors import InputError

    assert prepare_scenario("minimal", overrides={"steps": 400}).steps == 400
    with pytest.raises(InputError, match="steps"):
        prepare_scenario("minimal", overrides={"steps": 0})


def test_sweep_steps_follow_the_run_rule(tmp_path):
    from sim.experiments.experiment import load_experiment

    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\nscenario: indo_pacific\nsteps: 60\nreplicates: 1\n"
        "design: {type: grid}\n"
        "parameters:\n  - {path: governance.transparency, name: t, values: [0.3]}\n",
        encoding="utf-8",
    )
    exp = load_experiment(path)
    full = prepare_scenario("indo_pacific")
    assert exp.base["steps"] == 60 and exp.run_steps == 60
    assert all(e["step"] < 60 for e in exp.base.get("events", []))
    assert exp.events_dropped == _after(full, 60) > 0


def test_run_manifest_and_summary_say_how_many_were_dropped(tmp_path, cli):
    out = tmp_path / "short"
    result = cli("run", "indo_pacific", "--steps", "60", "--out", str(out), "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    dropped = _after(prepare_scenario("indo_pacific"), 60)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["meta"]["events_dropped"] == dropped
    summary = (out / "summary.txt").read_text()
    assert f"{dropped} scheduled events after step 59 not run" in summary
