"""The Celery side: settings that keep it reliable, the beat schedule, quiet hours, midnight."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from boardkit import run_worker_whose_scheduler_dies, write_config

from homeboard.app import build_app
from homeboard.config import Config, QuietHours, load_config
from homeboard.tasks import (
    REFRESH_TASK,
    BoardCadence,
    BoardScheduler,
    LocalMidnight,
    beat_schedule,
    celery_settings,
    create_celery,
    expires_seconds,
)

LA = ZoneInfo("America/Los_Angeles")
REPO = Path(__file__).resolve().parent.parent


def board_config(
    tmp_path: Path,
    *,
    interval: str = "15m",
    schedule_extra: str = "",
    redis_url: str = "redis://127.0.0.1:6379/0",
    board: str = "hall",
) -> Config:
    path = write_config(
        tmp_path / "config.yaml",
        redis_url=redis_url,
        weather_url="http://127.0.0.1:9",
        output_dir=tmp_path / "out",
        board=board,
        interval=interval,
        schedule_extra=schedule_extra,
        refresh_timeout="5m",
        lock_timeout="10m",
    )
    return load_config(path)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --------------------------------------------------------------------------- settings


def test_settings_follow_the_reliability_rules(tmp_path: Path) -> None:
    s = celery_settings(board_config(tmp_path))
    # JSON only, never pickle, and no result backend.
    assert s["task_serializer"] == "json"
    assert s["accept_content"] == ["json"]
    assert s["result_backend"] is None and s["task_ignore_result"] is True
    # One at a time, nothing held back, acknowledged at start.
    assert s["worker_prefetch_multiplier"] == 1
    assert s["worker_concurrency"] == 1 and s["worker_pool"] == "solo"
    assert s["task_acks_late"] is False
    # Redis may come late and may restart: retry on startup and forever.
    assert s["broker_connection_retry_on_startup"] is True
    assert s["broker_connection_max_retries"] is None
    opts = s["broker_transport_options"]
    assert opts["socket_timeout"] > 0 and opts["socket_connect_timeout"] > 0
    assert opts["health_check_interval"] > 0
    # No remote control: nothing can depend on `celery inspect`.
    assert s["worker_enable_remote_control"] is False


def test_every_broker_key_is_under_the_board_prefix(tmp_path: Path) -> None:
    s = celery_settings(board_config(tmp_path, board="kitchen"))
    assert s["broker_transport_options"]["global_keyprefix"] == "homeboard:kitchen:"
    assert s["broker_url"] == "redis://127.0.0.1:6379/0"


def test_every_beat_entry_expires_before_its_next_tick(tmp_path: Path) -> None:
    config = board_config(
        tmp_path,
        interval="15m",
        schedule_extra=("  quiet_hours:\n    start: '21:00'\n    end: '07:00'\n    interval: 1h\n"),
    )
    entries = beat_schedule(config)
    assert set(entries) == {"refresh", "midnight"}
    for entry in entries.values():
        assert entry["task"] == REFRESH_TASK
        assert 0 < entry["options"]["expires"] < 15 * 60
        assert not {"eta", "countdown"} & set(entry["options"])
    assert expires_seconds(config) == pytest.approx(0.8 * 15 * 60)


def test_a_quicker_quiet_interval_shortens_the_expiry(tmp_path: Path) -> None:
    config = board_config(
        tmp_path,
        interval="1h",
        schedule_extra=("  quiet_hours:\n    start: '21:00'\n    end: '07:00'\n    interval: 5m\n"),
    )
    assert 0 < expires_seconds(config) < 5 * 60
    assert all(e["options"]["expires"] < 5 * 60 for e in beat_schedule(config).values())


def test_a_seconds_long_interval_expires_within_it(tmp_path: Path) -> None:
    config = board_config(tmp_path, interval="1s")
    assert 0 < expires_seconds(config) < 1


def test_no_eta_countdown_retry_or_pickle_in_the_package() -> None:
    pattern = re.compile(
        r"\b(countdown|eta)\s*=|\.retry\(|autoretry_for|import pickle"
        r"|pickle\.(loads?|dumps?)|serializer.*pickle"
    )
    hits = []
    for path in (REPO / "homeboard").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert hits == []


# --------------------------------------------------------------------------- cadence


def test_cadence_is_the_interval_by_day() -> None:
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=LA))
    cadence = BoardCadence(timedelta(minutes=15), None, LA, nowfun=clock)
    last = clock.now - timedelta(minutes=14)
    due, wait = cadence.is_due(last)
    assert not due and wait == pytest.approx(60)
    clock.now += timedelta(minutes=1)
    due, wait = cadence.is_due(last)
    assert due and wait == pytest.approx(15 * 60)


QUIET = QuietHours(start=time(21, 0), end=time(7, 0), interval=timedelta(hours=1))


def test_quiet_hours_use_their_slower_interval() -> None:
    clock = Clock(datetime(2026, 11, 25, 23, 0, tzinfo=LA))
    cadence = BoardCadence(timedelta(minutes=15), QUIET, LA, nowfun=clock)
    assert cadence.interval_at(clock.now) == timedelta(hours=1)
    assert cadence.interval_at(datetime(2026, 11, 25, 12, 0, tzinfo=LA)) == timedelta(minutes=15)
    # 20 minutes after the last run: by day it would be due, at night it is not.
    due, wait = cadence.is_due(clock.now - timedelta(minutes=20))
    assert not due and wait == pytest.approx(40 * 60)


def test_quiet_hours_end_brings_back_the_day_cadence_at_once() -> None:
    # Last run at 06:30 (quiet, hourly); at 07:00 the 15-minute cadence is back,
    # and 30 minutes have passed, so a refresh is due at 07:00, not at 07:30.
    clock = Clock(datetime(2026, 11, 26, 6, 59, 59, tzinfo=LA))
    cadence = BoardCadence(timedelta(minutes=15), QUIET, LA, nowfun=clock)
    last = datetime(2026, 11, 26, 6, 30, tzinfo=LA)
    due, wait = cadence.is_due(last)
    assert not due and wait == pytest.approx(1, abs=0.01)  # looks again at the edge
    clock.now = datetime(2026, 11, 26, 7, 0, 0, tzinfo=LA)
    assert cadence.is_due(last)[0]


def test_a_clock_that_jumped_back_does_not_stall_the_board() -> None:
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=LA))
    cadence = BoardCadence(timedelta(minutes=15), None, LA, nowfun=clock)
    # The last run was stamped by a clock two hours fast (a Pi without RTC before NTP).
    assert cadence.is_due(clock.now + timedelta(hours=2))[0]


def test_midnight_refresh_is_due_just_after_local_midnight() -> None:
    clock = Clock(datetime(2026, 11, 25, 23, 59, 58, tzinfo=LA))
    midnight = LocalMidnight(LA, nowfun=clock)
    last = datetime(2026, 11, 25, 7, 0, tzinfo=LA)
    due, wait = midnight.is_due(last)
    assert not due and wait == pytest.approx(2)
    clock.now = datetime(2026, 11, 26, 0, 0, 0, 1000, tzinfo=LA)
    due, wait = midnight.is_due(last)
    assert due and wait == pytest.approx(24 * 3600, abs=1)
    # Midnight is local: 00:00 UTC is 16:00 in Los Angeles and is not it.
    clock.now = datetime(2026, 11, 26, 0, 0, 1, tzinfo=ZoneInfo("UTC"))
    assert not midnight.is_due(datetime(2026, 11, 25, 15, 0, tzinfo=LA))[0]


def test_midnight_on_a_dst_day_is_the_real_next_midnight() -> None:
    # 2026-11-01: clocks go back at 02:00 in Los Angeles, so that day has 25 hours.
    clock = Clock(datetime(2026, 11, 1, 0, 0, 30, tzinfo=LA))
    midnight = LocalMidnight(LA, nowfun=clock)
    due, wait = midnight.is_due(datetime(2026, 10, 31, 23, 0, tzinfo=LA))
    assert due and wait == pytest.approx(25 * 3600 - 30, abs=1)


# --------------------------------------------------------------------------- the app


def test_the_celery_app_has_one_refresh_task_and_the_board_schedule(tmp_path: Path) -> None:
    app = build_app(board_config(tmp_path))
    celery = create_celery(app)
    assert REFRESH_TASK in celery.tasks
    assert set(celery.conf.beat_schedule) == {"refresh", "midnight"}
    assert celery.conf.worker_prefetch_multiplier == 1


def test_the_scheduler_publishes_its_next_run(tmp_path: Path, redis_server) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=LA))
    app = build_app(board_config(tmp_path, redis_url=redis_server.url, interval="15m"), clock=clock)
    celery = create_celery(app)
    celery.conf.beat_schedule = beat_schedule(app.config, nowfun=clock)
    scheduler = BoardScheduler(app=celery, board_app=app, lazy=False)
    scheduler.publish_next_run()
    assert app.store().next_run() == clock.now + timedelta(minutes=15)
    assert set(scheduler.schedule) == {"refresh", "midnight"}  # no backend-cleanup entry


# --------------------------------------------------------------------------- consumer watch


class Ticker:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_consumer_that_takes_nothing_while_idle_is_nudged_then_given_up() -> None:
    from homeboard.tasks import ConsumerWatch

    clock = Ticker()
    watch = ConsumerWatch("homeboard:test:refresh", clock=clock)
    assert watch.check(2) is None  # first sight of waiting messages
    clock.now += ConsumerWatch.NUDGE_AFTER - 0.5
    assert watch.check(2) is None  # not long enough yet
    clock.now += 1
    assert watch.check(3) == "nudge"
    clock.now += 10
    assert watch.check(3) is None  # one nudge, then patience
    clock.now += ConsumerWatch.GIVE_UP_AFTER
    assert watch.check(3) == "give-up"


def test_a_busy_or_consuming_worker_is_left_alone() -> None:
    from homeboard.tasks import ConsumerWatch

    clock = Ticker()
    watch = ConsumerWatch("q", clock=clock)
    watch.started()  # a long refresh: messages wait, as they should
    for _ in range(10):
        clock.now += ConsumerWatch.NUDGE_AFTER
        assert watch.check(4) is None
    watch.finished()
    assert watch.check(4) is None
    clock.now += 0.2
    watch.dropped()  # the worker takes the backlog (expired messages)
    clock.now += ConsumerWatch.NUDGE_AFTER
    assert watch.check(3) is None  # it is taking messages: no nudge
    assert watch.check(0) is None


def test_the_nudge_goes_through_the_workers_event_loop() -> None:
    import redis

    from homeboard.tasks import ConsumerWatch

    class Hub:
        def __init__(self) -> None:
            self.callbacks: list[object] = []

        def call_soon(self, callback: object) -> None:
            self.callbacks.append(callback)

    class Consumer:
        hub = Hub()

    watch = ConsumerWatch("q")
    assert not watch.nudge()  # no consumer yet
    watch.attach(Consumer())
    assert watch.nudge()
    (callback,) = Consumer.hub.callbacks
    with pytest.raises(redis.ConnectionError):
        callback()  # type: ignore[operator]


# --------------------------------------------------------------------------- broker messages


def test_the_messages_of_the_start_up_refresh_and_a_beat_tick_expire_and_carry_no_eta(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    from types import SimpleNamespace

    from boardkit import broker_messages

    clock = Clock(datetime.now(LA))
    app = build_app(
        board_config(tmp_path, redis_url=redis_server.url, interval="15m", board="test"),
        clock=clock,
    )
    celery = create_celery(app)
    celery.conf.beat_schedule = beat_schedule(app.config, nowfun=clock)
    client = redis_server.client()
    scheduler = BoardScheduler(app=celery, board_app=app, lazy=False)
    try:
        on_ready = celery.homeboard_hooks[0]  # what the worker runs when it is ready
        on_ready(sender=SimpleNamespace(app=celery))
        clock.now += timedelta(minutes=16)  # the regular refresh is due
        scheduler.tick()
        messages = broker_messages(client, "test")
        assert sorted(m["kwargs"]["trigger"] for m in messages) == ["schedule", "start"]
        sent_at = datetime.now(LA)
        for message in messages:
            headers = message["headers"]
            assert message["content-type"] == "application/json"
            assert message["content-encoding"] == "utf-8"
            assert headers["task"] == REFRESH_TASK
            assert headers["eta"] is None and "countdown" not in headers
            assert headers["retries"] == 0
            expires = datetime.fromisoformat(headers["expires"])
            assert timedelta(0) < expires - sent_at <= timedelta(minutes=15)
    finally:
        scheduler.close()
        client.close()
        app.close()


def test_a_refresh_message_with_an_eta_or_no_expiry_is_refused_whatever_the_spelling(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    from boardkit import broker_messages

    app = build_app(board_config(tmp_path, redis_url=redis_server.url, board="test"))
    celery = create_celery(app)
    task = celery.tasks[REFRESH_TASK]
    client = redis_server.client()
    try:
        with pytest.raises(ValueError, match="countdown"):
            task.apply_async(
                kwargs={"trigger": "manual"}, expires=60, **{"".join(["count", "down"]): 1}
            )
        with pytest.raises(ValueError, match="eta"):
            task.apply_async(
                kwargs={"trigger": "manual"},
                expires=60,
                **{"".join(["e", "ta"]): datetime.now(LA) + timedelta(minutes=1)},
            )
        with pytest.raises(ValueError, match="expires"):
            task.apply_async(kwargs={"trigger": "manual"})
        with pytest.raises(ValueError, match="countdown"):
            task.signature(kwargs={"trigger": "manual"}).apply_async(countdown=5, expires=60)
        assert broker_messages(client, "test") == []
        task.apply_async(kwargs={"trigger": "manual"}, expires=60)
        assert len(broker_messages(client, "test")) == 1
    finally:
        client.close()
        app.close()


# --------------------------------------------------------------------------- beat's death


def test_a_scheduler_thread_that_dies_ends_the_service_non_zero(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    import time as _time

    from homeboard.tasks import EXIT_BEAT_DIED

    config = tmp_path / "config.yaml"
    write_config(
        config,
        redis_url=redis_server.url,
        weather_url="http://127.0.0.1:9",
        output_dir=tmp_path / "out",
        interval="1h",
    )
    # Any exception out of the scheduler (seen: a malformed redis_url) kills the thread.
    started = _time.monotonic()
    proc = run_worker_whose_scheduler_dies(
        config, "Redis URL must specify one of the following schemes", cwd=REPO
    )
    assert proc.returncode == EXIT_BEAT_DIED, proc.stderr[-3000:]
    assert "the scheduler (beat) stopped (ValueError: Redis URL" in proc.stderr
    assert _time.monotonic() - started < 30


def test_status_shows_a_next_run_in_the_past_as_a_fault(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    now = datetime.now(LA)
    app = build_app(board_config(tmp_path, redis_url=redis_server.url), clock=lambda: now)
    store = app.store()
    try:
        store.set_next_run(now - timedelta(minutes=10), now=now - timedelta(minutes=25))
        status = store.status(app.config, now)
        assert status["next_run_overdue"] is True
        assert any(
            "is in the past" in fault and "scheduler is not running" in fault
            for fault in status["faults"]
        )
        store.set_next_run(now + timedelta(minutes=5), now=now)
        status = store.status(app.config, now)
        assert status["next_run_overdue"] is False and status["faults"] == []
    finally:
        app.close()


def test_while_redis_refuses_writes_the_fallback_refreshes_when_a_refresh_is_overdue(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    from boardkit import accept_writes, pushes, refuse_writes

    from homeboard.tasks import RefusalFallback

    clock = Clock(datetime.now(LA))
    config = board_config(tmp_path, redis_url=redis_server.url, interval="15m", board="test")
    app = build_app(config, clock=clock)
    ticker = Ticker()
    fallback = RefusalFallback(app, clock=ticker)
    client = redis_server.client()
    try:
        ticker.now += 30 * 60  # no refresh for two intervals...
        assert not fallback.check()  # ...but Redis takes writes: Celery's refreshes will come
        refuse_writes(client, "oom", redis_server.workdir)
        assert fallback.check()  # now nothing else can refresh: the fallback does
        assert len(pushes(tmp_path / "out")) == 1
        ticker.now += 10 * 60
        assert not fallback.check()  # it just ran: the next one in 1.5 intervals
        tomorrow = clock.now.date() + timedelta(days=1)
        clock.now = datetime.combine(tomorrow, time(0, 0, 30), LA)
        assert fallback.check()  # a new date is drawn at once, as at midnight
    finally:
        accept_writes(client)
        client.close()
        app.close()
