"""The board's data sources: weather, calendars and special days, each failing alone.

``build_sources(config)`` makes one source per configured provider;
``fetch_all(...)`` runs them in turn with one shared ``requests.Session``
(``make_session``) and returns a ``Snapshot`` per source. A source that fails
(timeout, refused, an HTTP error, malformed JSON or iCalendar, an expired token,
past its deadline or its byte caps …) is logged once with a short, secret-free
reason and keeps its last good data and times; the other sources are not affected,
and ``compose()`` marks it stale (or unavailable) on the frame.

Each fetch runs in a worker thread under its own wall-clock deadline (``deadline``
setting, default 60 s): the HTTP reader and the parsers stop themselves at the
deadline (``check_deadline``), and should one not, the caller stops waiting for it a
few seconds later and the abandoned thread's result is thrown away.

Provider modules are imported when a source of theirs is built: the Google and
CalDAV libraries only when such a calendar is configured, and never by
``homeboard render --demo``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import requests

from homeboard.errors import SourceError, SourceLimitExceeded
from homeboard.model import Snapshot, SourceData
from homeboard.sources.base import (
    Source,
    check_deadline,
    deadline_for,
    deadline_message,
    fetch_scope,
    limits_for,
)

if TYPE_CHECKING:
    from homeboard.config import Config

log = logging.getLogger(__name__)


def build_sources(config: Config) -> list[Source]:
    """The sources of ``config``: weather (if enabled), one per calendar, special days, holidays."""
    sources: list[Source] = []
    weather = config.weather
    if weather is not None and weather.enabled:
        if weather.provider == "nws":
            from homeboard.sources.nws import NWSSource

            sources.append(_with_deadline(NWSSource.from_config(config), weather.deadline))
        else:
            from homeboard.sources.open_meteo import OpenMeteoSource

            sources.append(_with_deadline(OpenMeteoSource.from_config(config), weather.deadline))
    for cal in config.calendars:
        kind = cal.kind
        source: Source
        if kind == "google":
            from homeboard.sources.google import GoogleCalendarSource

            source = GoogleCalendarSource.from_config(cal, config)
        elif kind == "caldav":
            from homeboard.sources.caldav import CalDAVSource

            source = CalDAVSource.from_config(cal, config)
        else:
            from homeboard.sources.ics import ICSSource

            source = ICSSource.from_config(cal, config)
        sources.append(_with_deadline(source, cal.deadline))
    from homeboard.sources.special import HolidaysSource, SpecialDaysSource

    sources.append(SpecialDaysSource.from_config(config))
    if config.holidays is not None:
        sources.append(HolidaysSource.from_config(config))
    return sources


def _with_deadline(source: Source, deadline: timedelta) -> Source:
    """``source`` with its configured ``deadline`` (read by ``fetch_one``)."""
    source.deadline = deadline  # type: ignore[attr-defined]
    return source


def make_session(config: Config | None = None) -> requests.Session:
    """The HTTP session of one refresh: product User-Agent, bounded retries (see ``http``).

    Timeouts are per request, from each source's ``timeout`` setting.
    """
    from homeboard.sources.http import build_session

    return build_session()


def is_due(source: Source, previous: Snapshot | None, now: datetime) -> bool:
    """True unless the source's last success is younger than its own ``refresh`` interval."""
    refresh = getattr(source, "refresh", None)
    if refresh is None or previous is None or previous.fetched_at is None:
        return True
    age = now - previous.fetched_at
    # A fetch time in the future (the clock was set back) counts as due, not as fresh.
    return age < timedelta(0) or age >= refresh


# How long past its deadline a fetch that ignores it is still waited for: at most
# this, and at most half its deadline, so that a fetch cut by the refresh's budget
# (60 % of refresh_timeout) still ends well before refresh_timeout.
DEADLINE_GRACE = 5.0


#: Kinds of source that need no network: fetched first, whatever the budget.
LOCAL_KINDS = frozenset({"special", "holidays"})


def fetch_all(
    sources: Iterable[Source],
    previous: Mapping[str, Snapshot],
    *,
    session: requests.Session,
    now: datetime,
    force: bool = False,
    due_only: bool = True,
    budget: float | None = None,
) -> dict[str, Snapshot]:
    """Fetch every source in turn; each fails alone. Returns one Snapshot per source.

    A source that is not due (``refresh``) is skipped unless ``force`` (or with
    ``due_only=False``), and its previous snapshot is returned as is (the same
    object). On success: ``fetched_at`` is now, and ``changed_at`` is now only if
    the data differ from the previous data (so "Updated HH:MM" on the frame says
    when the data last changed). On failure: the previous data and times are
    kept, ``last_error`` ("<label>: <reason>") and ``attempted_at`` are set.

    ``budget`` (seconds) bounds the whole fetch: no source's deadline reaches past
    it, and a source whose turn comes after it is spent fails ("no time left"), so
    that the refresh still saves and draws what the others brought.
    """
    sources = list(sources)
    got: dict[str, Snapshot] = {}
    ends_at = None if budget is None else time.monotonic() + budget
    # Sources computed on this machine (special days, holidays) go first: they take
    # milliseconds, and slow network sources must not spend the budget they need.
    for source in sorted(sources, key=lambda s: s.kind not in LOCAL_KINDS):
        prev = previous.get(source.name)
        if prev is not None and not force and due_only and not is_due(source, prev, now):
            got[source.name] = prev
            continue
        left = None if ends_at is None else ends_at - time.monotonic()
        got[source.name] = fetch_one(source, prev, session=session, now=now, budget=left)
    return {source.name: got[source.name] for source in sources}


