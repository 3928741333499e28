"""Time and peak memory of one calendar fetch against each hostile answer.

Serves the answers of tests/hostile_http.py from this process on loopback and runs
each fetch in a fresh child process (``fetch_one`` with the product's session and
default caps and deadline), which reports its wall time, its peak RSS and the RSS it
had before fetching. Run from the repository root:

    .venv/bin/python benchmarks/bench_hostile_http.py [--deadline 60] [--bomb-mb 2048]

The drip case takes the whole deadline (60 s by default): that is what it measures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

CHILD = """
import json, resource, sys, time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from homeboard.sources import fetch_one, make_session
from homeboard.sources.ics import ICSSource

url, deadline = sys.argv[1], float(sys.argv[2])
source = ICSSource(name="Feed", url=url, tz=ZoneInfo("UTC"), days=7)
if deadline:
    source.deadline = deadline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
with make_session() as session:
    snap = fetch_one(source, None, session=session, now=datetime.now(timezone.utc))
took = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": took, "before_mb": before / 1024, "peak_mb": peak / 1024,
                  "error": snap.last_error, "events": len(snap.data or ())}))
"""


def main() -> None:
    """Run every case and print one table row per case."""
    from hostile_http import HostileServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=0.0,
                        help="per-source deadline in s (default: the product's, 60 s)")
    parser.add_argument("--bomb-mb", type=int, default=2048,
                        help="decompressed size of the gzip bomb in MB (default 2048)")
    args = parser.parse_args()

    made = time.monotonic()
    server = HostileServer(drip_interval=1.0, max_seconds=120,
                           bomb_size=args.bomb_mb * 1024 * 1024)
    bomb = len(server.bomb)
    print(f"gzip bomb: {args.bomb_mb} MB of zeros in {bomb / 1e6:.2f} MB of gzip "
          f"(made in {time.monotonic() - made:.1f} s)")
    cases = [
        ("small calendar (baseline)", "/ok.ics"),
        ("drip, 1 byte/s", "/drip"),
        ("endless body", "/endless"),
        ("endless 503 body (retried)", "/endless-503"),
        ("Content-Length 10 GB", "/huge-declared"),
        ("gzip bomb", "/bomb"),
        ("redirect loop", "/loop"),
        ("redirect to file://", "/to-file"),
        ("calendar path /dev/zero", None),
    ]
    print(f"{'case':30} {'time s':>7} {'RSS before MB':>14} {'peak RSS MB':>12}  result")
    with server:
        for label, path in cases:
            url = server.url(path) if path else "/dev/zero"
            proc = subprocess.run([sys.executable, "-c", CHILD, url, str(args.deadline)],
                                  capture_output=True, text=True, cwd=ROOT, timeout=600)
            if proc.returncode != 0:
                print(f"{label:30} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            result = row["error"] or f"ok, {row['events']} event(s)"
            print(f"{label:30} {row['seconds']:7.2f} {row['before_mb']:14.1f} "
                  f"{row['peak_mb']:12.1f}  {result}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(server process peak RSS: {own:.0f} MB)")


if __name__ == "__main__":
    main()
