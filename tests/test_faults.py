"""Fault injection: the real service (``homeboard run``) against real redis-servers.

Each test runs the service as a subprocess with the mock display, a seconds-long
interval, a local fake Open-Meteo and an ICS file, then breaks something the way
life does (Redis late or restarted, a slow or dead source, a power cut mid-refresh)
and checks what the household would notice: pushes in the mock's log, and
``homeboard status``. Every test also watches the broker queue in Redis: no message
may ever carry an eta, and every one must expire.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from boardkit import (
    TZ,
    ConfiguredRedis,
    FakeOpenMeteo,
    QueueWatcher,
    ServiceProcess,
    clean_environment,
    parse_time,
    pushes,
    wait_for,
    write_config,
    write_ics,
)
from conftest import RedisServer, free_port

from homeboard.config import load_config
from homeboard.store import Store

REPO = Path(__file__).resolve().parent.parent
HOMEBOARD = [sys.executable, "-m", "homeboard"]


def homeboard_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``homeboard ARGS --config CONFIG`` as a real process, its output captured."""
    return subprocess.run(
        [*HOMEBOARD, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_environment(),
    )


class Rig:
    """One board under test: Redis, fake weather, ICS, config, the service, a queue watcher."""

    def __init__(self, tmp: Path, redis: RedisServer, weather: FakeOpenMeteo) -> None:
        self.tmp = tmp
        self.redis = redis
        self.weather = weather
        self.out = tmp / "frames"
        self.ics = write_ics(tmp / "family.ics")
        self.config_path = tmp / "config.yaml"
        self.services: list[ServiceProcess] = []
        self.watcher = QueueWatcher(redis.port).start()
        self._client: Any = None
        self.configure()

    def configure(self, **options: Any) -> Path:
        """(Re)write the config; options as ``boardkit.write_config``."""
        options.setdefault("ics_url", self.ics.as_uri())
        options.setdefault("interval", "2s")
        return write_config(
            self.config_path,
            redis_url=self.redis.url,
            weather_url=self.weather.url,
            output_dir=self.out,
            **options,
        )

    def start_service(self) -> ServiceProcess:
        """Start ``homeboard run`` (another one after a kill)."""
        service = ServiceProcess(
            self.config_path, self.tmp / f"service-{len(self.services)}.log"
        ).start()
        self.services.append(service)
        return service

    @property
    def store(self) -> Store:
        """The board's keys, read as ``homeboard status`` does."""
        if self._client is None:
            self._client = self.redis.client()
        return Store(self._client, "test")

    def counters(self) -> dict[str, int]:
        """The status counters (zeros while Redis is away)."""
        try:
            return self.store.counters()
        except Exception:  # noqa: BLE001 - Redis down in the middle of a test
            return dict.fromkeys(
                ("started", "completed", "skipped_locked", "expired", "pushes", "unchanged"), 0
            )

    def recent(self) -> list[dict[str, Any]]:
        """The last refreshes, oldest first."""
        try:
            return list(reversed(self.store.recent()))
        except Exception:  # noqa: BLE001
            return []

    def running(self) -> bool:
        """True while a refresh is in flight."""
        try:
            return self.store.running() is not None
        except Exception:  # noqa: BLE001
            return False

    def status_json(self) -> dict[str, Any]:
        """``homeboard status --json``, run as a user would."""
        proc = homeboard_cli(self.config_path, "status", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def logs(self) -> str:
        """All service logs so far."""
        return "\n".join(s.log() for s in self.services)

    def close(self) -> None:
        """Stop everything this rig started."""
        for service in self.services:
            service.stop()
        self.watcher.stop()
        if self._client is not None:
            self._client.close()


@pytest.fixture
def rig(tmp_path: Path, redis_server: RedisServer, fake_weather: FakeOpenMeteo) -> Iterator[Rig]:
    board = Rig(tmp_path, redis_server, fake_weather)
    try:
        yield board
    finally:
        board.close()
    # No eta or countdown, and an expiry: checked on every message seen in the broker.
    for headers in board.watcher.messages.values():
        assert headers.get("eta") is None, headers
        assert headers.get("expires"), headers
        assert headers.get("retries") == 0, headers


def started_between(
    recent: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    *,
    outcomes: tuple[str, ...] = ("pushed", "unchanged", "failed"),
) -> int:
    """How many refreshes (not skips) started in [start, end)."""
    return sum(
        1 for r in recent if r["outcome"] in outcomes and start <= parse_time(r["started_at"]) < end
    )


# --------------------------------------------------------------------------- 1, 2


def test_1_service_started_before_redis_runs_once_redis_arrives(
    tmp_path: Path,
    redis_factory: Any,
    fake_weather: FakeOpenMeteo,
) -> None:
    redis = redis_factory("late")  # a port, no server yet
    board = Rig(tmp_path, redis, fake_weather)
    try:
        service = board.start_service()
        time.sleep(5)
        assert service.alive(), service.log()
        redis.start()
        wait_for(
            lambda: board.counters()["completed"] >= 3,
            25,
            what="three refreshes after Redis arrived",
        )
        assert service.alive()
        assert len(pushes(board.out)) >= 1
        # ...and they keep running.
        done = board.counters()["completed"]
        wait_for(lambda: board.counters()["completed"] >= done + 2, 10, what="more refreshes")
    finally:
        board.close()


def test_2_redis_killed_mid_refresh_and_restarted_the_service_resumes(rig: Rig) -> None:
    rig.configure(interval="2s")
    rig.weather.delay = 1.0  # every refresh takes a second: Redis dies under one
    service = rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 2, 20, what="two refreshes")
    wait_for(rig.running, 10, what="a refresh in flight", interval=0.02)
    rig.redis.kill()
    time.sleep(2)
    rig.redis.start()  # same port, empty (no persistence in this test)
    back = datetime.now(ZoneInfo(TZ))
    first = wait_for(
        lambda: next((r for r in rig.recent() if r["outcome"] in ("pushed", "unchanged")), None),
        20,
        what="a refresh after Redis came back",
    )
    # Within one interval (2 s) of the worker taking messages again: it notices a wedged
    # consumer after ConsumerWatch.NUDGE_AFTER (3 s) and reconnects at once; plus margin.
    assert parse_time(first["started_at"]) - back < timedelta(seconds=2 + 3 + 1 + 2)
    assert "reconnecting it" in service.log() or "Connected to" in service.log()
    assert service.alive(), service.log()
    assert len(rig.services) == 1  # the same process: it never exited
    wait_for(lambda: rig.counters()["completed"] >= 3, 15, what="refreshes keep running")
    # The outage is told in a few lines, not a stack trace per missed tick.
    assert "Message Error" not in service.log()
    assert service.log().count("could not send the refresh") <= 1


# --------------------------------------------------------------------------- 3, 12


def test_3_a_source_slower_than_three_intervals_causes_no_burst(rig: Rig) -> None:
    rig.configure(interval="2s", refresh_timeout="20s", lock_timeout="30s")
    rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 2, 20, what="two refreshes")
    before = rig.counters()
    rig.weather.delay = 7.0  # more than three 2-second intervals
    wait_for(rig.running, 10, what="the slow refresh to start", interval=0.02)
    time.sleep(0.5)
    rig.weather.delay = 0.0  # only that one refresh is slow
    slow = wait_for(
        lambda: next((r for r in rig.recent() if r["fetch_s"] >= 6.5), None),
        20,
        what="the slow refresh",
    )
    slow_end = parse_time(slow["ended_at"])
    time.sleep(6.5)  # three intervals after it
    recent = rig.recent()
    window = started_between(recent, slow_end, slow_end + timedelta(seconds=6))
    # Three regular ticks fit in six seconds; the backlog adds at most one.
    assert window <= 3 + 1, recent
    after = rig.counters()
    assert after["expired"] - before["expired"] >= 2, after
    assert rig.watcher.max_depth <= 5
    # Never two at once: each refresh ended before the next one started.
    runs = [r for r in recent if r["outcome"] != "skipped-locked"]
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert parse_time(earlier["ended_at"]) <= parse_time(later["started_at"])


