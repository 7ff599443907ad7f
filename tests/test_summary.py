"""The end-of-run summary's sections on hand-made tables (sim.reports.summary)."""

from __future__ import annotations

import pandas as pd

from sim.reports import summary


def _states(hedging: list[float]) -> pd.DataFrame:
    n = len(hedging)
    return pd.DataFrame(
        {
            "step": [10] * n,
            "state": [f"S{k}" for k in range(n)],
            "bloc": [0] * n,
            "hedging": hedging,
            "margin": [0.1] * n,
            "capability": [1.0] * n,
        }
    )


def test_hedging_lists_only_states_that_hedge_at_two_decimals():
    sec = summary._hedging_section(_states([0.3, 0.0, 0.004, 0.006]), {}, {0: "A bloc"}, 5)
    assert [r[0] for r in sec.rows] == ["S0", "S3"]
    assert all(r[2] != "0.00" for r in sec.rows)


def test_no_state_hedges():
    sec = summary._hedging_section(_states([0.0, 0.001]), {}, {0: "A bloc"}, 5)
    text = summary.render_plain(summary.RunSummary("h", [sec]))
    assert "no state hedges (hedging 0.00 for all)" in text
    assert "0.00" not in text.replace("hedging 0.00 for all", "")
