"""Values of settings: panels and drivers, durations, times of day, dates and date rules."""

from __future__ import annotations

import calendar as _calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

CONFIG_ENV = "HOMEBOARD_CONFIG"
DISPLAY_ENV = "HOMEBOARD_DISPLAY"

PANELS = ("waveshare_epd7in5b_v2", "waveshare_epd7in5b_v1", "waveshare_epd7in5b_hd")
DRIVERS = (*PANELS, "mock")

# A three-colour refresh flashes for ~15 s and wears the panel; the vendor asks for at
# least 180 s between refreshes. The mock has no such limit.
PANEL_MIN_INTERVAL = timedelta(seconds=180)

Units = Literal["metric", "imperial"]
Clock = Literal["24h", "12h"]
Orientation = Literal["landscape", "portrait"]
Provider = Literal["open-meteo", "nws"]
Ink = Literal["black", "red"]
EventKind = Literal["birthday", "anniversary", "holiday", "event"]
CalendarKind = Literal["ics", "google", "caldav"]


# --------------------------------------------------------------------------- values


_DURATION_RE = re.compile(
    r" *(?=[0-9])(?:(?P<d>[0-9]+) *d)? *(?:(?P<h>[0-9]+) *h)? *(?:(?P<m>[0-9]+) *m)?"
    r" *(?:(?P<s>[0-9]+) *s)? *"
)
# The same grammar for editors (ECMA-262 regex, no named groups); tests keep the two in step.
DURATION_PATTERN = (
    r"^ *[0-9]+ *$|^ *(?=[0-9])([0-9]+ *d)? *([0-9]+ *h)? *([0-9]+ *m)? *([0-9]+ *s)? *$"
)
_DURATION_HINT = "use e.g. 30s, 15m, 1h30m, 2d or a number of seconds"


def parse_duration(text: str | int) -> timedelta:
    """Parse ``30s``, ``15m``, ``1h30m``, ``2d`` or a bare number of seconds."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"{text!r} is not a duration ({_DURATION_HINT})")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is not a duration (it is negative)")
        try:
            return timedelta(seconds=text)
        except OverflowError:
            raise ValueError(f"{text!r} is too long a duration") from None
    if re.fullmatch(r" *[0-9]+ *", text):
        parts = {"s": text}
    else:
        match = _DURATION_RE.fullmatch(text)
        if match is None or not any(match.groupdict().values()):
            raise ValueError(f"{text!r} is not a duration ({_DURATION_HINT})")
        parts = {unit: amount for unit, amount in match.groupdict().items() if amount}
    try:
        return timedelta(
            days=int(parts.get("d", 0)),
            hours=int(parts.get("h", 0)),
            minutes=int(parts.get("m", 0)),
            seconds=int(parts.get("s", 0)),
        )
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """Write a duration the way the config file does (``1h30m``); whole seconds only."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError(f"{value!r} is negative")
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out)


# Userinfo is everything between the scheme and the last '@' before the query: greedy on
# purpose, so a malformed URL (`redis:/:pw@host`, an unescaped '/' or '@' in a password)
# is masked too rather than printed.
_USERINFO_RE = re.compile(r"^(?P<head>(?:[A-Za-z][A-Za-z0-9+.-]*:)?/*)(?P<userinfo>[^?#]*)@")
_SECRET_QUERY_RE = re.compile(r"([?&](?:password|passwd|pass|secret|token)=)[^&#]*", re.I)


def redact_url(url: str) -> str:
    """``url`` with its password (or a lone userinfo, which may be one) and secret query
    values replaced by ``***``, for messages and logs; a user name before ':' is kept."""
    match = _USERINFO_RE.match(url)
    if match is not None:
        user, colon, _ = match["userinfo"].partition(":")
        shown = f"{user}:***" if colon and "/" not in user else "***"
        url = f"{match['head']}{shown}@{url[match.end() :]}"
    return _SECRET_QUERY_RE.sub(r"\1***", url)


_TIME_RE = re.compile(r" *([01]?[0-9]|2[0-3]):([0-5][0-9]) *")
TIME_PATTERN = r"^ *([01]?[0-9]|2[0-3]):[0-5][0-9] *$"


def parse_time_of_day(text: str) -> time:
    """Parse a 24-hour ``HH:MM`` time of day."""
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day (use HH:MM in 24-hour form, e.g. 07:00)")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class EventDate:
    """A yearly date as written in the config (``MM-DD`` or ``YYYY-MM-DD``)."""

    month: int
    day: int
    year: int | None = None


def parse_event_date(text: str) -> EventDate:
    """Parse ``MM-DD`` or ``YYYY-MM-DD``; February 29 is allowed without a year."""
    match = re.fullmatch(r" *(?:([0-9]{4})-)?([0-9]{1,2})-([0-9]{1,2}) *", text)
    if match is None:
        raise ValueError(f"{text!r} is not a date (use MM-DD, or YYYY-MM-DD with the year)")
    year = int(match[1]) if match[1] else None
    month, day = int(match[2]), int(match[3])
    try:
        # 2000 is a leap year, so a yearly 02-29 passes; a dated one must really exist.
        date(year if year is not None else 2000, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date on the calendar") from None
    if year is not None and year < 1:
        raise ValueError(f"{text!r} is not a date on the calendar")
    return EventDate(month=month, day=day, year=year)


_ORDINALS = {
    "1st": 1,
    "first": 1,
    "2nd": 2,
    "second": 2,
    "3rd": 3,
    "third": 3,
    "4th": 4,
    "fourth": 4,
    "5th": 5,
    "fifth": 5,
    "last": -1,
}
_WEEKDAYS = [name.lower() for name in _calendar.day_name]
_MONTHS = [name.lower() for name in _calendar.month_name[1:]]


@dataclass(frozen=True)
class DateRule:
    """A yearly date given as the n-th weekday of a month, e.g. 4th thursday of november."""

    nth: int  # 1..5, or -1 for "last"
    weekday: int  # 0 = Monday, as date.weekday()
    month: int  # 1..12

    def date_in(self, year: int) -> date | None:
        """The date this rule gives in `year`, or None (a 5th weekday that month lacks)."""
        days_in_month = _calendar.monthrange(year, self.month)[1]
        if self.nth == -1:
            last = date(year, self.month, days_in_month)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        first = date(year, self.month, 1)
        day = 1 + (self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1)
        return date(year, self.month, day) if day <= days_in_month else None


def _lookup_name(word: str, names: list[str], what: str) -> int:
    """Index of a full or three-letter English name, or a ValueError that suggests one."""
    for index, name in enumerate(names):
        if word in (name, name[:3]):
            return index
    close = difflib.get_close_matches(word, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValueError(f"unknown {what} '{word}'{hint}")


def parse_rule(text: str) -> DateRule:
    """Parse ``<1st..5th|last> <weekday> of <month>``, e.g. ``last monday of may``."""
    grammar = "use '<1st..5th or last> <weekday> of <month>', e.g. '4th thursday of november'"
    words = text.lower().split()
    if len(words) != 4 or words[2] != "of":
        raise ValueError(f"{text!r} is not a rule ({grammar})")
    ordinal, weekday, _, month = words
    if ordinal not in _ORDINALS:
        raise ValueError(f"{text!r} is not a rule: '{ordinal}' is not 1st..5th or last")
    try:
        return DateRule(
            nth=_ORDINALS[ordinal],
            weekday=_lookup_name(weekday, _WEEKDAYS, "weekday"),
            month=_lookup_name(month, _MONTHS, "month") + 1,
        )
    except ValueError as error:
        raise ValueError(f"{text!r} is not a rule: {error}") from None
