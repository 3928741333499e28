"""Memory and start-up of the service (``homeboard run``), and Redis memory of one board.

Run: ``.venv/bin/python benchmarks/bench_service.py [--refreshes 100]`` (needs redis-server;
exit status 1 if a target is missed). Everything is local: a redis-server on a free
port, a fake Open-Meteo, an ICS file, the mock display, a 1 s interval.

- start: from starting ``homeboard run`` (Redis up) to the first push in the mock's log.
- memory: PSS summed over every process of the service (from /proc/PID/smaps_rollup)
  after refresh 20 and after refresh N. Targets: <= 80 MB at N = 100, growth <= 2 MB.
  The weather changes before refresh 10 and at refresh 60, so both the push path and
  the unchanged path run before and inside the measured window.
- Redis: bytes used by the board's keys (MEMORY USAGE over ``homeboard:bench:*``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from boardkit import (  # noqa: E402 - the test helpers live beside the tests
    FakeOpenMeteo,
    ServiceProcess,
    pushes,
    wait_for,
    write_config,
    write_ics,
)
from conftest import RedisServer  # noqa: E402

PSS_TARGET_MB = 80.0
GROWTH_TARGET_MB = 2.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            todo.extend(int(c) for c in children)
    return out


def pss_mb(pid: int, field: str = "Pss") -> tuple[float, int]:
    """PSS (or another smaps_rollup field) in MB summed over the process tree, and the
    number of processes."""
    total_kb = 0
    pids = process_tree(pid)
    for member in pids:
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                total_kb += int(line.split()[1])
    return total_kb / 1024, len(pids)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    redis = RedisServer(work / "redis").start()
    weather = FakeOpenMeteo().start()  # its data change only when the bench says so
    service: ServiceProcess | None = None
    ok = True
    try:
        out = work / "frames"
        ics = write_ics(work / "family.ics")
        config = write_config(work / "config.yaml", redis_url=redis.url, weather_url=weather.url,
                              output_dir=out, board="bench", interval="1s", ics_url=ics.as_uri())
        client = redis.client()

        def completed() -> int:
            return int(client.hget("homeboard:bench:counters", "completed") or 0)

        started = time.monotonic()
        service = ServiceProcess(config, work / "service.log").start()
        wait_for(lambda: pushes(out), 60, what="the first push", interval=0.01)
        first_push = time.monotonic() - started
        print(f"start to first push: {first_push:.2f} s (Redis up, mock display)")

        wait_for(lambda: completed() >= 8, 120, what="8 refreshes", interval=0.05)
        weather.temperature = 12.0
        wait_for(lambda: completed() >= 20, 120, what="20 refreshes", interval=0.05)
        at20, procs = pss_mb(service.pid)
        print(f"PSS after refresh 20: {at20:.1f} MB over {procs} process(es)")
        samples = [(20, at20)]
        anon = [(20, pss_mb(service.pid, "Pss_Anon")[0])]
        for mark in range(40, args.refreshes + 1, 20):
            if mark == 60:
                weather.temperature = 13.0
            wait_for(lambda m=mark: completed() >= m, 30 * mark, what=f"{mark} refreshes",
                     interval=0.05)
            samples.append((mark, pss_mb(service.pid)[0]))
            anon.append((mark, pss_mb(service.pid, "Pss_Anon")[0]))
        print("PSS by refresh:", ", ".join(f"{n}: {mb:.1f}" for n, mb in samples))
        print("of which anonymous:", ", ".join(f"{n}: {mb:.1f}" for n, mb in anon))
        at_n, procs = pss_mb(service.pid)
        growth = at_n - at20
        print(f"PSS after refresh {args.refreshes}: {at_n:.1f} MB over {procs} process(es) "
              f"(target <= {PSS_TARGET_MB:g} MB); growth from 20: {growth:+.2f} MB "
              f"(target <= {GROWTH_TARGET_MB:g} MB)")
        if args.refreshes >= 100:
            ok = at_n <= PSS_TARGET_MB and growth <= GROWTH_TARGET_MB

        keys = client.keys("homeboard:bench:*")
        used = sum(int(client.memory_usage(k) or 0) for k in keys)
        print(f"Redis: {len(keys)} keys of the board use {used / 1024:.1f} KiB "
              f"(server total {int(client.info('memory')['used_memory']) / 1024 / 1024:.2f} MiB)")
        counters = client.hgetall("homeboard:bench:counters")
        print("counters:", {k.decode(): int(v) for k, v in counters.items()})
        print(f"pushes: {len(pushes(out))}")
        client.close()
    finally:
        if service is not None:
            service.stop()
        weather.down()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.SubprocessError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
