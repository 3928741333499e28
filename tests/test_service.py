"""One refresh cycle, called directly (not through Celery): lock, fetch, cache, push."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from boardkit import (
    TZ,
    FakeOpenMeteo,
    accept_writes,
    broker_messages,
    pushes,
    refuse_writes,
    write_config,
    write_ics,
)

from homeboard import service
from homeboard.app import App, RedisUnavailable, build_app
from homeboard.config import load_config
from homeboard.service import RefreshTimeout, refresh, show_on_panel, time_limit

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Board:
    app: App
    weather: FakeOpenMeteo
    out: Path
    tmp: Path


def make_board(tmp_path: Path, redis_url: str, weather: FakeOpenMeteo, **options: str) -> Board:
    out = tmp_path / "frames"
    ics = write_ics(tmp_path / "family.ics")
    options.setdefault("ics_url", ics.as_uri())
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            redis_url=redis_url,
            weather_url=weather.url,
            output_dir=out,
            **options,
        )
    )
    return Board(build_app(config), weather, out, tmp_path)


@pytest.fixture
def board(tmp_path: Path, redis_server, fake_weather: FakeOpenMeteo) -> Board:  # type: ignore[no-untyped-def]
    made = make_board(tmp_path, redis_server.url, fake_weather)
    yield made  # type: ignore[misc]
    made.app.close()


def test_a_refresh_pushes_then_leaves_an_unchanged_panel_alone(board: Board) -> None:
    first = refresh(board.app)
    assert first.outcome == "pushed"
    assert (board.out / "latest.png").exists()
    assert [p["sha256"] for p in pushes(board.out)] == [first.record.sha256]
    second = refresh(board.app)
    assert second.outcome == "unchanged"
    assert len(pushes(board.out)) == 1  # no flash for nothing
    board.weather.temperature = 25.0
    third = refresh(board.app)
    assert third.outcome == "pushed" and len(pushes(board.out)) == 2
    counters = board.app.store().counters()
    assert counters["started"] == 3 and counters["completed"] == 3
    assert counters["pushes"] == 2 and counters["unchanged"] == 1


def test_force_pushes_an_unchanged_frame(board: Board) -> None:
    refresh(board.app)
    assert refresh(board.app, force=True).outcome == "pushed"
    assert len(pushes(board.out)) == 2


def test_another_display_on_the_same_board_gets_the_frame(board: Board) -> None:
    # The mock ran first; then the board is pointed at another display (here a second
    # mock folder, as a panel would be): that display has never shown the frame.
    assert refresh(board.app).outcome == "pushed"
    other_out = board.tmp / "panel"
    config = dataclasses.replace(
        board.app.config,
        display=dataclasses.replace(board.app.config.display, output_dir=other_out),
    )
    other = build_app(config)
    try:
        assert refresh(other).outcome == "pushed"
        assert len(pushes(other_out)) == 1
        assert refresh(other).outcome == "unchanged"
    finally:
        other.close()


def test_last_good_data_is_cached_with_its_fetch_time(board: Board) -> None:
    refresh(board.app)
    snaps = board.app.store().load_snapshots()
    assert set(snaps) == {"weather", "calendar:Family", "special"}
    assert snaps["weather"].data.current.temperature == 11.0  # type: ignore[union-attr]
    assert snaps["weather"].fetched_at is not None


def test_a_held_lock_means_skip_at_once_and_count_it(board: Board) -> None:
    other = board.app.store().lock(board.app.config.schedule.lock_timeout)
    assert other.acquire(blocking=False)
    started = time.monotonic()
    result = refresh(board.app)
    assert time.monotonic() - started < 1.0  # never waits for the lock
    assert result.outcome == "skipped-locked"
    assert pushes(board.out) == []
    store = board.app.store()
    assert store.counters()["skipped_locked"] == 1
    assert store.recent()[0]["outcome"] == "skipped-locked"
    other.release()
    assert refresh(board.app).outcome == "pushed"


def test_an_overrunning_refresh_is_stopped_and_its_lock_released(
    tmp_path: Path, redis_server, fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    board = make_board(tmp_path, redis_server.url, fake_weather, refresh_timeout="1s",
                       lock_timeout="10s")
    # A slow source no longer overruns (each has a deadline within the refresh's budget):
    # a push that hangs does.
    shown = service.show
    monkeypatch.setattr(service, "show", lambda app, packed: time.sleep(8) or "")
    started = time.monotonic()
    result = refresh(board.app)
    took = time.monotonic() - started
    assert result.outcome == "failed"
    assert "stopped after 1 s" in (result.record.error or "")
    assert took < 3.0
    assert board.app.store().lock_holder_ttl() is None  # released, not left to expire
    assert board.app.store().running() is None
    monkeypatch.setattr(service, "show", shown)
    assert refresh(board.app).outcome == "pushed"


def test_every_source_failing_still_pushes_the_last_good_data_marked_stale(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
) -> None:
    board = make_board(tmp_path, redis_server.url, fake_weather, max_age="2s")
    assert refresh(board.app).outcome == "pushed"
    fake_weather.fail = True
    (tmp_path / "family.ics").unlink()
    time.sleep(2.2)  # past max_age: the data are now old
    result = refresh(board.app)
    assert result.outcome == "pushed"  # the stale marks changed the frame
    assert result.state is not None
    status = {s.name: s.status for s in result.state.sources}
    assert status == {"weather": "stale", "calendar:Family": "stale"}
    assert result.state.current is not None and result.state.current.temperature == 11.0
    errors = {s.name: s.last_error for s in result.state.sources}
    assert "test says no" in (errors["weather"] or "")
    assert len(pushes(board.out)) == 2


def test_no_network_and_an_empty_cache_push_an_unavailable_frame(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
) -> None:
    fake_weather.down()
    board = make_board(
        tmp_path,
        redis_server.url,
        fake_weather,
        ics_url=f"http://127.0.0.1:{fake_weather.port}/family.ics",
    )
    result = refresh(board.app)
    assert result.outcome == "pushed"
    assert result.state is not None
    assert {s.status for s in result.state.sources} == {"unavailable"}
    assert (board.out / "latest.png").exists()


def test_a_failed_push_is_recorded_and_retried_at_the_next_refresh(board: Board) -> None:
    board.out.parent.mkdir(parents=True, exist_ok=True)
    board.out.write_text("not a directory")  # the mock cannot write its frames
    result = refresh(board.app)
    assert result.outcome == "failed" and result.record.error
    assert board.app.store().last_push() is None
    board.out.unlink()
    assert refresh(board.app).outcome == "pushed"


def test_redis_down_is_one_clear_error(tmp_path: Path, fake_weather: FakeOpenMeteo) -> None:
    from conftest import free_port

    board = make_board(tmp_path, f"redis://:hunter2@127.0.0.1:{free_port()}/0", fake_weather)
    with pytest.raises(RedisUnavailable) as info:
        refresh(board.app)
    assert "is redis-server running?" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_one_info_line_per_refresh_with_outcome_and_durations(
    board: Board,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="homeboard.refresh")
    refresh(board.app)
    lines = [r.getMessage() for r in caplog.records if r.name == "homeboard.refresh"]
    assert len(lines) == 1
    assert lines[0].startswith("refresh pushed (schedule) in ")
    for part in ("fetch ", "render ", "push ", "weather fresh"):
        assert part in lines[0]


def redis_text(url: str) -> str:
    """Everything the board keeps in Redis, as one string (binary values such as the
    frame's PNG read as Latin-1, so that any ASCII secret in them still shows)."""
    import redis

    client = redis.Redis.from_url(url)
    parts: list[bytes] = []
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"string":
            parts.append(client.get(key) or b"")
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                parts += [field, value]
        elif kind == b"list":
            parts += client.lrange(key, 0, -1)
        parts.append(key)
    client.close()
    return "\n".join(part.decode("latin-1") for part in parts)


def test_secrets_stay_out_of_logs_and_status(
    tmp_path: Path, redis_server, fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture, httpserver,  # type: ignore[no-untyped-def]
) -> None:
    # A server that echoes what it was sent in its error, credentials included (seen in
    # the wild): the secret reaches the error text, the log line and the status, so
    # only redaction keeps it out.
    def echo(request):  # type: ignore[no-untyped-def]
        import base64

        from werkzeug import Response

        user = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        url = f"http://{user}@{request.host}{request.full_path}"
        return Response(f'{{"message": "no calendar at {url}"}}', status=404,
                        content_type="application/json")

    httpserver.expect_request("/private-0123456789abcdef/basic.ics").respond_with_handler(echo)
    fake_weather.down()
    secret_url = httpserver.url_for("/private-0123456789abcdef/basic.ics?token=s3cr3t-t0ken")
    secret_url = secret_url.replace("http://", "http://family:pa55word@")
    board = make_board(tmp_path, redis_server.url, fake_weather, ics_url=secret_url)
    caplog.set_level(logging.DEBUG)
    refresh(board.app)
    status = board.app.store().status(board.app.config, board.app.now())
    error = status["sources"]["Family"]["last_error"]
    assert error.startswith("Family: HTTP 404 not found: no calendar at")  # what was echoed
    stored = redis_text(redis_server.url)
    assert "Family: HTTP 404" in stored
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith("werkzeug"))  # the test server's own log
    assert "Family failed: HTTP 404" in logged
    for secret in ("pa55word", "s3cr3t-t0ken", "0123456789abcdef"):
        assert secret not in logged
        assert secret not in str(status)
        assert secret not in stored


