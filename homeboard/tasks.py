"""Celery, kept thin: when refreshes run. What a refresh does is ``service.refresh``.

One process runs everything for one board (``homeboard run``): a solo-pool worker
with a concurrency of one, and beat as a thread of that worker (a bootstep), not
``-B``, which would fork a second process. The rules (README.md, "How it stays up for years"):

- no eta, no countdown, no task retries: cadence is beat's job, and a source that
  failed is tried again at the next tick;
- every message carries ``expires`` shorter than its interval, so a backlog built up
  while the worker was busy or down is dropped (and counted), never replayed;
- JSON only, no result backend, prefetch of one, early acknowledgement;
- the broker connection is retried on startup and forever after, with socket
  timeouts and health checks so that a dead connection is noticed;
- nothing depends on ``celery inspect``: the worker runs without remote control,
  and ``homeboard status`` reads the board's own keys;
- a frame held back by ``display.min_interval`` is pushed when it may be: the
  scheduler reads the moment from Redis and sends a refresh then (a timer it owns,
  not an eta message);
- if the scheduler thread ever ends on its own, the process ends too (non-zero), so
  that systemd starts a fresh one instead of a worker that never refreshes again.

Every refresh message goes through ``RefreshTask.apply_async``, which refuses an eta,
a countdown or a missing expiry, whatever the call site wrote.

Every key, the broker's included, is under ``homeboard:{board}:``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time as _time
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from celery import Celery, Task, bootsteps
from celery.beat import Scheduler, Service

from homeboard import exits, service
from homeboard.errors import HomeboardError
from homeboard.exits import EXIT_BEAT_DIED, EXIT_WEDGED
from homeboard.schedules import (
    REFRESH_TASK,
    BoardCadence,
    LocalMidnight,
    beat_schedule,
    expires_seconds,
    real_seconds,
)
from homeboard.store import key_prefix

if TYPE_CHECKING:
    from homeboard.app import App
    from homeboard.config import Config

log = logging.getLogger("homeboard.tasks")

QUEUE = "refresh"
#: Longest wait for the scheduler thread when the service stops.
BEAT_STOP_WAIT = 5.0
#: How long beat waits at most between looks at its schedule (it ticks at least this often).
BEAT_MAX_SLEEP = 1.0
#: Why the worker was told to stop (recorded with its exit status; None: asked to stop).
_stop_detail: str | None = None


class ConsumerWatch:
    """Notices a worker that stopped taking messages from Redis, and makes it reconnect.

    Celery's consumer can lose its Redis connection without noticing: when Redis goes
    away while the solo pool runs a refresh, the acknowledgement that follows fails,
    the connection is dropped from the event loop, and the worker idles forever while
    beat's messages pile up (measured with Celery 5.6.3 and 5.7.0, kombu 5.7.0). The
    beat thread therefore looks at the queue: messages waiting while the worker is idle,
    and still waiting ``NUDGE_AFTER`` seconds later with no refresh taken, mean a wedged
    consumer. It is told to reconnect through its event loop, as a lost connection
    would; if that does not help within ``GIVE_UP_AFTER`` seconds the process exits and
    systemd starts a fresh one.
    """

    NUDGE_AFTER = 3.0
    GIVE_UP_AFTER = 90.0

    def __init__(self, queue_key: str, *, clock: Any = None) -> None:
        self.queue_key = queue_key
        self.clock = clock or _time.monotonic
        self.consumer: Any = None
        self.busy = False
        self.taken = 0  # messages taken: refreshes started or expired messages dropped
        self._seen: tuple[float, int] | None = None  # (when, taken) messages were first seen
        self._nudged_at: float | None = None

    def attach(self, consumer: Any) -> None:
        """Remember the worker's consumer (from ``worker_ready``)."""
        self.consumer = consumer

    def started(self) -> None:
        """A refresh task started."""
        self.busy = True
        self.taken += 1

    def finished(self) -> None:
        """A refresh task ended."""
        self.busy = False
        self._seen = None  # waiting messages are normal right after a long refresh

    def dropped(self) -> None:
        """An expired message was taken and dropped."""
        self.taken += 1

    def check(self, waiting: int) -> str | None:
        """Given the queue length now: None, ``"nudge"`` or ``"give-up"``."""
        now = self.clock()
        if waiting == 0 or self.busy:
            self._seen = None
            self._nudged_at = None
            return None
        if self._seen is None or self._seen[1] != self.taken:
            self._seen = (now, self.taken)
            self._nudged_at = None
            return None
        if now - self._seen[0] < self.NUDGE_AFTER:
            return None
        if self._nudged_at is None:
            self._nudged_at = now
            return "nudge"
        if now - self._nudged_at >= self.GIVE_UP_AFTER:
            return "give-up"
        return None

    def nudge(self) -> bool:
        """Make the consumer reconnect, from its own event loop (thread-safe)."""
        import redis

        hub = getattr(self.consumer, "hub", None)
        if hub is None:
            return False

        def reconnect() -> None:
            # Raised inside the worker's loop, it is handled like any lost connection:
            # the consumer closes its channel, reconnects and consumes again.
            raise redis.ConnectionError("the worker stopped taking messages; reconnecting")

        hub.call_soon(reconnect)
        return True