def test_12_no_message_in_the_broker_ever_carries_an_eta(rig: Rig) -> None:
    rig.configure(interval="1s")
    rig.weather.delay = 3.0  # messages wait in the queue while the worker is busy
    rig.start_service()
    wait_for(lambda: len(rig.watcher.messages) >= 3, 20, what="messages waiting in the queue")
    seen = list(rig.watcher.messages.values())
    assert all(h["task"] == "homeboard.refresh" for h in seen)
    assert all(h["eta"] is None and h["expires"] for h in seen)
    assert all(h["retries"] == 0 for h in seen)
    # The queue and its bookkeeping live under the board's prefix only.
    keys = {k.decode() for k in rig.store.client.keys("*")}
    assert keys and all(k.startswith("homeboard:test:") for k in keys), keys


# --------------------------------------------------------------------------- 4, 5


def test_4_sigkill_mid_refresh_leaves_no_stuck_lock(rig: Rig) -> None:
    rig.configure(interval="2s", refresh_timeout="4s", lock_timeout="6s")
    rig.weather.delay = 1.5
    first = rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 1, 20, what="a first refresh")
    wait_for(rig.running, 10, what="a refresh in flight", interval=0.02)
    first.kill()
    killed = datetime.now(ZoneInfo(TZ))
    assert rig.store.lock_holder_ttl() is not None  # the dead refresh's lock is still there
    done = rig.counters()["completed"]
    second = rig.start_service()
    wait_for(lambda: rig.counters()["completed"] > done, 20, what="a refresh after the restart")
    latest = [r for r in rig.recent() if r["outcome"] in ("pushed", "unchanged")][-1]
    # Within the lock timeout (6 s), plus one interval, plus the refresh itself.
    assert parse_time(latest["started_at"]) - killed < timedelta(seconds=6 + 2 + 1)
    assert rig.counters()["skipped_locked"] >= 1  # the stale lock was respected, not broken
    assert second.alive()


