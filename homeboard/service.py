"""One refresh of the board: lock, fetch, cache, compose, render, push — bounded in time.

``refresh(app)`` is what the Celery task and ``homeboard refresh`` both call. It never
blocks on the lock: when another refresh holds it, it records a skip and returns. It
never runs unbounded either: network calls and the panel's BUSY wait have their own
timeouts, and a refresh still running after ``schedule.refresh_timeout`` is stopped
(``RefreshTimeout``), its lock released. If even that fails (code stuck in a C call
that ignores signals), a watchdog ends the process so that systemd restarts it; the
lock then expires by itself within ``schedule.lock_timeout``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeboard.app import RedisUnavailable, safe_url
from homeboard.diskstate import newest_snapshots
from homeboard.errors import DisplayError
from homeboard.exits import EXIT_HUNG, record_exit
from homeboard.store import PushRecord, RefreshRecord, write_refusal

if TYPE_CHECKING:
    from homeboard.app import App
    from homeboard.config import Config, Schedule
    from homeboard.diskstate import DiskState
    from homeboard.model import BoardState, Snapshot
    from homeboard.store import Outcome, Store

log = logging.getLogger("homeboard.refresh")

#: Most time given to a stopped refresh to unwind before the watchdog ends the process.
HARD_GRACE_MAX = 30.0
#: Share of ``schedule.refresh_timeout`` that fetching all sources may take.
FETCH_SHARE = 0.6


def fetch_budget(config: Config) -> float:
    """Seconds that fetching every source may take in all (a refresh, ``homeboard state``)."""
    return config.schedule.refresh_timeout.total_seconds() * FETCH_SHARE


class RefreshTimeout(BaseException):
    """A refresh ran past ``schedule.refresh_timeout`` and was stopped.

    A BaseException, like KeyboardInterrupt: it interrupts whatever code is running,
    and a source's ``except Exception`` must not swallow it and carry on.
    """


@dataclass(frozen=True)
class RefreshResult:
    """What ``refresh`` did: its record (as stored) and a human explanation."""

    record: RefreshRecord
    detail: str = ""
    state: BoardState | None = None

    @property
    def outcome(self) -> str:
        """pushed, unchanged, deferred, skipped-locked or failed."""
        return self.record.outcome


def hard_limit(schedule: Schedule) -> float:
    """Seconds after which a refresh that ignored its stop ends the process (< lock_timeout)."""
    soft = schedule.refresh_timeout.total_seconds()
    lock = schedule.lock_timeout.total_seconds()
    return soft + min(HARD_GRACE_MAX, max(0.0, (lock - soft) / 2))


@contextlib.contextmanager
def time_limit(soft: float, *, hard: float | None = None) -> Iterator[None]:
    """Raise ``RefreshTimeout`` in this thread after ``soft`` s; end the process after ``hard`` s.

    The soft limit is a SIGALRM timer, so it can only be armed in the main thread
    (where the solo worker and the CLI run refreshes); elsewhere only the hard limit
    applies. Blocking socket reads are interrupted by the signal.
    """
    armed = threading.current_thread() is threading.main_thread()
    watchdog: threading.Timer | None = None
    previous_handler: Any = None
    fired = False

    def on_alarm(_signum: int, _frame: Any) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise RefreshTimeout(f"refresh stopped after {soft:g} s (schedule.refresh_timeout)")

    if hard is not None:
        watchdog = threading.Timer(hard, _end_hung_process, args=(hard,))
        watchdog.daemon = True
        watchdog.name = "refresh-watchdog"
        watchdog.start()
    if armed:
        previous_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, soft)
    try:
        yield
    finally:
        if armed:
            # One-shot timer: once disarmed here, no alarm can interrupt the caller's
            # finally (which releases the lock).
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
        if watchdog is not None:
            watchdog.cancel()


def _end_hung_process(hard: float) -> None:
    log.critical(
        "refresh still running %g s after it started and did not stop; exiting so "
        "the service is restarted (the lock expires by itself)",
        hard,
    )
    record_exit(EXIT_HUNG, f"still running {hard:g} s after it started")
    logging.shutdown()
    os._exit(EXIT_HUNG)


def _error_text(exc: BaseException) -> str:
    """A one-line, secret-free description of a failure."""
    from homeboard.sources.http import redact

    if isinstance(exc, RefreshTimeout):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return redact(f"{name}: {text}" if text else name)


def _seconds(start: float, end: float) -> float:
    return max(0.0, end - start)


#: Trigger of the refresh the scheduler sends when a deferred frame may be pushed.
DEFERRED = "deferred"
#: No frame is drawn while the clock reads earlier than this (a Pi has no battery clock and
#: may boot in 2020 or 1970); raise it with each release.
CLOCK_FLOOR = datetime(2026, 1, 1, tzinfo=UTC)
#: How far behind the last push or the newest data the clock may be (NTP steps it a little).
CLOCK_SLACK = timedelta(minutes=5)


class RefreshInterrupted(BaseException):
    """SIGTERM or SIGHUP stopped a refresh; raised so that its lock is released on the way out."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def release_on_signals(
    signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP),
) -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into ``RefreshInterrupted`` while a command refreshes.

    Their default action ends the process at once, leaving the refresh lock to expire
    by itself (``schedule.lock_timeout``, 10 minutes); raised instead, the refresh's
    ``finally`` releases it. Only in the main thread (where signal handlers live).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal fired
        if not fired:  # a second signal must not interrupt the release itself
            fired = True
            raise RefreshInterrupted(signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def clock_problem(
    now: datetime,
    *,
    last_push_at: datetime | None,
    newest_data_at: datetime | None,
    synced: bool | None,
    floor: datetime = CLOCK_FLOOR,
) -> str | None:
    """Why the clock cannot be trusted to draw the date, or None.

    A clock before ``floor`` is wrong whatever anyone says. Otherwise, unless the kernel
    says the clock is synchronised, a clock well behind the last push or the newest data
    this board recorded has been set back (a Pi booted without network time).
    """
    shown = f"{now:%Y-%m-%d %H:%M}"
    if now < floor:
        return (
            f"the clock reads {shown}, before {floor:%Y-%m-%d}: it is not set; no frame is "
            "pushed until the time is synchronised"
        )
    if synced:
        return None
    for what, moment in (("the last push", last_push_at), ("the newest data", newest_data_at)):
        if moment is not None and now < moment - CLOCK_SLACK:
            return (
                f"the clock reads {shown}, earlier than {what} "
                f"({moment.astimezone(now.tzinfo):%Y-%m-%d %H:%M}): it is not set; no frame "
                "is pushed until the time is synchronised"
            )
    return None


class _Writes:
    """Writes to Redis that survive Redis refusing them (MISCONF on a full disk, OOM).

    The first refusal is kept (and reported with the refresh); later writes of the same
    refresh are not tried. Any other Redis error is raised as before.
    """

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal

    def __call__(self, write: Any, *args: Any, **kwargs: Any) -> bool:
        import redis

        if self.refusal is not None:
            return False
        try:
            write(*args, **kwargs)
        except redis.ResponseError as exc:
            text = write_refusal(exc)
            if text is None:
                raise
            self.refusal = text
            return False
        return True


def refresh(app: App, *, force: bool = False, trigger: str = "schedule") -> RefreshResult:
    """Run one refresh cycle now, unless another one holds the lock (then record a skip).

    ``force`` fetches every source whatever its own interval and pushes the frame even
    if it is unchanged. Raises ``RedisUnavailable`` only when the lock cannot even be
    asked for; every other failure is recorded and returned as outcome ``failed``.
    When Redis answers but refuses writes, the refresh goes on from the data in memory
    and on disk and says so (``record.warning``). ``RefreshInterrupted`` is raised
    again once the lock is released.
    """
    import redis

    config = app.config
    schedule = config.schedule
    started = app.now()
    disk = app.disk()
    store, lock, acquired, refusal = _try_lock(app)
    writes = _Writes(refusal)
    if not acquired:
        return _skipped(app, store, writes, started, trigger)

    result: RefreshResult | None = None
    push: PushRecord | None = None
    interrupted: RefreshInterrupted | None = None
    try:
        with disk.lock() as local:
            if not local:  # another process of this machine is drawing (Redis refused the lock)
                return _skipped(app, store, writes, started, trigger)
            try:
                writes(store.begin_refresh, started, trigger=trigger, ttl=schedule.lock_timeout)
                with time_limit(
                    schedule.refresh_timeout.total_seconds(), hard=hard_limit(schedule)
                ):
                    result, push = _cycle(
                        app, store, writes, started=started, force=force, trigger=trigger
                    )
            except (Exception, RefreshTimeout, RefreshInterrupted) as exc:
                if isinstance(exc, RefreshInterrupted):
                    interrupted = exc
                error = _error_text(exc)
                record = RefreshRecord(
                    started_at=started,
                    ended_at=app.now(),
                    outcome="failed",
                    trigger=trigger,
                    error=error,
                    warning=writes.refusal,
                )
                result = RefreshResult(record, error)
                if not isinstance(
                    exc, (RefreshTimeout, RefreshInterrupted, redis.RedisError, DisplayError)
                ):
                    log.debug("refresh failed", exc_info=True)
            if writes.refusal is not None and result.record.warning is None:
                result = dataclasses.replace(
                    result, record=dataclasses.replace(result.record, warning=writes.refusal)
                )
            try:
                if not writes(store.end_refresh, result.record, push=push):
                    disk.save_refresh(result.record.to_json())  # status reads it from there
            except redis.RedisError as exc:
                log.warning("could not record the refresh in Redis: %s", _error_text(exc))
                disk.save_refresh(result.record.to_json())
    finally:
        _release(lock)
    _log_result(result)
    if interrupted is not None:
        raise interrupted
    return result


def _skipped(
    app: App, store: Store, writes: _Writes, started: datetime, trigger: str
) -> RefreshResult:
    import redis

    record = RefreshRecord(
        started_at=started, ended_at=app.now(), outcome="skipped-locked", trigger=trigger
    )
    with contextlib.suppress(redis.RedisError):
        writes(store.end_refresh, record)
    log.info("refresh skipped-locked (%s): another refresh holds the lock", trigger)
    return RefreshResult(record, "another refresh is running")


def _try_lock(app: App) -> tuple[Store, Any, bool, str | None]:
    """Ask for the panel's lock without waiting: (store, lock, acquired, refusal).

    When Redis answers but refuses writes, there is no Redis lock (``lock`` None,
    ``refusal`` says why) and the state directory's file lock alone keeps refreshes apart.
    """
    import redis

    store = app.store()
    try:
        lock = store.lock(app.config.schedule.lock_timeout)
        return store, lock, bool(lock.acquire(blocking=False)), None
    except redis.ResponseError as exc:
        refusal = write_refusal(exc)
        if refusal is None:
            raise RedisUnavailable(
                f"Redis at {safe_url(app.config.redis_url)} refused the lock: {_error_text(exc)}"
            ) from None
        return store, None, True, refusal
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"Redis at {safe_url(app.config.redis_url)} did not answer ({_error_text(exc)}); "
            "is redis-server running?"
        ) from None


