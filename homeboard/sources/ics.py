"""Calendars published as iCalendar files: http(s), ``webcal://`` or a local file.

The whole file is fetched in one request (optionally with basic auth) and parsed
with icalendar + recurring-ical-events. A calendar's address is often its only
secret ("secret address in iCal format"): it never appears in logs or errors; the
calendar is named by its name.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import requests

from homeboard.errors import SourceError
from homeboard.model import CalendarEvent, SourceKind, calendar_source
from homeboard.sources import http
from homeboard.sources.base import CALENDAR_LIMITS, read_local_file, read_secret
from homeboard.sources.events import DEFAULT_LIMITS, events_from_ics, window_for

if TYPE_CHECKING:
    from homeboard.config import CalendarConfig, Config
    from homeboard.sources.events import Limits as ExpansionLimits


def normalise_url(url: str) -> str:
    """``webcal://`` and ``webcals://`` are https; everything else is left as written."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("webcal", "webcals"):
        return "https://" + rest
    return url


def local_path(url: str) -> Path | None:
    """The file a ``file://`` URL or a plain path names; None for a network URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive, not a scheme
        return None
    return Path(url).expanduser()


class ICSSource:
    """A calendar read from an iCalendar file."""

    kind: SourceKind = "calendar"
    limits = CALENDAR_LIMITS

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
        timeout: timedelta | float | None = None,
        refresh: timedelta | None = None,
    ) -> None:
        self.name = calendar_source(name)
        self.calendar = name
        self.label = label or name
        self.url = normalise_url(url)
        self.tz = tz
        self.days = days
        self.username = username
        self.password_file = password_file
        self.timeout = http.timeouts(timeout, default=20.0)
        self.refresh = refresh
        # What expanding one fetch may cost (see events.Limits); ``limits`` are its byte caps.
        self.expansion: ExpansionLimits = DEFAULT_LIMITS

    @classmethod
    def from_config(cls, cal: CalendarConfig, config: Config) -> ICSSource:
        """The source for calendar ``cal`` of ``config``."""
        assert cal.ics_url is not None
        return cls(
            name=cal.name, label=cal.label, url=cal.ics_url, tz=config.tz,
            days=config.layout.days, username=cal.username, password_file=cal.password_file,
            timeout=cal.timeout, refresh=cal.refresh,
        )

    def __repr__(self) -> str:
        return f"ICSSource({self.calendar!r}, {http.redact_url(self.url)!r})"

    def fetch(self, *, session: requests.Session, now: datetime) -> tuple[CalendarEvent, ...]:
        """The calendar's events on the board's days, within ``self.expansion``.

        Past a limit of time or expansion this raises SourceLimitExceeded (the last good
        events stay); a day with more events than it can list keeps its first ones and
        the calendar is said to be cut (see ``events.keep_drawable``).
        """
        data = self._load(session)
        return events_from_ics(data, calendar=self.calendar,
                               window=window_for(now, self.tz, self.days), limits=self.expansion)

    def _load(self, session: requests.Session) -> bytes:
        """The calendar's bytes as UTF-8, within its byte caps (see ``base.Limits``)."""
        path = local_path(self.url)
        if path is not None:
            data = read_local_file(path, "the calendar file", limit=self.limits.body)
            return http.to_utf8(data)
        scheme = urlsplit(self.url).scheme.lower()
        if scheme not in ("http", "https"):
            raise SourceError(f"unsupported address scheme {scheme!r}")
        password = read_secret(self.password_file, "the calendar's password file")
        auth = (self.username, password or "") if self.username else None
        # The whole URL is the secret of a published calendar: mask it wherever it shows.
        resp = http.get(session, self.url, timeout=self.timeout, auth=auth,
                        headers={"Accept": "text/calendar, */*;q=0.5"},
                        secrets=(password, self.url))
        return http.to_utf8(resp.content, http.charset_of(resp))


__all__ = ["ICSSource", "local_path", "normalise_url"]
