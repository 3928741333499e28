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
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeboard.app import RedisUnavailable, safe_url
from homeboard.errors import DisplayError
from homeboard.store import PushRecord, RefreshRecord

if TYPE_CHECKING:
    from homeboard.app import App
    from homeboard.config import Config, Schedule
    from homeboard.model import BoardState, Snapshot
    from homeboard.store import Outcome, Store

log = logging.getLogger("homeboard.refresh")

#: Exit status of a process whose refresh could not be stopped (systemd restarts it).
EXIT_HUNG = 70
#: Most time given to a stopped refresh to unwind before the watchdog ends the process.
HARD_GRACE_MAX = 30.0
#: Share of ``schedule.refresh_timeout`` that fetching all sources may take.
FETCH_SHARE = 0.6


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
    log.critical("refresh still running %g s after it started and did not stop; exiting so "
                 "the service is restarted (the lock expires by itself)", hard)
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


def refresh(app: App, *, force: bool = False, trigger: str = "schedule") -> RefreshResult:
    """Run one refresh cycle now, unless another one holds the lock (then record a skip).

    ``force`` fetches every source whatever its own interval and pushes the frame even
    if it is unchanged. Raises ``RedisUnavailable`` only when the lock cannot even be
    asked for; every other failure is recorded and returned as outcome ``failed``.
    """
    import redis

    config = app.config
    schedule = config.schedule
    started = app.now()
    store, lock, acquired = _try_lock(app)
    if not acquired:
        record = RefreshRecord(started_at=started, ended_at=app.now(), outcome="skipped-locked",
                               trigger=trigger)
        with contextlib.suppress(redis.RedisError):
            store.end_refresh(record)
        log.info("refresh skipped-locked (%s): another refresh holds the lock", trigger)
        return RefreshResult(record, "another refresh is running")

    result: RefreshResult | None = None
    push: PushRecord | None = None
    try:
        try:
            store.begin_refresh(started, trigger=trigger, ttl=schedule.lock_timeout)
            with time_limit(schedule.refresh_timeout.total_seconds(), hard=hard_limit(schedule)):
                result, push = _cycle(app, store, started=started, force=force, trigger=trigger)
        except (Exception, RefreshTimeout) as exc:
            error = _error_text(exc)
            record = RefreshRecord(started_at=started, ended_at=app.now(), outcome="failed",
                                   trigger=trigger, error=error)
            result = RefreshResult(record, error)
            if not isinstance(exc, (RefreshTimeout, redis.RedisError, DisplayError)):
                log.debug("refresh failed", exc_info=True)
        try:
            store.end_refresh(result.record, push=push)
        except redis.RedisError as exc:
            log.warning("could not record the refresh in Redis: %s", _error_text(exc))
    finally:
        _release(lock)
    _log_result(result)
    return result


def _try_lock(app: App) -> tuple[Store, Any, bool]:
    """Ask for the panel's lock without waiting: (store, lock, acquired)."""
    import redis

    try:
        store = app.store()
        lock = store.lock(app.config.schedule.lock_timeout)
        return store, lock, bool(lock.acquire(blocking=False))
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"Redis at {safe_url(app.config.redis_url)} did not answer ({_error_text(exc)}); "
            "is redis-server running?"
        ) from None


def _release(lock: Any) -> None:
    """Release our own lock; if it expired or Redis lost it, there is nothing to release."""
    import redis
    from redis.exceptions import LockError

    try:
        lock.release()
    except LockError:
        log.warning("the refresh lock had already expired (schedule.lock_timeout too short?)")
    except redis.RedisError as exc:
        log.warning("could not release the refresh lock (it expires by itself): %s",
                    _error_text(exc))


def _log_result(result: RefreshResult) -> None:
    """The one line per refresh: outcome, trigger, durations, each source's status."""
    rec = result.record
    total = rec.duration
    if rec.outcome == "failed":
        log.error("refresh failed (%s) after %.2f s: %s", rec.trigger, total, rec.error)
        return
    line = (f"refresh {rec.outcome} ({rec.trigger}) in {total:.2f} s: fetch {rec.fetch_s:.2f} s, "
            f"render {rec.render_s:.2f} s, push {rec.push_s:.2f} s")
    if result.state is not None and result.state.sources:
        line += "; " + ", ".join(f"{s.name} {s.status}" for s in result.state.sources)
    log.info("%s; %s", line, result.detail)