def test_5_manual_refresh_during_a_service_refresh_only_one_pushes(rig: Rig) -> None:
    rig.configure(interval="1h")  # only the start-up refresh runs
    rig.weather.delay = 3.0
    rig.start_service()
    wait_for(rig.running, 20, what="the start-up refresh", interval=0.02)
    started = time.monotonic()
    proc = homeboard_cli(rig.config_path, "refresh", "--force")
    assert time.monotonic() - started < 2.5  # it did not wait for the lock
    assert proc.returncode == 0, proc.stderr
    assert "already running" in proc.stdout
    wait_for(lambda: rig.counters()["completed"] >= 1, 20, what="the service refresh")
    assert len(pushes(rig.out)) == 1
    outcomes = sorted(r["outcome"] for r in rig.recent())
    assert outcomes == ["pushed", "skipped-locked"]


# --------------------------------------------------------------------------- 6, 7


def test_6_every_source_failing_pushes_last_good_data_marked_stale(rig: Rig) -> None:
    import drivers
    from homeboard.model import compose
    from homeboard.render import render

    rig.configure(interval="1s", max_age="3s")
    rig.start_service()
    wait_for(lambda: len(pushes(rig.out)) >= 1, 20, what="a first push")
    rig.weather.fail = True
    rig.ics.unlink()
    status = wait_for(
        lambda: (
            (doc := rig.status_json())
            and all(s["status"] == "stale" for s in doc["sources"].values())
            and doc
        ),
        20,
        what="every source stale",
    )
    assert "test says no" in status["sources"]["weather"]["last_error"]
    wait_for(lambda: len(pushes(rig.out)) >= 2, 10, what="the stale frame pushed")
    time.sleep(1.5)  # later refreshes: unchanged, so this is the frame on the panel
    config = load_config(rig.config_path)
    snapshots = rig.store.load_snapshots()
    state = compose(config, snapshots, datetime.now(config.tz))
    assert state.current is not None and state.current.temperature == 11.0  # last good data
    assert {s.status for s in state.sources} == {"stale"}
    panel = drivers.PANELS[config.display.panel]
    expected = drivers.pack(render(state, panel), panel)
    assert pushes(rig.out)[-1]["sha256"] == hashlib.sha256(expected).hexdigest()


def test_7_empty_redis_and_no_network_show_unavailable(rig: Rig) -> None:
    rig.weather.down()
    rig.configure(interval="2s", ics_url=f"http://127.0.0.1:{rig.weather.port}/family.ics")
    service = rig.start_service()
    wait_for(lambda: len(pushes(rig.out)) >= 1, 20, what="a first frame")
    status = rig.status_json()
    assert {s["status"] for s in status["sources"].values()} == {"unavailable"}
    assert status["last_push"]["sha256"] == pushes(rig.out)[0]["sha256"]
    wait_for(lambda: rig.counters()["completed"] >= 2, 15, what="refreshes keep running")
    assert service.alive()
    assert "Traceback" not in service.log()


