"""The time axis of run figures: step numbers shown as dates when the scenario has a start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedFormatter, FixedLocator

_UNIT_OFFSETS = {
    "day": lambda k: pd.DateOffset(days=k),
    "week": lambda k: pd.DateOffset(weeks=k),
    "month": lambda k: pd.DateOffset(months=k),
    "quarter": lambda k: pd.DateOffset(months=3 * k),
    "year": lambda k: pd.DateOffset(years=k),
}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class TimeAxis:
    """Maps step numbers to what the x axis shows: calendar dates when the scenario has a
    start date and a calendar time unit, else step numbers."""

    start: pd.Timestamp | None = None
    unit: str = "month"

    @classmethod
    def from_scenario(cls, start: object | None, unit: str | None) -> TimeAxis:
        """Build from a scenario's `start` and `time_unit` (bad or missing start -> steps)."""
        unit = str(unit or "month").lower().rstrip("s")
        if start in (None, "") or unit not in _UNIT_OFFSETS:
            return cls(None, unit)
        try:
            ts = pd.Timestamp(str(start))
        except (ValueError, TypeError):
            return cls(None, unit)
        return cls(None if pd.isna(ts) else ts, unit)

    @classmethod
    def from_meta(cls, meta: dict) -> TimeAxis:
        """Build from a run's `meta` (start, time_unit)."""
        return cls.from_scenario(meta.get("start"), meta.get("time_unit"))

    @property
    def dated(self) -> bool:
        """Whether the axis shows dates."""
        return self.start is not None

    def num(self, steps: Sequence[int] | np.ndarray | pd.Series) -> np.ndarray:
        """x values as plotted: matplotlib date numbers (days since its epoch) when dated,
        else the steps, as floats. Figures plot numbers with fixed date ticks
        (`format`), so matplotlib's date converter never runs."""
        x = self.x(steps)
        return dates_to_num(x) if self.dated else np.asarray(x, dtype=float)

    def x(self, steps: Sequence[int] | np.ndarray | pd.Series) -> np.ndarray:
        """x values for these steps (datetime64 when dated)."""
        arr = np.asarray(steps, dtype=np.int64)
        if not self.dated:
            return arr
        start = self.start
        if self.unit in ("day", "week"):
            scale = 7 if self.unit == "week" else 1
            return (start + pd.to_timedelta(arr * scale, unit="D")).to_numpy()
        months = _MONTHS[self.unit]
        if start == start.normalize() and start.day == 1:
            # Calendar months by integer arithmetic (the common case: a start month).
            base = np.datetime64(start.to_datetime64(), "M")
            return (base + arr * months).astype("datetime64[ns]")
        offset = _UNIT_OFFSETS[self.unit]
        unique, inverse = np.unique(arr, return_inverse=True)
        dates = pd.DatetimeIndex([start + offset(int(k)) for k in unique]).to_numpy()
        return dates[inverse]

    @property
    def label(self) -> str:
        """Axis label with units."""
        if self.dated:
            return f"date (1 step = 1 {self.unit})"
        return f"step ({self.unit}s since start)"

    def when(self, step: int) -> str:
        """'Jan 2030' (dated) or 'step 60'."""
        if not self.dated:
            return f"step {step}"
        stamp = pd.Timestamp(self.x([step])[0])
        if self.unit == "year":
            return stamp.strftime("%Y")
        return stamp.strftime("%b %Y" if self.unit in ("month", "quarter") else "%d %b %Y")

    def step_label(self, step: int) -> str:
        """A short label for one step, e.g. 'step 60 (Jan 2030)'."""
        if not self.dated:
            return f"step {step}"
        return f"step {step} ({self.when(step)})"

    def steps_per_year(self) -> float | None:
        """Steps in a calendar year for this unit (None for unknown units)."""
        return {"day": 365.25, "week": 52.18, "month": 12, "quarter": 4, "year": 1}.get(self.unit)

    def format(self, ax: Axes, label: bool = True) -> None:
        """Label the x axis; when dated, put ticks on whole years (or months for short runs)
        with plain labels. Fixed ticks computed here cost a tenth of matplotlib's
        AutoDateLocator and ConciseDateFormatter (rrule iteration and per-tick formatting
        on every draw; measured)."""
        if label:
            ax.set_xlabel(self.label)
        if self.dated:
            ticks, labels = date_ticks(*ax.get_xlim())
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FixedFormatter(labels))


def _epoch() -> np.datetime64:
    return np.datetime64(mdates.get_epoch(), "s")


def dates_to_num(dates: np.ndarray) -> np.ndarray:
    """matplotlib date numbers (float days since its epoch) of datetime64 values. Done here
    rather than with `matplotlib.dates.date2num`, which warns under numpy >= 2.3 (generic
    NaT unit) in matplotlib 3.10."""
    seconds = (np.asarray(dates).astype("datetime64[s]") - _epoch()).astype(np.float64)
    return seconds / 86400.0


def num_to_dates(nums: np.ndarray) -> np.ndarray:
    """datetime64[s] values of matplotlib date numbers."""
    seconds = np.round(np.asarray(nums, dtype=float) * 86400.0).astype(np.int64)
    return _epoch() + seconds.astype("timedelta64[s]")


_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100)
_MONTH_STEPS = (1, 2, 3, 6)


def date_ticks(lo: float, hi: float, most: int = 8) -> tuple[np.ndarray, list[str]]:
    """Tick positions (matplotlib date numbers) and labels between `lo` and `hi`: every
    1, 2, 5, 10, ... years ('2030'), or every 1, 2, 3 or 6 months ('Mar 2030') when the span
    holds fewer than three years; at most `most` ticks."""
    start = np.datetime64(num_to_dates(np.array([lo]))[0], "M")
    end = np.datetime64(num_to_dates(np.array([hi]))[0], "M")
    months = int((end - start).astype(int)) + 1
    if months >= 36:
        first = int(str(np.datetime64(start, "Y")))
        last = int(str(np.datetime64(end, "Y"))) + 1
        step = next((s for s in _YEAR_STEPS if (last - first) / s <= most), _YEAR_STEPS[-1])
        years = np.arange((first + step - 1) // step * step, last + 1, step)
        dates = np.array([f"{y:04d}-01" for y in years], dtype="datetime64[M]")
        fmt = "%Y"
    else:
        step = next((s for s in _MONTH_STEPS if months / s <= most), 12)
        base = start.astype(int)
        first = base + (-base) % step
        dates = np.arange(first, end.astype(int) + 2, step).astype("datetime64[M]")
        fmt = "%b %Y"
    nums = dates_to_num(dates)
    keep = (nums >= lo - 1e-9) & (nums <= hi + 1e-9)
    labels = [pd.Timestamp(d).strftime(fmt) for d in dates[keep]]
    return nums[keep], labels


__all__ = ["TimeAxis", "date_ticks", "dates_to_num", "num_to_dates"]