class RefreshTask(Task):  # type: ignore[misc]
    """The refresh task's class: every message it sends expires and has no eta or countdown.

    A source check (grep) cannot see ``**{"count" "down": 1}``; this sees the options as
    Celery gets them, from beat, the start-up hook, a retry or any later code.
    """

    def apply_async(self, *args: Any, **options: Any) -> Any:
        """Send the refresh, refusing an eta, a countdown or a missing expiry."""
        check_message_options(options)
        return super().apply_async(*args, **options)


def check_message_options(options: dict[str, Any]) -> None:
    """Raise ValueError unless the options carry ``expires`` and no ``eta``/``countdown``."""
    timed = sorted(k for k in ("eta", "countdown") if options.get(k) is not None)
    if timed:
        raise ValueError(
            f"refresh messages never carry {' or '.join(timed)}: cadence is "
            "beat's job (DESIGN.md, rule 1)"
        )
    if not options.get("expires"):
        raise ValueError("every refresh message must carry expires (DESIGN.md, rule 2)")


class BoardScheduler(Scheduler):
    """beat's in-memory scheduler (no shelve file) that publishes its next run to Redis.

    It also owns the deferred-frame timer: when a refresh could not push a changed frame
    because of ``display.min_interval``, it wrote the moment the frame may go
    (``Store.set_deferred``); the scheduler sends one refresh at that moment. An eta
    message would do the same, and would bring every eta gotcha with it.
    """

    #: Seconds between two looks at the queue for a wedged consumer.
    WATCH_EVERY = 1.0

    def __init__(
        self, *args: Any, board_app: App, watch: ConsumerWatch | None = None, **kwargs: Any
    ) -> None:
        self.board_app = board_app
        self.watch = watch
        self._published: datetime | None = None
        self._watched_at = 0.0
        self._send_error: str | None = None
        self._deferred_sent: datetime | None = None
        self._deferred_wait: float | None = None
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        """Only our entries (no result-backend cleanup entry: there is no backend)."""
        self.merge_inplace(self.app.conf.beat_schedule)

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        """Send one due refresh; a failed send is one line, not a traceback per tick.

        Celery logs each failed send with two stack traces; while Redis is away that
        would fill the journal every interval. The tick is simply missed: the next one
        is sent when Redis is back.
        """
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:  # noqa: BLE001 - any send failure is the same to us
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if text != self._send_error:
                log.warning(
                    "could not send the %s refresh (%s); the next tick tries again",
                    entry.name,
                    text,
                )
            else:
                log.debug("could not send the %s refresh", entry.name, exc_info=True)
            self._send_error = text
        else:
            if self._send_error is not None:
                log.info("refreshes are being sent again")
            self._send_error = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """One look at the schedule; then tell ``homeboard status`` when the next run is."""
        delay = super().tick(*args, **kwargs)
        self.send_deferred()
        self.publish_next_run()
        self.watch_consumer()
        return delay

    def deferred_entry(self) -> Any:
        """The entry sent when a deferred frame may be pushed (it expires like the others)."""
        return self.Entry(
            name="deferred",
            task=REFRESH_TASK,
            schedule=None,
            kwargs={"trigger": service.DEFERRED},
            options={"expires": expires_seconds(self.board_app.config)},
            app=self.app,
        )

    def send_deferred(self) -> bool:
        """Send one refresh once the moment of a deferred frame has come; True if sent."""
        import redis

        self._deferred_wait = None
        try:
            when = self.board_app.store().deferred()
        except redis.RedisError:
            return False  # the next tick looks again
        if when is None or when == self._deferred_sent:
            return False
        wait = when.timestamp() - self.board_app.now().timestamp()
        if wait > 0:
            self._deferred_wait = wait
            return False
        self.apply_entry(self.deferred_entry(), producer=self.producer)
        if self._send_error is not None:
            return False  # not sent: the next tick tries again
        self._deferred_sent = when
        return True

    def watch_consumer(self) -> None:
        """Every few seconds, let the ``ConsumerWatch`` look at the queue."""
        import redis

        if self.watch is None or self.watch.consumer is None:
            return
        now = _time.monotonic()
        if now - self._watched_at < self.WATCH_EVERY:
            return
        self._watched_at = now
        try:
            waiting = int(self.board_app.redis().llen(self.watch.queue_key))
        except redis.RedisError:
            waiting = 0  # Redis is away: the worker is reconnecting by itself
        action = self.watch.check(waiting)
        if action == "nudge":
            log.warning(
                "the worker is idle but %d refresh message(s) wait in Redis; reconnecting it",
                waiting,
            )
            self.watch.nudge()
        elif action == "give-up":
            log.critical(
                "the worker still takes no messages from Redis; exiting so that the "
                "service is restarted"
            )
            exits.record_exit(EXIT_WEDGED, f"{waiting} refresh message(s) left waiting in Redis")
            logging.shutdown()
            os._exit(EXIT_WEDGED)

    def publish_next_run(self) -> None:
        """Write the time of the next send to Redis when it changed."""
        import redis

        if not self.schedule:
            return
        now = self.board_app.now()
        soonest = min(entry.is_due()[1] for entry in self.schedule.values())
        if self._deferred_wait is not None:
            soonest = min(soonest, self._deferred_wait)
        when = datetime.fromtimestamp(now.timestamp() + soonest, tz=now.tzinfo)
        if self._published is not None and abs(real_seconds(self._published, when)) < 1:
            return
        try:
            self.board_app.store().set_next_run(when, now=now)
        except redis.RedisError:
            return  # the worker logs the outage; try again at the next tick
        self._published = when