# --------------------------------------------------------------------------- 8, 9


def test_8_cached_data_survives_a_redis_restart_with_the_shipped_config(
    tmp_path: Path,
    fake_weather: FakeOpenMeteo,
) -> None:
    redis = ConfiguredRedis(
        REPO / "systemd" / "redis-homeboard.conf", tmp_path / "redis", free_port()
    ).start()
    try:
        ics = write_ics(tmp_path / "family.ics")
        config = write_config(
            tmp_path / "config.yaml",
            redis_url=redis.url,
            weather_url=fake_weather.url,
            output_dir=tmp_path / "frames",
            ics_url=ics.as_uri(),
            max_age="1s",
        )

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return homeboard_cli(config, *args)

        assert cli("refresh").returncode == 0
        before = json.loads(cli("status", "--json").stdout)
        redis.stop()
        redis.start()  # a reboot of the Pi, as far as Redis is concerned
        after = json.loads(cli("status", "--json").stdout)
        for name, source in before["sources"].items():
            assert source["fetched_at"] is not None
            assert after["sources"][name]["fetched_at"] == source["fetched_at"]
        assert after["last_push"] == before["last_push"]
        # And with no network, the board shows yesterday's data marked stale.
        fake_weather.down()
        ics.unlink()
        time.sleep(1.1)
        assert cli("refresh").returncode == 0
        final = json.loads(cli("status", "--json").stdout)
        assert {s["status"] for s in final["sources"].values()} == {"stale"}
    finally:
        redis.stop()


def test_9_unchanged_data_refreshes_without_pushing(rig: Rig) -> None:
    rig.configure(interval="1s")
    rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 8, 30, what="eight refreshes")
    assert len(pushes(rig.out)) == 1
    counters = rig.counters()
    assert counters["pushes"] == 1 and counters["unchanged"] >= 7


# --------------------------------------------------------------------------- 10, 11


def test_10_a_bad_config_exits_2_at_once_with_file_line_field(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("board: hall\nschedule:\n  interval: 15 minutes\n", encoding="utf-8")
    started = time.monotonic()
    proc = homeboard_cli(config, "run")
    assert proc.returncode == 2
    assert time.monotonic() - started < 10
    assert f"{config}:3: schedule.interval:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_11_quiet_hours_use_the_slower_cadence(rig: Rig) -> None:
    now = datetime.now(ZoneInfo(TZ))
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    rig.configure(
        interval="1s",
        schedule_extra=(
            f"  quiet_hours:\n    start: '{start}'\n    end: '{end}'\n    interval: 3s\n"
        ),
    )
    rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 1, 20, what="the start-up refresh")
    began = datetime.now(ZoneInfo(TZ))
    time.sleep(9.5)
    scheduled = [
        r
        for r in rig.recent()
        if r["trigger"] == "schedule" and parse_time(r["started_at"]) >= began
    ]
    # Every 3 s, not every second: three in 9.5 s (nine by day).
    assert 2 <= len(scheduled) <= 4, scheduled
    status = rig.status_json()
    wait = parse_time(status["next_run"]) - parse_time(status["now"])
    assert timedelta(0) <= wait <= timedelta(seconds=3.5)


def test_status_and_refresh_without_a_service(rig: Rig) -> None:
    proc = homeboard_cli(rig.config_path, "refresh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pushed")
    text = homeboard_cli(rig.config_path, "status")
    assert text.returncode == 0
    assert "last refresh: pushed" in text.stdout
    assert "next run: unknown (is the service running?)" in text.stdout
    assert "source weather: fresh" in text.stdout


def test_sigterm_stops_the_service_cleanly(rig: Rig) -> None:
    service = rig.start_service()
    wait_for(lambda: rig.counters()["completed"] >= 1, 20, what="a refresh")
    assert service.stop() == 0
    assert os.path.exists(rig.out / "latest.png")


