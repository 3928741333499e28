"""Memory, latency and weight of the household page (``homeboard web``).

Run: ``.venv/bin/python benchmarks/bench_web.py [--loads 1000] [--seconds 30] [--clients 10]
[--language he]``
(needs redis-server; exit status 1 if a target is missed). Everything is local: a
redis-server on a free port, a fake Open-Meteo, an ICS file, the mock display; one real
refresh fills Redis, then ``homeboard web`` runs as its own process on loopback.

- memory: PSS of the ``homeboard web`` process (``/proc/PID/smaps_rollup``) after N page
  loads (each ``/`` plus the frame revalidated, as a browser's reload does), and again
  after a 'Refresh now' (which loads Celery to send the task). Target: <= 40 MB.
- latency: C client threads, each with its own keep-alive connection, ask for ``/``,
  ``/frame.png`` (the full PNG, no revalidation) and ``/status.json`` in turn for S
  seconds; median and p99 per path. Target: p99 well under a second.
- weight: bytes of the page (HTML + style sheet) without the frame, and of the frame.
  Target: < 100 KB without the frame.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from boardkit import FakeOpenMeteo, write_config, write_ics  # noqa: E402
from conftest import RedisServer, free_port  # noqa: E402
from webkit import PASSWORD, WebProcess  # noqa: E402

PSS_TARGET_MB = 40.0
P99_TARGET_S = 0.5
WEIGHT_TARGET = 100_000
PATHS = ("/", "/frame.png", "/status.json")


def pss_mb(pid: int, field: str = "Pss") -> float:
    """PSS (or another smaps_rollup field) of one process, in MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def login(url: str) -> requests.Session:
    """A logged-in session."""
    session = requests.Session()
    resp = session.post(url + "/login", data={"password": PASSWORD}, timeout=10)
    resp.raise_for_status()
    return session


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def hammer(url: str, clients: int, seconds: float) -> dict[str, list[float]]:
    """``clients`` threads ask for the three paths in turn for ``seconds``."""
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        session = login(url)
        mine: dict[str, list[float]] = {path: [] for path in PATHS}
        i = offset
        while time.monotonic() < stop:
            path = PATHS[i % len(PATHS)]
            i += 1
            start = time.perf_counter()
            resp = session.get(url + path, timeout=10)
            elapsed = time.perf_counter() - start
            if resp.status_code != 200:
                errors.append(f"{path}: {resp.status_code}")
            mine[path].append(elapsed)
        with lock:
            for path in PATHS:
                times[path].extend(mine[path])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  {len(errors)} errors, e.g. {errors[:3]}")
    return times


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--language", default="en", help="the board's language (a CLDR locale)")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2

    from homeboard.app import build_app
    from homeboard.config import load_config
    from homeboard.service import refresh

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    redis = RedisServer(work / "redis").start()
    weather = FakeOpenMeteo().start()
    web: WebProcess | None = None
    ok = True
    try:
        port = free_port()
        config_path = write_config(
            work / "config.yaml",
            redis_url=redis.url,
            weather_url=weather.url,
            output_dir=work / "frames",
            board="bench",
            interval="15m",
            ics_url=str(write_ics(work / "family.ics")),
        )
        secret = work / "web-password"
        secret.write_text(PASSWORD + "\n")
        with config_path.open("a") as handle:
            handle.write(f"web:\n  listen: 127.0.0.1:{port}\n  password_file: {secret}\n")
            handle.write(f"language: {args.language}\n")
        app = build_app(load_config(config_path))
        print(f"one refresh to fill Redis: {refresh(app, trigger='manual').outcome}")
        app.close()

        web = WebProcess(config_path, work / "web.log", port).start()
        assert web.proc is not None
        pid = web.proc.pid
        url = web.url
        session = login(url)
        print(f"homeboard web (pid {pid}) at start: PSS {pss_mb(pid):.1f} MB")

        etag = ""
        for n in range(args.loads):
            html = session.get(url + "/", timeout=10)
            frame = session.get(url + "/frame.png", headers={"If-None-Match": etag}, timeout=10)
            etag = frame.headers.get("ETag", etag)
            if html.status_code != 200 or frame.status_code not in (200, 304):
                print(f"load {n}: {html.status_code} {frame.status_code}")
                ok = False
                break
        after_loads = pss_mb(pid)
        print(
            f"after {args.loads} page loads: PSS {after_loads:.1f} MB "
            f"(anonymous {pss_mb(pid, 'Pss_Anon'):.1f} MB)"
        )
        token = re.search(r'name="csrf_token" value="([^"]+)"', html.text)
        assert token is not None
        session.post(url + "/refresh", data={"csrf_token": token.group(1)}, timeout=10)
        for _ in range(50):
            session.get(url + "/", timeout=10)
        after_refresh = pss_mb(pid)
        print(f"after a 'Refresh now' and 50 more loads: PSS {after_refresh:.1f} MB")
        if max(after_loads, after_refresh) > PSS_TARGET_MB:
            print(f"  MISSED: target <= {PSS_TARGET_MB:.0f} MB")
            ok = False

        css = session.get(url + "/static/page.css", timeout=10).content
        page = len(html.content) + len(css)
        frame_bytes = len(session.get(url + "/frame.png", timeout=10).content)
        print(
            f"page weight: {page} bytes without the frame (HTML {len(html.content)}, "
            f"CSS {len(css)}); frame PNG {frame_bytes} bytes"
        )
        if page >= WEIGHT_TARGET:
            print(f"  MISSED: target < {WEIGHT_TARGET} bytes")
            ok = False

        redis.client().delete("homeboard:bench:refresh")  # no service here to take it
        print(f"{args.clients} clients for {args.seconds:g} s on loopback:")
        times = hammer(url, args.clients, args.seconds)
        for path in PATHS:
            values = times[path]
            med, p99 = statistics.median(values), percentile(values, 0.99)
            print(
                f"  {path:<13} {len(values):6d} requests  median {med * 1000:7.1f} ms  "
                f"p99 {p99 * 1000:7.1f} ms"
            )
            if p99 > P99_TARGET_S:
                print(f"  MISSED: p99 target <= {P99_TARGET_S * 1000:.0f} ms")
                ok = False
        print(f"after the load: PSS {pss_mb(pid):.1f} MB")
    finally:
        if web is not None:
            web.stop()
        weather.down()
        redis.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