def _release(lock: Any) -> None:
    """Release our own lock; if it expired or Redis lost it, there is nothing to release."""
    import redis
    from redis.exceptions import LockError

    if lock is None:
        return
    try:
        lock.release()
    except LockError:
        log.warning("the refresh lock had already expired (schedule.lock_timeout too short?)")
    except redis.RedisError as exc:
        log.warning(
            "could not release the refresh lock (it expires by itself): %s", _error_text(exc)
        )


def _log_result(result: RefreshResult) -> None:
    """The one line per refresh: outcome, trigger, durations, each source's status."""
    rec = result.record
    total = rec.duration
    warning = f"; {rec.warning}" if rec.warning else ""
    if rec.outcome == "failed":
        log.error("refresh failed (%s) after %.2f s: %s%s", rec.trigger, total, rec.error, warning)
        return
    if rec.outcome == "held":
        log.warning("refresh held (%s): %s%s", rec.trigger, rec.error, warning)
        return
    line = (
        f"refresh {rec.outcome} ({rec.trigger}) in {total:.2f} s: fetch {rec.fetch_s:.2f} s, "
        f"render {rec.render_s:.2f} s, push {rec.push_s:.2f} s"
    )
    if result.state is not None and result.state.sources:
        line += "; " + ", ".join(f"{s.name} {s.status}" for s in result.state.sources)
    if rec.warning:
        # Drawing goes on, but the owner must hear about it every time, not once.
        log.warning("%s; %s%s", line, result.detail, warning)
    else:
        log.info("%s; %s", line, result.detail)