def test_display_clear_and_test_then_the_board_comes_back(rig: Rig) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return homeboard_cli(rig.config_path, *args)

    assert cli("refresh").returncode == 0
    board_frame = pushes(rig.out)[-1]["sha256"]
    for command in ("clear", "test"):
        proc = cli("display", command)
        assert proc.returncode == 0, proc.stderr
        assert pushes(rig.out)[-1]["sha256"] != board_frame
    proc = cli("refresh")
    assert proc.stdout.startswith("pushed")  # not "unchanged": the panel showed something else
    assert pushes(rig.out)[-1]["sha256"] == board_frame


def test_a_refresh_past_its_timeout_is_stopped_inside_the_worker(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The solo pool ignores Celery's time limits; the refresh bounds itself. A slow source
    # cannot overrun any more (the fetch has a budget within refresh_timeout): a push
    # that hangs can. The service's Python makes the push hang (sitecustomize).
    rig.configure(interval="1h", refresh_timeout="2s", lock_timeout="5s")
    stall = tmp_path / "stall"
    stall.mkdir()
    (stall / "sitecustomize.py").write_text(
        "import time\nimport homeboard.service as s\n"
        "s.show = lambda app, packed: time.sleep(10) or ''\n")
    monkeypatch.setenv("PYTHONPATH", str(stall))
    service = rig.start_service()
    monkeypatch.delenv("PYTHONPATH")
    failed = wait_for(lambda: next((r for r in rig.recent() if r["outcome"] == "failed"), None),
                      15, what="the start-up refresh to be stopped")
    assert "stopped after 2 s" in failed["error"]
    assert parse_time(failed["ended_at"]) - parse_time(failed["started_at"]) < timedelta(seconds=3)
    assert rig.store.lock_holder_ttl() is None  # released at once, not left to expire
    assert service.alive()
    proc = homeboard_cli(rig.config_path, "refresh")
    assert proc.returncode == 0 and proc.stdout.startswith("pushed"), proc.stderr


def test_redis_refusing_writes_the_service_keeps_pushing_frames_and_says_why(rig: Rig) -> None:
    from boardkit import accept_writes, refuse_writes

    rig.configure(interval="2s")
    service = rig.start_service()
    wait_for(lambda: len(pushes(rig.out)) >= 1, 20, what="a first push")
    client = rig.redis.client()
    try:
        refuse_writes(client, "misconf", rig.redis.workdir)  # a full disk
        rig.weather.temperature = 25.0  # new data: the household must see it
        wait_for(lambda: len(pushes(rig.out)) >= 2, 20, what="a push while Redis refuses writes")
        status = wait_for(
            lambda: (
                (doc := rig.status_json())
                and doc["last_push"]["sha256"] == pushes(rig.out)[-1]["sha256"]
                and doc
            ),
            10,
            what="status to show the push",
        )
        assert status["redis"]["writable"] is False
        assert any(
            f.startswith("Redis refuses writes: MISCONF") and "disk" in f for f in status["faults"]
        ), status["faults"]
        assert "Redis refuses writes: MISCONF" in service.log()
        assert "is redis-server running" not in service.log()
        accept_writes(client)  # space freed: Celery's own refreshes come back
        done = rig.counters()["completed"]
        wait_for(
            lambda: rig.counters()["completed"] >= done + 2,
            30,
            what="scheduled refreshes after Redis takes writes again",
        )
        assert rig.status_json()["faults"] == []
        assert service.alive()
    finally:
        accept_writes(client)
        client.close()


def test_a_deferred_frame_reaches_the_panel_when_min_interval_allows(rig: Rig) -> None:
    rig.configure(interval="1h", display_extra="  min_interval: 4s\n")  # no tick will help
    rig.start_service()
    wait_for(lambda: len(pushes(rig.out)) >= 1, 20, what="the start-up push")
    first = parse_time(pushes(rig.out)[0]["time"])
    rig.weather.temperature = 25.0
    proc = homeboard_cli(rig.config_path, "refresh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("deferred"), proc.stdout
    deferred = wait_for(
        lambda: [r for r in rig.recent() if r["trigger"] == "deferred"],
        10,
        what="the deferred refresh",
    )
    assert [r["outcome"] for r in deferred] == ["pushed"]
    second = parse_time(pushes(rig.out)[1]["time"])
    # As soon as min_interval allows (beat looks every second), not at the next tick (1 h).
    assert timedelta(seconds=4) <= second - first < timedelta(seconds=4 + 3)
    assert rig.status_json()["deferred_until"] is None