class RefusalFallback(threading.Thread):
    """Runs refreshes itself while Redis answers but refuses writes (MISCONF, OOM).

    Then beat cannot send a message and the worker cannot take one: Celery treats the
    refusal as a lost connection and both retry forever, and the panel would freeze
    (measured with Celery 5.6.3, kombu 5.7.0). When no refresh has run for one and a half
    intervals and a one-key probe says Redis refuses writes, this thread runs one, from
    the data in memory and on disk; the state directory's file lock keeps it apart from
    a refresh of the worker. A new local date is due at once, as the midnight entry is.
    """

    def __init__(self, app: App, *, clock: Any = None) -> None:
        super().__init__(name="refusal-fallback", daemon=True)
        self.app = app
        self.clock = clock or _time.monotonic
        self.last_run = self.clock()
        self.last_date = app.now().astimezone(app.config.tz).date()
        self._stopped = threading.Event()
        schedule = app.config.schedule
        self.cadence = BoardCadence(schedule.interval, schedule.quiet_hours, app.config.tz)

    def ran(self) -> None:
        """A refresh just ended (whoever ran it)."""
        self.last_run = self.clock()
        self.last_date = self.app.now().astimezone(self.app.config.tz).date()

    def period(self) -> float:
        """Seconds between two looks."""
        return max(1.0, min(60.0, self.app.config.schedule.interval.total_seconds() / 2))

    def check(self) -> bool:
        """Run one refresh if none ran for too long and Redis refuses writes; True if run."""
        import redis

        now = self.app.now()
        due = 1.5 * self.cadence.interval_at(now).total_seconds()
        new_day = now.astimezone(self.app.config.tz).date() != self.last_date  # the date turns
        if self.clock() - self.last_run < due and not new_day:
            return False
        try:
            refusal = self.app.store().write_refusal()
        except redis.RedisError:
            return False  # Redis is away altogether: the worker reconnects by itself
        if refusal is None:
            return False
        self.last_run = self.clock()
        try:
            service.refresh(self.app, trigger="fallback")
        except Exception as exc:  # noqa: BLE001 - the next look tries again
            log.error("fallback refresh not run: %s", exc)
        self.ran()
        return True

    def run(self) -> None:
        """Look every ``period()`` seconds until stopped."""
        while not self._stopped.wait(self.period()):
            self.check()

    def stop(self) -> None:
        """Stop looking."""
        self._stopped.set()


