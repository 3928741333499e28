"""Fonts on disk, and render times and memory for an English, a Hindi and an Arabic board.

Run: .venv/bin/python benchmarks/bench_scripts.py

Each language's board is the demo week with titles in that language (scenario "i18n"),
drawn for the V2 panel. Per language, in a fresh process: the first render (fonts loading,
coverage read), the steady render (median; text layouts cached, as on the Pi between two
refreshes with the same events), and a render with the layout caches emptied (fonts still
loaded: new titles every time). Then one process renders all three and reports its RSS.
A Pi Zero is roughly 20x slower than a desktop core.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
import sys
import time
from importlib import resources

LANGUAGES = ("en", "hi", "ar")
RUNS = 15


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _state(language: str):  # type: ignore[no-untyped-def]
    from homeboard.demo import demo_config, demo_moment, demo_snapshots
    from homeboard.model import compose

    config = dataclasses.replace(demo_config(), language=language)
    now = demo_moment(config, "i18n")
    return compose(config, demo_snapshots(config, now, scenario="i18n"), now)


def measure(languages: list[str]) -> dict[str, object]:
    """Render each of ``languages`` in this process; return the timings and the RSS."""
    import drivers
    from homeboard.render import render
    from homeboard.render import text as text_module

    panel = drivers.PANELS["waveshare_epd7in5b_v2"]
    out: dict[str, object] = {"rss_before_mib": _rss_mib()}
    for language in languages:
        state = _state(language)
        start = time.perf_counter()
        render(state, panel)
        first = (time.perf_counter() - start) * 1000
        steady = []
        for _ in range(RUNS):
            start = time.perf_counter()
            render(state, panel)
            steady.append((time.perf_counter() - start) * 1000)
        cold = []
        for _ in range(RUNS):
            text_module._layout.cache_clear()
            text_module._clean_text.cache_clear()
            text_module._run_ink.cache_clear()
            start = time.perf_counter()
            render(state, panel)
            cold.append((time.perf_counter() - start) * 1000)
        out[language] = {
            "first_ms": first,
            "steady_ms": statistics.median(steady),
            "new_titles_ms": statistics.median(cold),
        }
    out["rss_after_mib"] = _rss_mib()
    return out


def _child(languages: list[str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *languages],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    """Print the table."""
    fonts = resources.files("homeboard.fonts")
    sizes = [f.stat().st_size for f in fonts.iterdir() if f.name.endswith((".ttf", ".otf"))]  # type: ignore[attr-defined]
    print(f"bundled fonts on disk: {sum(sizes) / 1e6:.2f} MB in {len(sizes)} files")
    print(f"{'board':6} {'first ms':>9} {'steady ms':>10} {'new titles ms':>14} {'RSS MiB':>8}")
    for language in LANGUAGES:
        data = _child([language])
        row = data[language]
        print(
            f"{language:6} {row['first_ms']:9.1f} {row['steady_ms']:10.1f}"  # type: ignore[index]
            f" {row['new_titles_ms']:14.1f} {data['rss_after_mib']:8.1f}"  # type: ignore[index]
        )
    together = _child(list(LANGUAGES))
    print(
        f"one process, all three rendered: RSS {together['rss_after_mib']:.1f} MiB "
        f"(bare interpreter: {together['rss_before_mib']:.1f} MiB)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2:])))
    else:
        main()
