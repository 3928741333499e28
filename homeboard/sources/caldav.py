"""Calendars on a CalDAV server (Nextcloud, Fastmail, iCloud, Radicale …), via the caldav package.

The caldav package finds the calendars (principal → calendar home → calendars,
done once and cached) and runs one time-range ``REPORT`` per calendar at each
refresh; the events it returns are expanded by recurring-ical-events exactly as an
ICS feed is (RRULE, RDATE, EXDATE, RECURRENCE-ID, VTIMEZONE, X-WR-TIMEZONE), and
all-day events stay local dates.

``caldav.url`` may name the server (every calendar of the account is shown, or the
one named by ``caldav.calendar``) or one calendar collection (only that one).
The caldav package is imported only when a CalDAV calendar is fetched; its
requests go through the board's shared session, so they get the same timeouts,
retries and User-Agent as every other source.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from requests.auth import HTTPBasicAuth

from homeboard.errors import MissingDependency, SourceError, SourceLimitExceeded
from homeboard.model import CalendarEvent, SourceKind, calendar_source
from homeboard.sources import http
from homeboard.sources.base import read_secret
from homeboard.sources.events import (
    DEFAULT_LIMITS,
    QUERY_MARGIN,
    Budget,
    Limits,
    expand_ics,
    keep_drawable,
    window_for,
)

if TYPE_CHECKING:
    from homeboard.config import CalendarConfig, Config

log = logging.getLogger(__name__)


def _canonical(url: str) -> str:
    return str(url).rstrip("/")


class CalDAVSource:
    """Events of one or more calendars on a CalDAV server."""

    kind: SourceKind = "calendar"

    def __init__(
        self,
        *,
        name: str,
        url: str,
        tz: tzinfo,
        days: int,
        label: str | None = None,
        username: str | None = None,
        password_file: Path | None = None,
        calendar: str | None = None,
        timeout: timedelta | float | None = None,
        refresh: timedelta | None = None,
    ) -> None:
        self.name = calendar_source(name)
        self.calendar = name
        self.label = label or name
        self.url = url
        self.tz = tz
        self.days = days
        self.username = username
        self.password_file = password_file
        self.server_calendar = calendar
        self.timeout = http.timeouts(timeout, default=20.0)
        self.refresh = refresh
        self._calendar_urls: list[str] | None = None  # discovered once, redone on 404
        self.expansion: Limits = DEFAULT_LIMITS  # what expanding one fetch may cost

    @classmethod
    def from_config(cls, cal: CalendarConfig, config: Config) -> CalDAVSource:
        """The source for CalDAV calendar ``cal`` of ``config``."""
        assert cal.caldav is not None
        return cls(
            name=cal.name, label=cal.label, url=cal.caldav.url, tz=config.tz,
            days=config.layout.days, username=cal.caldav.username,
            password_file=cal.caldav.password_file, calendar=cal.caldav.calendar,
            timeout=cal.timeout, refresh=cal.refresh,
        )

    def __repr__(self) -> str:
        return f"CalDAVSource({self.calendar!r}, {http.redact_url(self.url)!r})"

    def _client(self, session: requests.Session, password: str | None) -> Any:
        try:
            import caldav
        except ImportError:
            raise SourceError(str(MissingDependency("caldav", "caldav"))) from None
        # Basic auth up front: without it the caldav package first sends every request
        # unauthenticated and repeats it after the 401, doubling the requests.
        auth = HTTPBasicAuth(self.username, password or "") if self.username else None
        client = caldav.DAVClient(url=self.url, auth=auth, timeout=self.timeout,  # type: ignore[arg-type]
                                  headers={"User-Agent": http.USER_AGENT})
        client.session = session  # the shared session: its retries and connection pool
        return client

    def _discover(self, client: Any) -> list[str]:
        if self._calendar_urls is not None:
            return self._calendar_urls
        calendars = client.principal().calendars()
        wanted = _canonical(self.url)
        by_url = [c for c in calendars if _canonical(c.url) == wanted]
        if self.server_calendar is not None:
            chosen = [c for c in calendars if (c.name or "") == self.server_calendar]
            if not chosen:
                names = ", ".join(sorted(str(c.name) for c in calendars if c.name)) or "none"
                raise SourceError(f"no calendar named {self.server_calendar!r} on the server"
                                  f" (found: {names[:120]})")
        elif by_url:
            chosen = by_url  # the URL names one calendar collection
        else:
            chosen = calendars
        self._calendar_urls = [str(c.url) for c in chosen]
        return self._calendar_urls

    def fetch(self, *, session: requests.Session, now: datetime) -> tuple[CalendarEvent, ...]:
        """One REPORT per calendar (after discovery); the events on the board's days."""
        password = read_secret(self.password_file, "the CalDAV password file")
        window = window_for(now, self.tz, self.days)
        try:
            client = self._client(session, password)
            urls = self._discover(client)
            events: list[CalendarEvent] = []
            budget = Budget(self.expansion)
            cut_before = 0
            for url in urls:
                objects = client.calendar(url=url).search(
                    start=window.start - QUERY_MARGIN, end=window.end + QUERY_MARGIN,
                    event=True,
                )
                for obj in objects:
                    data = obj.data
                    if not data:
                        continue
                    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
                    try:
                        found, dropped = expand_ics(raw, calendar=self.calendar, window=window,
                                                    budget=budget)
                    except SourceLimitExceeded:
                        raise  # the whole calendar is past a cap: its last good data stays
                    except SourceError:
                        # One broken event must not hide the rest of the calendar.
                        log.info("%s: skipped an unreadable event", self.label)
                        continue
                    events.extend(found)
                    cut_before += dropped
        except SourceError:
            raise
        except Exception as exc:
            reason = describe_caldav_error(exc)
            if reason.startswith(("HTTP 404", "calendar not found")):
                self._calendar_urls = None  # moved or deleted: discover again next time
            raise SourceError(reason) from None
        # At most what a day can list (more raises SourceLimitExceeded with what is kept).
        return keep_drawable(set(events), window, per_day=budget.limits.per_day,
                             dropped=cut_before)


_STATUS_RE = re.compile(r"^\s*(\d{3})\b")


def describe_caldav_error(exc: BaseException) -> str:
    """A short, secret-free reason for a caldav or network failure."""
    if isinstance(exc, (requests.RequestException, OSError)):
        return http.describe_exception(exc)
    try:
        from caldav.lib import error as dav_error
    except ImportError:  # pragma: no cover - only without the caldav extra
        return f"unexpected error ({type(exc).__name__})"
    if isinstance(exc, dav_error.AuthorizationError):
        return "not authorised (check the username and password file)"
    if isinstance(exc, dav_error.NotFoundError):
        return "calendar not found"
    if isinstance(exc, dav_error.DAVError):
        # caldav writes "<status> <reason>\n\n<body>" (into .url or .reason, depending on
        # where it raised): keep the status only, never the body or the URL.
        match = next((m for m in (_STATUS_RE.match(str(getattr(exc, attr, "") or ""))
                                  for attr in ("reason", "url")) if m), None)
        what = {
            dav_error.ReportError: "calendar query failed",
            dav_error.PropfindError: "calendar discovery failed",
        }.get(type(exc), "CalDAV error")
        return f"HTTP {match.group(1)} {what}" if match else what
    if type(exc).__module__.startswith("lxml"):
        return "malformed server response (not XML)"
    return f"unexpected error ({type(exc).__name__})"


__all__ = ["CalDAVSource", "describe_caldav_error"]