def last_push_of(store: Store, disk: DiskState) -> PushRecord | None:
    """The newest record of the frame on the panel, from Redis or the state directory."""
    import redis

    try:
        push = store.last_push()
    except redis.RedisError:
        push = None
    kept = disk.last_push()
    if kept is not None and (push is None or kept.at > push.at):
        return kept
    return push


def _cycle(
    app: App,
    store: Store,
    writes: _Writes,
    *,
    started: datetime,
    force: bool,
    trigger: str,
) -> tuple[RefreshResult, PushRecord | None]:
    """Fetch, cache, compose, render and (maybe) push; the caller holds the lock."""
    import drivers
    from homeboard.model import compose
    from homeboard.render import render
    from homeboard.sources import fetch_all

    config = app.config
    disk = app.disk()
    t0 = time.monotonic()
    cached = store.load_snapshots()
    # Redis may have lost its cache (or come back from an old dump): the newest good data
    # of Redis, the state directory and this process's memory, source by source.
    previous = newest_snapshots(cached, disk.load_snapshots(), app.memory)
    last = last_push_of(store, disk)
    identity = display_identity(config)
    now = app.now()
    newest = max(
        (s.fetched_at for s in previous.values() if s.fetched_at is not None),
        default=None,
        key=lambda moment: moment.timestamp(),
    )
    problem = clock_problem(
        now,
        last_push_at=last.at if last else None,
        newest_data_at=newest,
        synced=app.clock_synced(),
    )
    if problem is not None:
        record = RefreshRecord(
            started_at=started, ended_at=app.now(), outcome="held", trigger=trigger, error=problem
        )
        return RefreshResult(record, problem), None

    sources = app.sources()
    if trigger == DEFERRED and all(s.name in previous for s in sources):
        # The data were fetched at most display.min_interval ago: only the frame waited.
        fetched: dict[str, Snapshot] = {}
    else:
        with app.session() as session:
            # Sources get at most this share of refresh_timeout, each within its own
            # deadline: what is left always saves, draws and pushes what the others brought.
            fetched = fetch_all(sources, previous, session=session, now=app.now(),
                                force=force, budget=fetch_budget(config))
    snapshots: dict[str, Snapshot] = {**previous, **fetched}
    configured = {s.name: snapshots[s.name] for s in sources if s.name in snapshots}
    changed = {name: snap for name, snap in configured.items() if cached.get(name) is not snap}
    writes(store.save_snapshots, changed, keep=[s.name for s in sources])
    disk.save_snapshots(configured)
    app.memory = configured
    t1 = time.monotonic()

    now = app.now()
    state = compose(config, snapshots, now)
    panel = drivers.PANELS[config.display.panel]
    image = render(state, panel, orientation=config.layout.orientation)
    packed = drivers.pack(image, panel)
    sha = hashlib.sha256(packed).hexdigest()
    t2 = time.monotonic()

    if last is not None and last.display not in (None, identity):
        # Another display got the last frame (the mock, before the panel was wired):
        # this one has never shown it.
        last = None
    decision = drivers.decide_push(
        sha256=sha,
        now=now,
        last_sha256=last.sha256 if last else None,
        last_push_at=last.at if last else None,
        min_interval=config.display.effective_min_interval,
        force=force,
    )
    push: PushRecord | None = None
    outcome: Outcome
    detail = decision.reason
    if decision.outcome == "push":
        shown = show(app, packed)
        push = PushRecord(sha256=shown, at=app.now(), display=identity)
        disk.save_push(push)
        outcome = "pushed"
    elif decision.outcome == "unchanged":
        outcome = "unchanged"
    else:
        outcome = "deferred"
        not_before = decision.not_before
        if not_before is not None:
            # The scheduler sends a refresh at that moment (no eta: see tasks.BoardScheduler).
            writes(store.set_deferred, not_before, now=now)
            detail += f"; the service pushes it at {not_before.astimezone(config.tz):%H:%M:%S}"
    t3 = time.monotonic()
    record = RefreshRecord(
        started_at=started,
        ended_at=app.now(),
        outcome=outcome,
        trigger=trigger,
        fetch_s=_seconds(t0, t1),
        render_s=_seconds(t1, t2),
        push_s=_seconds(t2, t3),
        sha256=sha,
    )
    return RefreshResult(record, detail, state), push


