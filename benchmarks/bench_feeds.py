"""Time and peak memory of one ICS calendar fetch on hostile and near-cap feeds.

Run: .venv/bin/python benchmarks/bench_feeds.py [CASE ...]
Each case runs in a fresh Python process (``--child``), which reads a generated feed
from a file through the product's own ICS source, so imports and earlier cases do
not blur its numbers. It prints the wall time of ``ICSSource.fetch``, the process's
peak RSS (``resource.getrusage``; the unit's MemoryMax is 150 MB) and its RSS after
the imports, what the fetch gave (events, or the error, and whether it was cut), and
the size of the snapshot as JSON (what Redis stores; the store refuses 32 MB).

Cases (the board: America/Los_Angeles, 4 days, now 2025-01-20 09:00):
  secondly    one event, FREQ=SECONDLY;INTERVAL=10 from the day before
  minutely    one event, FREQ=MINUTELY from the day before
  history24   a 24 MB feed of past one-off events (2012 on), a few in the window
  window100k  100,000 one-off events on the board's days
  google42    shared/real-world/rie_bench_issue42.ics (skipped without shared/)
  hugecount   a daily series with COUNT=10000000000 (past RFC 5545's integers), begun in 2020
A Pi Zero is roughly 20x slower than a desktop core.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2025, 1, 20, 9, 0, tzinfo=LA)
HEAD = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//bench//EN",
    "X-WR-TIMEZONE:America/Los_Angeles",
]
CHILD_TIMEOUT = 900.0


def _feed(lines: list[str]) -> bytes:
    return ("\r\n".join([*HEAD, *lines, "END:VCALENDAR"]) + "\r\n").encode()


def _event(uid: str, start: str, end: str, title: str, *extra: str) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20250101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{title}",
        *extra,
        "END:VEVENT",
    ]


def secondly() -> bytes:
    """One event every ten seconds."""
    return _feed(
        _event(
            "tick@bench",
            "20250119T000000",
            "20250119T000005",
            "Tick",
            "RRULE:FREQ=SECONDLY;INTERVAL=10",
        )
    )


def minutely() -> bytes:
    """One event every minute: few rule steps, but thousands of occurrences on the board."""
    return _feed(
        _event(
            "minute@bench", "20250119T000000", "20250119T000030", "Minute", "RRULE:FREQ=MINUTELY"
        )
    )


def history24() -> bytes:
    """Years of past events, padded with descriptions as real exports are: 24 MB."""
    lines: list[str] = []
    size, i = 0, 0
    first = date(2012, 1, 2)
    pad = "DESCRIPTION:" + "Minutes of the meeting, agenda and notes. " * 3
    while size < 24 * 1024 * 1024:
        day = first + timedelta(days=i // 8)
        hour = 8 + i % 8
        block = _event(
            f"hist-{i}@bench",
            f"{day:%Y%m%d}T{hour:02d}0000",
            f"{day:%Y%m%d}T{hour:02d}4500",
            f"History {i}",
            pad,
        )
        lines += block
        size += sum(len(line) + 2 for line in block)
        i += 1
    for k in range(6):  # a few on the board's days
        lines += _event(
            f"now-{k}@bench",
            f"202501{20 + k % 4}T1{k}0000",
            f"202501{20 + k % 4}T1{k}3000",
            f"This week {k}",
        )
    return _feed(lines)


def window100k() -> bytes:
    """100,000 events on the board's days."""
    lines: list[str] = []
    for i in range(100_000):
        day = date(2025, 1, 20) + timedelta(days=i % 4)
        minute = (i // 4) % 1380
        start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
        lines += _event(
            f"busy-{i}@bench",
            f"{start:%Y%m%dT%H%M%S}",
            f"{start + timedelta(minutes=30):%Y%m%dT%H%M%S}",
            f"Busy {i}",
        )
    return _feed(lines)


def hugecount() -> bytes:
    """A daily series that is practically endless, begun five years ago."""
    return _feed(
        _event(
            "daily@bench",
            "20200101T070000",
            "20200101T073000",
            "Feed the cat",
            "RRULE:FREQ=DAILY;COUNT=10000000000",
        )
    )


REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real-world"


def google42() -> bytes:
    """A real 1.6 MB Google export (4,800 events, 2010-2048), read from shared/real-world."""
    return (REAL / "rie_bench_issue42.ics").read_bytes()


CASES = {
    "secondly": secondly,
    "minutely": minutely,
    "history24": history24,
    "window100k": window100k,
    "hugecount": hugecount,
    "google42": google42,
}


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec, unlike ru_maxrss), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str) -> None:
    """Fetch the feed at ``path`` once and print the numbers as JSON."""
    import requests

    from homeboard.errors import SourceError, SourceLimitExceeded
    from homeboard.model import Snapshot, snapshot_to_json
    from homeboard.sources.ics import ICSSource

    base = peak_rss_mb()
    source = ICSSource(name="Bench", url=path, tz=LA, days=4)
    started = time.perf_counter()
    out: dict[str, object] = {}
    try:
        with requests.Session() as session:
            events = source.fetch(session=session, now=NOW)
    except SourceLimitExceeded as exc:
        out.update(outcome=f"cut: {exc}", cut=True)
        partial = getattr(exc, "partial", None)
        events = partial if isinstance(partial, tuple) else ()
    except SourceError as exc:
        out.update(outcome=f"error: {exc}", cut=False)
        events = ()
    else:
        out.update(outcome="ok", cut=False)
    out["seconds"] = round(time.perf_counter() - started, 2)
    snap = Snapshot(name="calendar:Bench", kind="calendar", data=events, fetched_at=NOW)
    out["events"] = len(events)
    out["redis_bytes"] = len(json.dumps(snapshot_to_json(snap)))
    out["base_rss_mb"] = round(base, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(out))


def main(names: list[str]) -> None:
    """Generate each case's feed and measure it in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or list(CASES):
            if name == "google42" and not REAL.is_dir():
                print(f"{name:11} skipped: no {REAL}")
                continue
            path = Path(tmp) / f"{name}.ics"
            # Made in a process of its own, so that this one stays small.
            subprocess.run([sys.executable, __file__, "--make", name, str(path)], check=True)
            size = path.stat().st_size
            try:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(path)],
                    capture_output=True,
                    text=True,
                    timeout=CHILD_TIMEOUT,
                )
                result = (
                    done.stdout.strip().splitlines()[-1]
                    if done.stdout.strip()
                    else (json.dumps({"outcome": f"crashed: {done.stderr.strip()[-300:]}"}))
                )
            except subprocess.TimeoutExpired:
                result = json.dumps({"outcome": f"still running after {CHILD_TIMEOUT:.0f} s"})
            print(f"{name:11} {size / 1e6:5.1f} MB  {result}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "--make":
        Path(sys.argv[3]).write_bytes(CASES[sys.argv[2]]())
    else:
        main(sys.argv[1:])
