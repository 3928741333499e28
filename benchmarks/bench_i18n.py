"""What a language costs: Babel's import, one locale's CLDR data and the board's words.

Run: .venv/bin/python benchmarks/bench_i18n.py
Each figure comes from a fresh interpreter (cold caches, as at a service start):
- import: ``python -X importtime -c "import homeboard.i18n"`` (Babel is imported only
  when a language is first used), and in the probe below;
- first words: the wall time of the first ``words_for(language)`` (Babel imported, CLDR
  data files unpickled, the catalog read, the names built), and of a second language;
- memory: tracemalloc's current and peak KiB for all of that plus one date, time and
  number formatted (in a run of its own), and the growth of the process's max RSS.
A Pi Zero is roughly 20x slower than a desktop core.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

PROBE = r"""
import json, resource, sys, time, tracemalloc
from datetime import date, datetime, timezone
traced = sys.argv[3] == "traced"
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced:
    tracemalloc.start()
t0 = time.perf_counter()
import homeboard.i18n as i18n
t1 = time.perf_counter()
w = i18n.words_for(sys.argv[1])  # Babel imported, CLDR data loaded, catalog read
t2 = time.perf_counter()
evening = datetime(2026, 12, 1, 18, tzinfo=timezone.utc)
w.date(date(2026, 12, 1)); w.when(evening, date(2026, 12, 3), w.clock)
w.number(-5); w.percent(30); w.more(3)
t3 = time.perf_counter()
current, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
tracemalloc.stop()
t4 = time.perf_counter()
i18n.words_for(sys.argv[2])
t5 = time.perf_counter()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"traced_kib": current / 1024, "peak_kib": peak / 1024} if traced else {
    "import_ms": (t1 - t0) * 1e3, "first_words_ms": (t2 - t1) * 1e3,
    "formats_ms": (t3 - t2) * 1e3, "second_language_ms": (t5 - t4) * 1e3,
    "rss_growth_mib": (rss1 - rss0) / 1024}
print(json.dumps(out))
"""


def importtime(code: str) -> dict[str, float]:
    """Cumulative import milliseconds per top-level module imported by ``code``."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    cumulative: dict[str, float] = {}
    for line in err.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line)
        if match:  # top level only: no indent before the name
            cumulative[match.group(2)] = int(match.group(1)) / 1000
    return cumulative


def main() -> None:
    """Print the figures."""
    ours = importtime("import homeboard.i18n")
    babel = importtime("import babel.dates, babel.numbers, babel.localedata")
    print(
        "import ms (-X importtime, cumulative): homeboard.i18n",
        ours.get("homeboard.i18n"),
        "(Babel not yet); babel.dates+numbers",
        round(sum(v for k, v in babel.items() if k.startswith("babel")), 1),
    )
    for first, second in (("en", "de"), ("de", "ja"), ("ar_EG", "hi")):
        runs = [
            {
                k: v
                for mode in ("timed", "traced")
                for k, v in json.loads(
                    subprocess.run(
                        [sys.executable, "-c", PROBE, first, second, mode],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                ).items()
            }
            for _ in range(5)
        ]
        best = {k: round(min(r[k] for r in runs), 2) for k in runs[0]}
        print(f"{first} then {second}:", json.dumps(best))


if __name__ == "__main__":
    main()
