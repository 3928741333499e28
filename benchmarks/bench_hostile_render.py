"""Render time and memory of a frame whose sources delivered the worst: 2,000,000-character
titles, NaN and infinite numbers, control characters, emoji, unknown icons.

Run: .venv/bin/python benchmarks/bench_hostile_render.py
A Pi Zero is roughly 20x slower than a desktop core. The point: such a frame costs about
what an ordinary busy frame costs, because text is capped before it is measured.
"""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import drivers
from homeboard.demo import demo_config, demo_moment, demo_snapshots
from homeboard.model import (
    BoardState,
    Current,
    Day,
    Event,
    Forecast,
    SourceState,
    Special,
    compose,
)
from homeboard.render import render

RUNS = 5
TZ = ZoneInfo("Europe/Berlin")
HUGE = "Elternabend " * 180_000
TITLES = (HUGE, "x" * 2_000_000, "", "\x00\x07\x1b[31m", "🎉🎂🎈" * 4, "\u200b" * 5000)


def hostile(days: int) -> BoardState:
    """A state holding what a broken or hostile source might deliver, on every day."""
    first = date(2026, 11, 25)
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        at = datetime.combine(d, datetime.min.time(), TZ) + timedelta(hours=7)
        events = tuple(
            Event(t, at + timedelta(hours=k), at + timedelta(hours=k + 1), False, "c", t, "red")
            for k, t in enumerate(TITLES)
        )
        out.append(
            Day(
                date=d,
                forecast=Forecast(d, "?", high=math.nan, low=math.inf, precip_chance=10**9),
                events=events,
                special=Special(kind="birthday", title=HUGE, message=HUGE, icon="nope"),
            )
        )
    return BoardState(
        date=first,
        timezone="Europe/Berlin",
        days=tuple(out),
        current=Current(temperature=1e308, category="?"),
        sources=(SourceState("calendar:x", "calendar", HUGE, "unavailable", cut=True),),
        attribution=(HUGE,),
        location=HUGE,
    )


def _measure(state: BoardState, panel: drivers.PanelSpec) -> tuple[float, float]:
    render(state, panel)  # warm the font caches
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render(state, panel)
        times.append((time.perf_counter() - start) * 1000)
    tracemalloc.start()
    render(state, panel)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 1024 / 1024


def main() -> None:
    """Print the table."""
    panel = drivers.PANELS["waveshare_epd7in5b_v2"]
    config = demo_config()
    now = demo_moment(config, "busy")
    busy = compose(config, demo_snapshots(config, now, scenario="busy"), now)
    print(f"{'state (V2)':32} {'render ms':>10} {'peak MiB':>9}  (median of {RUNS})")
    for name, state in (
        ("demo busy, 4 days", busy),
        *[(f"hostile, {n} days", hostile(n)) for n in (1, 4, 7)],
    ):
        ms, mib = _measure(state, panel)
        print(f"{name:32} {ms:10.1f} {mib:9.1f}")


if __name__ == "__main__":
    main()