def _cycle(
    app: App, store: Store, *, started: datetime, force: bool, trigger: str,
) -> tuple[RefreshResult, PushRecord | None]:
    """Fetch, cache, compose, render and (maybe) push; the caller holds the lock."""
    import drivers
    from homeboard.model import compose
    from homeboard.render import render
    from homeboard.sources import fetch_all

    config = app.config
    t0 = time.monotonic()
    previous = store.load_snapshots()
    sources = app.sources()
    with app.session() as session:
        # Sources get at most this share of refresh_timeout, each within its own deadline:
        # what is left always saves, draws and pushes what the others brought.
        budget = config.schedule.refresh_timeout.total_seconds() * FETCH_SHARE
        fetched = fetch_all(sources, previous, session=session, now=app.now(), force=force,
                            budget=budget)
    snapshots: dict[str, Snapshot] = {**previous, **fetched}
    changed = {name: snap for name, snap in fetched.items() if previous.get(name) is not snap}
    store.save_snapshots(changed, keep=[s.name for s in sources])
    t1 = time.monotonic()

    now = app.now()
    state = compose(config, snapshots, now)
    panel = drivers.PANELS[config.display.panel]
    image = render(state, panel, orientation=config.layout.orientation)
    packed = drivers.pack(image, panel)
    sha = hashlib.sha256(packed).hexdigest()
    t2 = time.monotonic()

    last = store.last_push()
    identity = display_identity(config)
    if last is not None and last.display not in (None, identity):
        # Another display got the last frame (the mock, before the panel was wired):
        # this one has never shown it.
        last = None
    decision = drivers.decide_push(
        sha256=sha, now=now,
        last_sha256=last.sha256 if last else None, last_push_at=last.at if last else None,
        min_interval=config.display.effective_min_interval, force=force,
    )
    push: PushRecord | None = None
    outcome: Outcome
    if decision.outcome == "push":
        shown = show(app, packed)
        push = PushRecord(sha256=shown, at=app.now(), display=identity)
        outcome = "pushed"
    else:
        outcome = "unchanged" if decision.outcome == "unchanged" else "deferred"
    t3 = time.monotonic()
    record = RefreshRecord(
        started_at=started, ended_at=app.now(), outcome=outcome, trigger=trigger,
        fetch_s=_seconds(t0, t1), render_s=_seconds(t1, t2), push_s=_seconds(t2, t3),
        sha256=sha,
    )
    return RefreshResult(record, decision.reason, state), push


def display_identity(config: Config) -> str:
    """Which display a push went to: the driver and panel, and the mock's folder."""
    display = config.display
    if display.driver == "mock":
        return f"mock:{display.panel}:{display.output_dir}"
    return display.driver


def show(app: App, packed: bytes) -> str:
    """Push one packed frame to the configured display (opened and closed around it)."""
    import drivers

    try:
        with app.open_display() as display:
            return display.show_packed(packed)
    except drivers.DisplayError as exc:
        raise DisplayError(str(exc)) from exc


def show_on_panel(app: App, what: str) -> RefreshResult:
    """``homeboard display test|clear``: draw the test pattern or clear, under the lock.

    The panel then shows something other than the board, so the record of the last
    push is replaced and the next refresh draws the board again.
    """

    import drivers

    config = app.config
    started = app.now()
    store, lock, acquired = _try_lock(app)
    if not acquired:
        record = RefreshRecord(started_at=started, ended_at=app.now(), outcome="skipped-locked",
                               trigger=f"display-{what}")
        return RefreshResult(record, "a refresh is running; try again in a minute")
    try:
        with time_limit(config.schedule.refresh_timeout.total_seconds(),
                        hard=hard_limit(config.schedule)):
            t0 = time.monotonic()
            try:
                with app.open_display() as display:
                    if what == "test":
                        sha = display.show(drivers.test_pattern(config.display.panel))
                    else:
                        sha = display.clear()
            except drivers.DisplayError as exc:
                raise DisplayError(str(exc)) from exc
        # Not the board's frame: remember what is shown so the next refresh replaces it.
        store.save_push(PushRecord(sha256=sha, at=app.now(), display=display_identity(config)))
        record = RefreshRecord(started_at=started, ended_at=app.now(), outcome="pushed",
                               trigger=f"display-{what}", push_s=time.monotonic() - t0,
                               sha256=sha)
        return RefreshResult(record, "test pattern shown" if what == "test" else "panel cleared")
    finally:
        _release(lock)


__all__ = ["EXIT_HUNG", "RefreshResult", "RefreshTimeout", "display_identity", "hard_limit",
           "refresh", "show",
           "show_on_panel", "time_limit"]