def test_display_test_then_refresh_draws_the_board_again(board: Board) -> None:
    board_frame = refresh(board.app).record.sha256
    shown = show_on_panel(board.app, "test")
    assert shown.outcome == "pushed" and shown.record.sha256 != board_frame
    again = refresh(board.app)
    assert again.outcome == "pushed" and again.record.sha256 == board_frame
    assert [p["sha256"] for p in pushes(board.out)][-1] == board_frame


def test_the_hard_limit_is_below_the_lock_timeout(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            redis_url="redis://127.0.0.1/0",
            weather_url="http://127.0.0.1:9",
            output_dir=tmp_path,
            refresh_timeout="5m",
            lock_timeout="5m1s",
        )
    )
    hard = service.hard_limit(config.schedule)
    assert 300 < hard < 301


def test_the_soft_limit_interrupts_a_blocking_wait() -> None:
    started = time.monotonic()
    with pytest.raises(RefreshTimeout), time_limit(0.3):
        time.sleep(5)
    assert time.monotonic() - started < 1.0


def test_a_refresh_that_ignores_its_stop_ends_the_process() -> None:
    # SIGALRM blocked stands for code stuck in C that never returns to Python.
    script = textwrap.dedent("""
        import signal, time
        from homeboard.service import time_limit
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        with time_limit(0.2, hard=0.6):
            time.sleep(10)
        print("not reached")
    """)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, cwd=REPO
    )
    assert proc.returncode == service.EXIT_HUNG
    assert "did not stop" in proc.stderr
    assert "not reached" not in proc.stdout
    assert time.monotonic() - started < 8


