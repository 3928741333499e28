"""Render + pack timings of the demo board, per panel, and the preview command as a process.

Run: .venv/bin/python benchmarks/bench_render.py
A Pi Zero is roughly 20x slower than a desktop core; the targets below are for the
development machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import drivers
from homeboard.demo import demo_config, demo_moment, demo_snapshots
from homeboard.model import compose
from homeboard.render import render

RUNS = 20


def _median_ms(func, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    config = demo_config()
    now = demo_moment(config)
    state = compose(config, demo_snapshots(config, now), now)
    # The first render loads and caches the fonts; measure steady state, and the first apart.
    start = time.perf_counter()
    render(state, drivers.PANELS["waveshare_epd7in5b_v2"])
    first_ms = (time.perf_counter() - start) * 1000
    print(f"first render (fonts loading), V2: {first_ms:.1f} ms")
    print(f"{'panel':28} {'render ms':>10} {'pack ms':>8} {'total ms':>9}  (median of {RUNS})")
    for name, spec in drivers.PANELS.items():
        frame = render(state, spec)
        render_ms = _median_ms(lambda spec=spec: render(state, spec))
        pack_ms = _median_ms(lambda frame=frame, name=name: drivers.pack(frame, name))
        total = _median_ms(lambda spec=spec, name=name: drivers.pack(render(state, spec), name))
        print(f"{name:28} {render_ms:10.1f} {pack_ms:8.2f} {total:9.1f}")

    tracemalloc.start()
    render(state, drivers.PANELS["waveshare_epd7in5b_v2"])
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python allocation during one V2 render: {peak / 1024:.0f} KiB")

    exe = Path(sys.executable).with_name("homeboard")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.png"
        walls = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(
                [str(exe), "render", "--demo", "--out", str(out)], check=True, capture_output=True
            )
            walls.append(time.perf_counter() - start)
        probe = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                "import sys; from homeboard import cli, demo, render; import drivers;"
                "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                "('celery','kombu','googleapiclient','google','numpy','caldav','icalendar')))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    print(
        "`homeboard render --demo --out x.png` as a process: "
        f"median {statistics.median(walls):.2f} s "
        f"(min {min(walls):.2f} s) over 5 runs"
    )
    print(f"heavy modules imported on the render path: {probe.stdout.strip() or '[]'}")


if __name__ == "__main__":
    main()