def display_identity(config: Config) -> str:
    """Which display a push went to: the driver and panel, and the mock's folder."""
    display = config.display
    if display.driver == "mock":
        return f"mock:{display.panel}:{display.output_dir}"
    return display.driver


def show(app: App, packed: bytes, *, what: str = "board") -> str:
    """Push one packed frame to the configured display (opened and closed around it).

    The pushed bytes are then kept in Redis (``Store.record_frame``), so that the
    household page shows what the panel shows, whatever put it there.
    """
    import drivers

    try:
        with app.open_display() as display:
            sha = display.show_packed(packed)
    except drivers.DisplayError as exc:
        raise DisplayError(str(exc)) from exc
    record_frame(app, packed, sha256=sha, what=what)
    return sha


def record_frame(app: App, packed: bytes, *, sha256: str, what: str) -> None:
    """Keep the frame just pushed in Redis as a PNG; a failure there never fails the push."""
    import redis

    config = app.config
    try:
        png = frame_png(packed, config.display.panel, config.layout.orientation)
        app.store().record_frame(png, panel=config.display.panel,
                                 orientation=config.layout.orientation, sha256=sha256,
                                 pushed_at=app.now(), what=what)
    except redis.RedisError as exc:
        log.warning("could not keep the pushed frame in Redis: %s", _error_text(exc))


