"""When refreshes are due: beat's schedules for one board, and the expiry of their messages.

``BoardCadence`` is the regular interval with optional quiet hours, ``LocalMidnight``
the refresh just after each local midnight; both count real seconds, also across a DST
change. Every entry carries ``expires`` shorter than the quickest interval, so a backlog
built up while the worker was down is dropped, never replayed.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from celery.schedules import BaseSchedule, schedstate

if TYPE_CHECKING:
    from homeboard.config import Config, QuietHours

REFRESH_TASK = "homeboard.refresh"
#: A message is dropped when it waited longer than this share of the interval.
EXPIRES_FRACTION = 0.8


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def real_seconds(start: datetime, end: datetime) -> float:
    """Real seconds from ``start`` to ``end``: aware datetimes sharing a tzinfo subtract as
    wall-clock times, which is an hour off across a DST change."""
    return end.timestamp() - start.timestamp()


def _next_local(now: datetime, at: time, tz: tzinfo) -> datetime:
    """The first local wall-clock ``at`` after ``now`` (today or tomorrow)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tz)
    return candidate


class BoardCadence(BaseSchedule):
    """Every ``interval``; inside the quiet hours (local time) every ``quiet.interval``.

    Switching between the two happens at the window's edges: when the quiet hours end,
    a refresh is due as soon as the day-time interval has passed since the last one.
    A clock that jumped backwards (a Pi without a battery clock) makes a refresh due
    at once instead of waiting for the lost time to come round again.
    """

    def __init__(
        self,
        interval: timedelta,
        quiet: QuietHours | None,
        tz: tzinfo,
        *,
        nowfun: Any = None,
        app: Any = None,
    ) -> None:
        super().__init__(nowfun=nowfun, app=app)
        self.interval = interval
        self.quiet = quiet
        self.zone = tz

    def now(self) -> datetime:
        """The current moment in the board's time zone."""
        return self.nowfun() if self.nowfun else datetime.now(self.zone)

    def interval_at(self, moment: datetime) -> timedelta:
        """The interval in force at ``moment``."""
        local = moment.astimezone(self.zone)
        if self.quiet is not None and self.quiet.covers(local.time().replace(tzinfo=None)):
            return self.quiet.interval
        return self.interval

    def _until_edge(self, now: datetime) -> float:
        """Seconds until the quiet window next opens or closes (inf without one)."""
        if self.quiet is None:
            return math.inf
        edges = (
            _next_local(now, self.quiet.start, self.zone),
            _next_local(now, self.quiet.end, self.zone),
        )
        return max(0.5, min(real_seconds(now, edge) for edge in edges))

    def is_due(self, last_run_at: datetime) -> schedstate:  # type: ignore[override]
        """(due now?, seconds until the next look) given the last run."""
        now = self.now()
        elapsed = real_seconds(_aware(last_run_at, self.zone), now)
        interval = self.interval_at(now).total_seconds()
        edge = self._until_edge(now)
        if elapsed < 0 or elapsed >= interval:
            return schedstate(True, min(interval, edge))
        return schedstate(False, min(interval - elapsed, edge))

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        """Time until the next refresh is due."""
        due, wait = self.is_due(last_run_at)
        return timedelta(0) if due else timedelta(seconds=wait)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BoardCadence):
            return (self.interval, self.quiet, str(self.zone)) == (
                other.interval,
                other.quiet,
                str(other.zone),
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.interval, str(self.zone)))

    def __repr__(self) -> str:
        quiet = ""
        if self.quiet is not None:
            quiet = (
                f", every {self.quiet.interval} from {self.quiet.start:%H:%M}"
                f" to {self.quiet.end:%H:%M}"
            )
        return f"<every {self.interval}{quiet} ({self.zone})>"


class LocalMidnight(BaseSchedule):
    """Once just after each local midnight, so the date on the board is never wrong."""

    def __init__(self, tz: tzinfo, *, nowfun: Any = None, app: Any = None) -> None:
        super().__init__(nowfun=nowfun, app=app)
        self.zone = tz

    def now(self) -> datetime:
        """The current moment in the board's time zone."""
        return self.nowfun() if self.nowfun else datetime.now(self.zone)

    def is_due(self, last_run_at: datetime) -> schedstate:  # type: ignore[override]
        """Due when the local date differs from the last run's."""
        now = self.now()
        wait = max(0.5, real_seconds(now, _next_local(now, time(0), self.zone)))
        last = _aware(last_run_at, self.zone).astimezone(self.zone).date()
        return schedstate(now.astimezone(self.zone).date() != last, wait)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        """Time until the next local midnight."""
        due, wait = self.is_due(last_run_at)
        return timedelta(0) if due else timedelta(seconds=wait)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalMidnight):
            return str(self.zone) == str(other.zone)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self.zone))

    def __repr__(self) -> str:
        return f"<at local midnight ({self.zone})>"


def expires_seconds(config: Config) -> float:
    """How long a refresh message may wait in the queue: shorter than every interval."""
    intervals = [config.schedule.interval]
    if config.schedule.quiet_hours is not None:
        intervals.append(config.schedule.quiet_hours.interval)
    return EXPIRES_FRACTION * min(intervals).total_seconds()


def beat_schedule(config: Config, *, nowfun: Any = None) -> dict[str, dict[str, Any]]:
    """The beat entries: the regular cadence (with quiet hours) and a midnight refresh."""
    expires = expires_seconds(config)
    tz = config.tz
    return {
        "refresh": {
            "task": REFRESH_TASK,
            "schedule": BoardCadence(
                config.schedule.interval, config.schedule.quiet_hours, tz, nowfun=nowfun
            ),
            "kwargs": {"trigger": "schedule"},
            "options": {"expires": expires},
        },
        "midnight": {
            "task": REFRESH_TASK,
            "schedule": LocalMidnight(tz, nowfun=nowfun),
            "kwargs": {"trigger": "midnight"},
            "options": {"expires": expires},
        },
    }


__all__ = [
    "EXPIRES_FRACTION",
    "REFRESH_TASK",
    "BoardCadence",
    "LocalMidnight",
    "beat_schedule",
    "expires_seconds",
    "real_seconds",
]