class BeatThread(threading.Thread):
    """beat's service in a thread of the worker; if it ends on its own, the worker ends too.

    Celery's own threaded beat just dies with a traceback when its scheduler raises (seen
    with a malformed ``redis_url``), and the worker lives on without ever refreshing again.
    Here the worker is told to stop with ``EXIT_BEAT_DIED`` (after a running refresh ends,
    which is bounded by its hard limit); if it has not stopped by then, the process exits.
    """

    def __init__(self, app: Any, *, grace: float, scheduler_cls: Any) -> None:
        super().__init__(name="Beat", daemon=True)
        self.app = app
        self.grace = grace
        self.service = Service(app, max_interval=BEAT_MAX_SLEEP, scheduler_cls=scheduler_cls)
        self._stopping = False

    def run(self) -> None:
        """Run beat; report its end unless the worker asked for it."""
        error: BaseException | None = None
        try:
            self.app.set_current()
            self.service.start()
        except BaseException as exc:  # noqa: BLE001 - any end of the scheduler is fatal
            error = exc
        if not self._stopping:
            beat_died(error, grace=self.grace)

    def stop(self) -> None:
        """Stop beat (the worker is shutting down), waiting a few seconds at most.

        beat may be stuck retrying a broker that refuses writes; its schedule lives in
        memory, so there is nothing to save and the shutdown must not wait for it.
        """
        self._stopping = True
        self.service.stop(wait=False)
        if self.is_alive() and self is not threading.current_thread():
            self.join(BEAT_STOP_WAIT)


def beat_died(error: BaseException | None, *, grace: float) -> None:
    """The scheduler ended: make the worker exit non-zero so that systemd restarts it."""
    from celery.worker import state

    why = f"{type(error).__name__}: {error}".splitlines()[0] if error is not None else "it returned"
    log.critical(
        "the scheduler (beat) stopped (%s); ending the service so that it is restarted (exit %d)",
        why,
        EXIT_BEAT_DIED,
    )
    global _stop_detail
    _stop_detail = why  # recorded with the exit status when the worker has stopped
    state.should_stop = EXIT_BEAT_DIED  # the worker leaves its loop with this exit status

    def end_now() -> None:
        log.critical("the worker did not stop within %g s; exiting", grace)
        exits.record_exit(EXIT_BEAT_DIED, why)
        logging.shutdown()
        os._exit(EXIT_BEAT_DIED)

    timer = threading.Timer(grace, end_now)
    timer.daemon = True
    timer.start()


class ThreadedBeat(bootsteps.StartStopStep):
    """Runs beat as a thread of the worker process (``-B`` would fork a second process)."""

    label = "Beat (thread)"

    def create(self, parent: Any) -> Any:
        """Build the threaded beat service with the board's scheduler."""
        board_app = getattr(parent.app, "homeboard_app", None)
        grace = 30.0
        if board_app is not None:
            grace += service.hard_limit(board_app.config.schedule)
        return BeatThread(parent.app, grace=grace, scheduler_cls=parent.app.conf.beat_scheduler)


# --------------------------------------------------------------------------- the app