def frame_png(packed: bytes, panel: str, orientation: str) -> bytes:
    """The packed frame as the household sees it on the wall: a true-colour PNG, upright."""
    import io

    import drivers

    image = drivers.unpack(packed, panel)  # what the panel shows, as the mock writes it
    if orientation == "portrait":
        image = image.transpose(drivers.PORTRAIT_TO_PANEL_INVERSE)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def show_on_panel(app: App, what: str) -> RefreshResult:
    """``homeboard display test|clear``: draw the test pattern or clear, under the lock.

    The panel then shows something other than the board, so the record of the last
    push is replaced and the next refresh draws the board again.
    """
    started = app.now()
    store, lock, acquired, refusal = _try_lock(app)
    busy = RefreshResult(
        RefreshRecord(
            started_at=started,
            ended_at=app.now(),
            outcome="skipped-locked",
            trigger=f"display-{what}",
        ),
        "a refresh is running; try again in a minute",
    )
    if not acquired:
        return busy
    try:
        with app.disk().lock() as local:
            if not local:
                return busy
            return _show_on_panel(app, store, what, started, _Writes(refusal))
    finally:
        _release(lock)


def _show_on_panel(
    app: App, store: Store, what: str, started: datetime, writes: _Writes
) -> RefreshResult:
    import drivers

    config = app.config
    with time_limit(
        config.schedule.refresh_timeout.total_seconds(), hard=hard_limit(config.schedule)
    ):
        t0 = time.monotonic()
        panel = drivers.PANELS[config.display.panel]
        image = drivers.test_pattern(panel) if what == "test" else drivers.new_frame(panel.size)
        sha = show(app, drivers.pack(image, panel), what=what)
    # Not the board's frame: remember what is shown so the next refresh replaces it.
    shown = PushRecord(sha256=sha, at=app.now(), display=display_identity(config))
    app.disk().save_push(shown)
    writes(store.save_push, shown)
    record = RefreshRecord(
        started_at=started,
        ended_at=app.now(),
        outcome="pushed",
        trigger=f"display-{what}",
        push_s=time.monotonic() - t0,
        sha256=sha,
        warning=writes.refusal,
    )
    return RefreshResult(record, "test pattern shown" if what == "test" else "panel cleared")


__all__ = [
    "CLOCK_FLOOR",
    "DEFERRED",
    "EXIT_HUNG",
    "RefreshInterrupted",
    "RefreshResult",
    "RefreshTimeout",
    "clock_problem",
    "display_identity",
    "fetch_budget",
    "frame_png",
    "hard_limit",
    "last_push_of",
    "record_frame",
    "refresh",
    "release_on_signals",
    "show",
    "show_on_panel",
    "time_limit",
]
