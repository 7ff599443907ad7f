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


def _activities(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": list(range(len(rows))),
            "activity": [r[0] for r in rows],
            "initiator": [r[1] for r in rows],
            "partners": [r[2] for r in rows],
            "size": [r[3] for r in rows],
        }
    )


def test_main_arms_suppliers_per_importer():
    acts = _activities(
        [
            ("arms_transfer", "USA", "JPN", 3.0),
            ("arms_transfer", "FRN", "JPN", 1.0),
            ("arms_transfer", "RUS", "IND", 2.0),
            ("arms_transfer", "USA", "IND", 1.5),
            ("arms_transfer", "RUS", "IND", 1.0),
            ("arms_transfer", "CHN", "PAK", 0.5),
            ("exercise", "USA", "PAK", 9.0),  # not an arms transfer
            ("dialogue", "CHN", "IND;PAK", 1.0),
        ]
    )
    names = {"JPN": "Japan", "RUS": "Russia", "IND": "India", "USA": "United States"}
    sec = summary.suppliers_section(acts, names, top=2)
    assert sec.title == "Main arms suppliers"
    assert sec.rows == [
        ["India", "4.5", "Russia", "67%", "2"],
        ["Japan", "4.0", "United States", "75%", "2"],
    ]  # Pakistan (0.5) is the third importer: left out at top=2
    assert "2 largest importers of 3" in sec.note
    text = summary.render_plain(summary.RunSummary("h", [sec]))
    assert "Main arms suppliers" in text and "Russia" in text


def test_no_arms_transfers():
    sec = summary.suppliers_section(_activities([("exercise", "USA", "JPN", 1.0)]), {})
    assert sec.rows == [["no arms transfers in this run"]]