def celery_settings(config: Config) -> dict[str, Any]:
    """Celery's settings for one board (pure: tests read them)."""
    from homeboard.app import broker_url

    prefix = key_prefix(config.board)
    return {
        "broker_url": broker_url(config.redis_url),
        # Start before Redis and outlive its restarts: retry on startup and forever after.
        "broker_connection_retry": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_channel_error_retry": True,
        "broker_transport_options": {
            "global_keyprefix": prefix,
            # A dead or wedged Redis is noticed within seconds instead of never.
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
            "socket_keepalive": True,
            "health_check_interval": 10,
        },
        "broker_pool_limit": 2,
        "task_default_queue": QUEUE,
        "task_create_missing_queues": True,
        # JSON only, no results.
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "result_expires": None,
        "task_store_errors_even_if_ignored": False,
        # One refresh at a time, acknowledged when it starts; nothing held back.
        "task_acks_late": False,
        "task_reject_on_worker_lost": False,
        # Only acks_late tasks are affected (we have none); set to the 6.0 default.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": 1,
        "worker_pool": "solo",
        # A refused publish gives up within a second or two; beat tries again next tick.
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        # No remote control (no inspect), no events, no gossip: one node, its own status keys.
        "worker_enable_remote_control": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        # Our CLI configures logging; Celery must not take over the root logger or stdout.
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "timezone": config.timezone,
        "enable_utc": True,
        "beat_schedule": beat_schedule(config),
        "beat_max_loop_interval": BEAT_MAX_SLEEP,
    }


def create_celery(app: App) -> Celery:
    """The Celery app of one board, with its refresh task and signal hooks."""
    config = app.config
    celery = Celery(f"homeboard-{config.board}", set_as_current=False, fixups=[])
    celery.conf.update(celery_settings(config))
    watch = ConsumerWatch(key_prefix(config.board) + QUEUE)
    fallback = RefusalFallback(app)
    celery.conf.beat_scheduler = partial(BoardScheduler, board_app=app, watch=watch)
    expires = expires_seconds(config)

    @celery.task(name=REFRESH_TASK, ignore_result=True, acks_late=False, base=RefreshTask)
    def refresh_task(trigger: str = "schedule", force: bool = False) -> str:
        """Refresh the board (see ``homeboard.service.refresh``)."""
        watch.started()
        try:
            return service.refresh(app, force=bool(force), trigger=str(trigger)).outcome
        except HomeboardError as exc:
            log.error("refresh not run: %s", exc)
            return "failed"
        finally:
            watch.finished()
            fallback.ran()

    def on_ready(sender: Any = None, **_: Any) -> None:
        # A refresh as soon as the worker is ready, so the panel is current soon after
        # a boot or a crash; the message expires like any other.
        if getattr(sender, "app", None) is not celery:
            return
        watch.attach(sender)
        try:
            refresh_task.apply_async(kwargs={"trigger": "start"}, expires=expires)
        except Exception as exc:  # noqa: BLE001 - a lost start refresh waits for the next tick
            log.warning("could not queue the start-up refresh: %s", exc)

    def on_revoked(
        sender: Any = None, request: Any = None, expired: bool = False, **_: Any
    ) -> None:
        if not expired:
            return
        import redis

        watch.dropped()
        log.info("dropped a refresh that waited longer than %.3g s in the queue", expires)
        try:
            app.store().incr("expired")
        except redis.RedisError:
            pass

    from celery import signals

    # Weak references by default: the handlers live as long as this Celery app does.
    celery.homeboard_hooks = (on_ready, on_revoked)  # type: ignore[attr-defined]
    celery.homeboard_watch = watch  # type: ignore[attr-defined]
    celery.homeboard_app = app  # type: ignore[attr-defined]
    celery.homeboard_fallback = fallback  # type: ignore[attr-defined]
    signals.worker_ready.connect(on_ready)
    signals.task_revoked.connect(on_revoked, sender=refresh_task)
    celery.steps["worker"].add(ThreadedBeat)
    return celery