# --------------------------------------------------------------------------- the clock


class Clock:
    """A settable clock in the board's time zone."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


LA = ZoneInfo(TZ)


def test_a_frame_deferred_at_midnight_is_pushed_as_soon_as_min_interval_allows(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
) -> None:
    from homeboard.tasks import BoardScheduler, beat_schedule, create_celery

    today = datetime.now(LA).date()
    clock = Clock(datetime.combine(today, dt_time(23, 59, 25), LA))
    made = make_board(
        tmp_path,
        redis_server.url,
        fake_weather,
        interval="15m",
        display_extra="  min_interval: 60s\n",
    )
    app = build_app(made.app.config, clock=clock)
    celery = create_celery(app)
    celery.conf.beat_schedule = beat_schedule(app.config, nowfun=clock)
    scheduler = BoardScheduler(app=celery, board_app=app, lazy=False)
    client = redis_server.client()
    try:
        assert refresh(app).outcome == "pushed"  # a regular tick, 35 s before midnight
        clock.now = datetime.combine(today + timedelta(days=1), dt_time(0, 0, 0), LA)
        midnight = refresh(app, trigger="midnight")
        assert midnight.outcome == "deferred"  # within min_interval of the last push
        assert app.store().deferred() == datetime.combine(
            today + timedelta(days=1), dt_time(0, 0, 25), LA
        )
        clock.now += timedelta(seconds=20)
        scheduler.send_deferred()
        assert [m for m in broker_messages(client) if m["kwargs"]["trigger"] == "deferred"] == []
        clock.now += timedelta(seconds=5)  # 00:00:25: min_interval has passed
        scheduler.tick()
        scheduler.tick()
        sent = [m for m in broker_messages(client) if m["kwargs"]["trigger"] == "deferred"]
        assert len(sent) == 1  # one refresh, then no more for the same frame
        assert sent[0]["headers"]["eta"] is None and sent[0]["headers"]["expires"]
        # What the worker runs for that message: the new date reaches the panel.
        result = refresh(app, trigger="deferred")
        assert result.outcome == "pushed"
        assert result.state is not None and result.state.date == today + timedelta(days=1)
        assert len(pushes(made.out)) == 2
        assert app.store().deferred() is None
    finally:
        scheduler.close()
        client.close()
        app.close()
        made.app.close()


def test_a_clock_before_the_release_pushes_no_2020_frame(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = make_board(tmp_path, redis_server.url, fake_weather)
    app = build_app(
        made.app.config,
        clock=Clock(datetime(2020, 1, 1, 0, 1, tzinfo=LA)),
        clock_synced=lambda: False,
    )
    caplog.set_level(logging.INFO, logger="homeboard.refresh")
    try:
        result = refresh(app)
        assert result.outcome == "held"
        assert pushes(made.out) == []  # the panel keeps its last (right) frame
        assert "clock reads 2020-01-01" in caplog.text
        status = app.store().status(app.config, app.now(), disk=app.disk())
        assert any("clock reads 2020-01-01" in fault for fault in status["faults"])
    finally:
        app.close()
        made.app.close()


def test_a_clock_set_back_days_after_a_push_holds_the_panel(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
) -> None:
    made = make_board(tmp_path, redis_server.url, fake_weather)
    clock = Clock(datetime.now(LA))
    app = build_app(made.app.config, clock=clock, clock_synced=lambda: False)
    try:
        assert refresh(app).outcome == "pushed"
        fake_weather.temperature = 25.0  # new data: a frame would be pushed
        clock.now -= timedelta(days=3)
        result = refresh(app)
        assert result.outcome == "held"
        assert "earlier than the last push" in (result.record.error or "")
        assert len(pushes(made.out)) == 1
        # Once the kernel says the time is synchronised, the board follows it.
        synced = build_app(made.app.config, clock=clock, clock_synced=lambda: True)
        try:
            assert refresh(synced).outcome == "pushed"
        finally:
            synced.close()
    finally:
        app.close()
        made.app.close()


# --------------------------------------------------------------------------- Redis faults


@pytest.mark.parametrize("how", ["misconf", "oom"])
def test_redis_refusing_writes_is_named_and_frames_still_reach_the_panel(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
    how: str,
    runner,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    from homeboard.cli import cli

    board = make_board(tmp_path, redis_server.url, fake_weather)
    client = redis_server.client()
    caplog.set_level(logging.INFO, logger="homeboard.refresh")
    try:
        assert refresh(board.app).outcome == "pushed"
        refuse_writes(client, how, redis_server.workdir)
        fake_weather.temperature = 25.0
        changed = refresh(board.app)
        assert changed.outcome == "pushed", changed.record.error
        assert changed.state is not None and changed.state.current is not None
        assert changed.state.current.temperature == 25.0
        expected = "MISCONF" if how == "misconf" else "OOM"
        assert changed.record.warning is not None
        assert changed.record.warning.startswith(f"Redis refuses writes: {expected}")
        if how == "misconf":
            assert "disk" in changed.record.warning
        assert "is redis-server running" not in caplog.text
        assert len(pushes(board.out)) == 2
        # The push was remembered off Redis: the same frame is not pushed again.
        assert refresh(board.app).outcome == "unchanged"
        assert len(pushes(board.out)) == 2
        status = board.app.store().status(board.app.config, board.app.now(), disk=board.app.disk())
        assert status["redis"]["writable"] is False
        assert any(f.startswith(f"Redis refuses writes: {expected}") for f in status["faults"])
        assert status["last_refresh"]["outcome"] == "unchanged"
        assert status["last_push"]["sha256"] == pushes(board.out)[-1]["sha256"]
        shown = runner.invoke(cli, ["status", "--config", str(tmp_path / "config.yaml")])
        assert shown.exit_code == 0, shown.output
        assert f"FAULT: Redis refuses writes: {expected}" in shown.output
    finally:
        accept_writes(client)
        client.close()
        board.app.close()


def test_a_lost_redis_cache_never_blanks_the_board(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
) -> None:
    board = make_board(tmp_path, redis_server.url, fake_weather, max_age="2s")
    client = redis_server.client()
    try:
        assert refresh(board.app).outcome == "pushed"
        client.flushall()  # the cache is gone (a wiped dump file, a rebuilt Redis)
        fake_weather.fail = True  # ...and we are offline
        (tmp_path / "family.ics").unlink()
        time.sleep(2.2)  # past max_age
        # A new process (a restart): nothing in memory either.
        fresh = build_app(board.app.config)
        try:
            result = refresh(fresh)
        finally:
            fresh.close()
        assert result.state is not None
        assert {s.name: s.status for s in result.state.sources} == {
            "weather": "stale",
            "calendar:Family": "stale",
        }
        assert result.state.current is not None and result.state.current.temperature == 11.0
        titles = [e.title for day in result.state.days for e in day.events]
        assert "Dentist" in titles
        saved = json.loads((tmp_path / "state" / "test" / "snapshots.json").read_text())
        assert set(saved["snapshots"]) >= {"weather", "calendar:Family"}
    finally:
        client.close()
        board.app.close()


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_refresh_ended_by_a_signal_releases_its_lock(
    tmp_path: Path,
    redis_server,
    fake_weather: FakeOpenMeteo,  # type: ignore[no-untyped-def]
    signum: int,
) -> None:
    from boardkit import clean_environment, wait_for

    from homeboard.store import Store

    board = make_board(
        tmp_path,
        redis_server.url,
        fake_weather,
        weather_timeout="30s",
        lock_timeout="10m",
        refresh_timeout="5m",
    )
    fake_weather.delay = 20.0
    store = Store(redis_server.client(), "test")
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeboard", "refresh", "--config", str(tmp_path / "config.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environment(),
    )
    try:
        wait_for(lambda: store.running() is not None, 20, what="the refresh to start")
        assert store.lock_holder_ttl() is not None
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
        assert proc.returncode == 128 + signum, err
        assert store.lock_holder_ttl() is None  # released now, not in ten minutes
        assert store.running() is None
        assert f"stopped by {signal.Signals(signum).name}" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        store.client.close()
        board.app.close()