@dataclass
class _Outcome:
    """What a fetch's worker thread hands back (nothing, if it was abandoned)."""

    data: SourceData | None = None
    error: BaseException | None = None


def _run_bounded(source: Source, *, session: requests.Session, now: datetime,
                 seconds: float) -> _Outcome | None:
    """Run ``source.fetch`` in a worker thread under a ``seconds`` deadline.

    None when the worker did not finish within the deadline and its grace: it is
    abandoned (a daemon thread), and whatever it returns later goes nowhere.
    """
    outcome = _Outcome()
    limits = limits_for(source)

    def work() -> None:
        try:
            with fetch_scope(seconds, limits):
                outcome.data = source.fetch(session=session, now=now)
                check_deadline()  # late data count as a failure, as they would with a timer
        except BaseException as exc:  # handed to the caller, who decides
            outcome.error = exc

    context = contextvars.copy_context()  # the caller's log redaction and such
    worker = threading.Thread(target=context.run, args=(work,), daemon=True,
                              name=f"fetch {source.name}")
    worker.start()
    worker.join(seconds + min(DEADLINE_GRACE, seconds / 2))
    if worker.is_alive():
        return None
    return outcome


def fetch_one(
    source: Source, prev: Snapshot | None, *, session: requests.Session, now: datetime,
    budget: float | None = None,
) -> Snapshot:
    """Fetch one source; a failure gives the previous snapshot with the error recorded.

    The fetch gets the source's deadline (or ``budget`` seconds, if less); past it,
    it fails like any other failure, marked cut.
    """
    from homeboard.sources.http import redact

    cut = False
    partial = None
    seconds = deadline_for(source)
    if budget is not None:
        seconds = min(seconds, budget)
    if seconds <= 0:
        outcome: _Outcome | None = _Outcome(error=SourceError("no time left in this refresh"))
    else:
        outcome = _run_bounded(source, session=session, now=now, seconds=seconds)
    if outcome is None:
        cut = True
        reason = deadline_message(seconds)
    elif isinstance(outcome.error, SourceError):
        cut = isinstance(outcome.error, SourceLimitExceeded)
        if isinstance(outcome.error, SourceLimitExceeded):
            partial = outcome.error.partial
        reason = redact(str(outcome.error).strip() or "failed")
    elif isinstance(outcome.error, Exception):
        # a bug or a library surprise must not take the board down
        reason = f"unexpected error ({type(outcome.error).__name__})"
        log.debug("%s: unexpected error", source.name, exc_info=outcome.error)
    elif outcome.error is not None:
        raise outcome.error  # a refresh timeout, an interrupt: not the source's failure
    else:
        data = outcome.data
        if prev is not None and prev.data == data and prev.changed_at is not None:
            changed_at = prev.changed_at
        else:
            changed_at = now
        if prev is not None and prev.last_error:
            log.info("%s: recovered", source.name)
        return Snapshot(name=source.name, kind=source.kind, data=data, fetched_at=now,
                        changed_at=changed_at, last_error=None, attempted_at=now)

    message = f"{source.label}: {reason}"
    if partial is not None:
        # Cut to what the board can show (e.g. the events a day can list): that is
        # fresh data, and the frame says it was cut.
        if prev is None or prev.last_error != message:
            log.warning("%s cut: %s", source.name, reason)
        changed_at = now
        if prev is not None and prev.data == partial and prev.changed_at is not None:
            changed_at = prev.changed_at
        return Snapshot(name=source.name, kind=source.kind, data=cast(SourceData, partial),
                        fetched_at=now, changed_at=changed_at, last_error=message,
                        attempted_at=now, cut=True)
    # Logged once: a failure that goes on with the same reason is not repeated as a
    # warning every refresh (it stays visible in `homeboard status` and on the frame).
    repeated = prev is not None and prev.last_error == message
    log.log(logging.INFO if repeated else logging.WARNING, "%s failed: %s",
            source.name, reason)
    return Snapshot(
        name=source.name,
        kind=source.kind,
        data=prev.data if prev is not None else None,
        fetched_at=prev.fetched_at if prev is not None else None,
        changed_at=prev.changed_at if prev is not None else None,
        last_error=message,
        attempted_at=now,
        cut=cut,
    )


def run_google_auth(config: Config, calendar_name: str, **kwargs: object) -> object:
    """Connect a Google calendar (see ``homeboard.sources.google.run_google_auth``)."""
    from homeboard.sources.google import run_google_auth as run

    return run(config, calendar_name, **kwargs)  # type: ignore[arg-type]


__all__ = [
    "DEADLINE_GRACE", "Source", "build_sources", "check_deadline", "fetch_all", "fetch_one",
    "is_due", "make_session", "run_google_auth",
]
