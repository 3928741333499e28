"""The board's data sources: weather, calendars and special days, each failing alone.

``build_sources(config)`` makes one source per configured provider;
``fetch_all(...)`` runs them in turn with one shared ``requests.Session``
(``make_session``) and returns a ``Snapshot`` per source. A source that fails
(timeout, refused, an HTTP error, malformed JSON or iCalendar, an expired token …)
is logged once with a short, secret-free reason and keeps its last good data and
times; the other sources are not affected, and ``compose()`` marks it stale (or
unavailable) on the frame.

Provider modules are imported when a source of theirs is built: the Google and
CalDAV libraries only when such a calendar is configured, and never by
``homeboard render --demo``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import requests

from homeboard.errors import SourceError, SourceLimitExceeded
from homeboard.model import Snapshot, SourceData
from homeboard.sources.base import Source

if TYPE_CHECKING:
    from homeboard.config import Config

log = logging.getLogger(__name__)


def build_sources(config: Config) -> list[Source]:
    """The sources of ``config``: weather (if enabled), one per calendar, and special days."""
    sources: list[Source] = []
    weather = config.weather
    if weather is not None and weather.enabled:
        if weather.provider == "nws":
            from homeboard.sources.nws import NWSSource

            sources.append(NWSSource.from_config(config))
        else:
            from homeboard.sources.open_meteo import OpenMeteoSource

            sources.append(OpenMeteoSource.from_config(config))
    for cal in config.calendars:
        kind = cal.kind
        if kind == "google":
            from homeboard.sources.google import GoogleCalendarSource

            sources.append(GoogleCalendarSource.from_config(cal, config))
        elif kind == "caldav":
            from homeboard.sources.caldav import CalDAVSource

            sources.append(CalDAVSource.from_config(cal, config))
        else:
            from homeboard.sources.ics import ICSSource

            sources.append(ICSSource.from_config(cal, config))
    from homeboard.sources.special import SpecialDaysSource

    sources.append(SpecialDaysSource.from_config(config))
    return sources


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


def fetch_all(
    sources: Iterable[Source],
    previous: Mapping[str, Snapshot],
    *,
    session: requests.Session,
    now: datetime,
    force: bool = False,
    due_only: bool = True,
) -> dict[str, Snapshot]:
    """Fetch every source in turn; each fails alone. Returns one Snapshot per source.

    A source that is not due (``refresh``) is skipped unless ``force`` (or with
    ``due_only=False``), and its previous snapshot is returned as is (the same
    object). On success: ``fetched_at`` is now, and ``changed_at`` is now only if
    the data differ from the previous data (so "Updated HH:MM" on the frame says
    when the data last changed). On failure: the previous data and times are
    kept, ``last_error`` ("<label>: <reason>") and ``attempted_at`` are set.
    """
    out: dict[str, Snapshot] = {}
    for source in sources:
        prev = previous.get(source.name)
        if prev is not None and not force and due_only and not is_due(source, prev, now):
            out[source.name] = prev
            continue
        out[source.name] = fetch_one(source, prev, session=session, now=now)
    return out


def fetch_one(
    source: Source, prev: Snapshot | None, *, session: requests.Session, now: datetime
) -> Snapshot:
    """Fetch one source; a failure gives the previous snapshot with the error recorded."""
    from homeboard.sources.http import redact

    cut = False
    partial = None
    try:
        data = source.fetch(session=session, now=now)
    except SourceError as exc:
        cut = isinstance(exc, SourceLimitExceeded)
        partial = exc.partial if isinstance(exc, SourceLimitExceeded) else None
        reason = redact(str(exc).strip() or "failed")
    except Exception as exc:  # a bug or a library surprise must not take the board down
        reason = f"unexpected error ({type(exc).__name__})"
        log.debug("%s: unexpected error", source.name, exc_info=True)
    else:
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
    "Source", "build_sources", "fetch_all", "fetch_one", "is_due", "make_session",
    "run_google_auth",
]