def tune_malloc() -> bool:
    """Keep glibc from hoarding freed memory in a process that runs for years.

    Each refresh allocates and frees frame-sized buffers (hundreds of KB), and beat runs
    in a second thread. With glibc's defaults the mmap threshold creeps up after the
    first such free and each thread gets its own arena, so freed buffers stay in the
    process. A fixed threshold and two arenas measured 3.4 MB less PSS after 100
    refreshes (56.3 against 59.7 MB). A no-op off glibc.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_mmap_threshold, m_arena_max = -3, -8  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 128 * 1024)) and bool(mallopt(m_arena_max, 2))


def run_worker(app: App, *, loglevel: str = "INFO") -> int:
    """Run the service until it is stopped: solo worker, beat thread, one process."""
    from homeboard.app import safe_url

    config = app.config
    tune_malloc()
    celery = create_celery(app)
    quiet = config.schedule.quiet_hours
    log.info(
        "service starting: board %s, Redis %s, every %s%s, display %s",
        config.board,
        safe_url(config.redis_url),
        config.schedule.interval,
        f" ({quiet.interval} from {quiet.start:%H:%M} to {quiet.end:%H:%M})" if quiet else "",
        config.display.driver,
    )
    worker = celery.Worker(
        hostname=f"homeboard-{config.board}@{socket.gethostname()}",
        pool_cls="solo",
        concurrency=1,
        loglevel=loglevel,
        quiet=True,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        optimization="fair",
    )
    if loglevel != "DEBUG":
        # One line per refresh is ours; Celery's per-message lines (received, succeeded,
        # sent, discarded) would triple the journal over the years. Warnings still show.
        for name in (
            "celery.app.trace",
            "celery.worker.strategy",
            "celery.worker.request",
            "celery.beat",
        ):
            logging.getLogger(name).setLevel(logging.WARNING)
    fallback = celery.homeboard_fallback  # type: ignore[attr-defined]
    disk = app.disk()
    # The reason goes to the state directory: `homeboard status` says it even when systemd
    # is not there to, and whatever became of Redis (often the very reason).
    exits.set_recorder(
        lambda code, reason, detail: disk.save_exit(app.now(), code, reason, _clean(detail))
    )
    fallback.start()
    try:
        worker.start()
    except Exception as exc:
        exits.record_exit(1, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        fallback.stop()
    code = int(worker.exitcode or 0)
    exits.record_exit(code, _stop_detail if code == EXIT_BEAT_DIED else None)
    return code


def _clean(detail: str | None) -> str | None:
    """A recorded detail: its first line, secrets masked, at most 300 characters."""
    from homeboard.sources.http import redact

    if not detail:
        return None
    line = detail.strip().splitlines()[0] if detail.strip() else ""
    return redact(line)[:300] or None


# --------------------------------------------------------------------------- asking for a refresh


def refresh_sender(config: Config) -> Celery:
    """A Celery app that only sends refreshes to the service (no worker, no beat, no hooks).

    For processes other than the service (``homeboard web``): the same broker, queue,
    key prefix and serializer as the worker, so the message is exactly beat's.
    """
    celery = Celery(f"homeboard-{config.board}-sender", set_as_current=False, fixups=[])
    celery.conf.update(celery_settings(config))
    return celery


def send_refresh(celery: Celery, config: Config, *, trigger: str) -> None:
    """Send one refresh through the broker as beat does: same task, same ``expires``.

    Never an eta or a countdown; the task takes the panel's lock like every refresh,
    and a message the worker cannot take in time expires instead of piling up.
    """
    entry = beat_schedule(config)["refresh"]
    celery.send_task(entry["task"], kwargs={**entry["kwargs"], "trigger": trigger},
                     **entry["options"])


__all__ = [
    "EXIT_BEAT_DIED",
    "EXIT_WEDGED",
    "QUEUE",
    "REFRESH_TASK",
    "BeatThread",
    "BoardCadence",
    "BoardScheduler",
    "ConsumerWatch",
    "LocalMidnight",
    "RefreshTask",
    "RefusalFallback",
    "ThreadedBeat",
    "beat_died",
    "beat_schedule",
    "celery_settings",
    "check_message_options",
    "create_celery",
    "expires_seconds",
    "refresh_sender",
    "run_worker",
    "send_refresh",
    "tune_malloc",
]
