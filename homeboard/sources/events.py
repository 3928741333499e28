"""What every calendar source shares: the days asked for, and iCalendar events as CalendarEvents.

The rule that the original build broke three times: an all-day event is a local
date, with an exclusive end, and is never turned into an instant through UTC. Its
``DTSTART;VALUE=DATE`` stays a ``datetime.date``; only timed events become aware
datetimes (floating times are read in the board's timezone).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from homeboard.errors import SourceError
from homeboard.model import CalendarEvent

log = logging.getLogger(__name__)

# Servers and libraries disagree on which zone a floating or all-day event lives in
# when they apply a time range; asking for a day more on each side and then keeping
# exactly the board's days (``Window.keeps``) makes that disagreement harmless.
QUERY_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The local days a calendar is asked for: ``first`` up to ``after`` (exclusive)."""

    first: date
    after: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        """Local midnight at the start of ``first``."""
        return datetime.combine(self.first, time(0), self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight at the start of ``after``."""
        return datetime.combine(self.after, time(0), self.tz)

    def keeps(self, event: CalendarEvent) -> bool:
        """True if ``event`` covers at least part of the window's days."""
        if event.all_day:
            first = _as_date(event.start)
            after = max(_as_date(event.end), first + timedelta(days=1))
            return first < self.after and after > self.first
        start, end = event.start, event.end
        assert isinstance(start, datetime) and isinstance(end, datetime)
        if start == end:
            return self.start <= start < self.end
        return start < self.end and end > self.start


def window_for(now: datetime, tz: tzinfo, days: int) -> Window:
    """The board's days as of ``now``, plus one, so a frame drawn just after midnight
    still has its last column before the next refresh."""
    today = now.astimezone(tz).date()
    return Window(first=today, after=today + timedelta(days=max(days, 1) + 1), tz=tz)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def sort_key(event: CalendarEvent, tz: tzinfo) -> tuple[float, int, str, str]:
    """A total order on events: by start (all-day at local midnight, first), title, uid."""
    if isinstance(event.start, datetime):
        ts = event.start.timestamp()
    else:
        ts = datetime.combine(event.start, time(0), tz).timestamp()
    return (ts, 0 if event.all_day else 1, event.title, event.uid)


def sorted_events(events: Iterable[CalendarEvent], tz: tzinfo) -> tuple[CalendarEvent, ...]:
    """``events`` in a stable order, so that unchanged data compares equal between fetches."""
    return tuple(sorted(events, key=lambda e: sort_key(e, tz)))


# --------------------------------------------------------------------------- #
# iCalendar components
# --------------------------------------------------------------------------- #


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    return " ".join(str(value).split())


def _localise(value: datetime, tz: tzinfo) -> datetime:
    # A floating time means "wall time wherever you are": the board's zone.
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


def component_to_event(component: Any, *, calendar: str, tz: tzinfo) -> CalendarEvent | None:
    """One VEVENT occurrence as a CalendarEvent; None for a cancelled or dateless one."""
    if _text(component, "STATUS").upper() == "CANCELLED":
        return None
    if component.get("DTSTART") is None:
        return None
    start = component.decoded("DTSTART")
    end: Any = component.decoded("DTEND") if component.get("DTEND") is not None else None
    if end is None and component.get("DURATION") is not None:
        end = start + component.decoded("DURATION")
    uid = _text(component, "UID")
    rid = component.get("RECURRENCE-ID")
    if rid is not None:
        uid = f"{uid}/{rid.to_ical().decode()}"
    title = _text(component, "SUMMARY")
    location = _text(component, "LOCATION") or None

    if isinstance(start, datetime):
        start_dt = _localise(start, tz)
        if isinstance(end, datetime):
            end_dt = _localise(end, tz)
        elif isinstance(end, date):  # a date end on a timed event: that day's midnight
            end_dt = datetime.combine(end, time(0), tz)
        else:
            end_dt = start_dt  # RFC 5545: no DTEND and no DURATION on a timed event
        if end_dt < start_dt:
            end_dt = start_dt
        return CalendarEvent(title=title, start=start_dt, end=end_dt, all_day=False,
                             calendar=calendar, uid=uid, location=location)
    if isinstance(start, date):
        first = start
        if isinstance(end, datetime):
            after = end.date()
        elif isinstance(end, date):
            after = end
        else:
            after = first + timedelta(days=1)  # RFC 5545: an all-day event lasts its day
        if after <= first:
            after = first + timedelta(days=1)
        return CalendarEvent(title=title, start=first, end=after, all_day=True,
                             calendar=calendar, uid=uid, location=location)
    return None


def looks_like_icalendar(data: bytes) -> bool:
    """True if ``data`` starts like an iCalendar file (not an HTML login page)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    return head.startswith(b"BEGIN:VCALENDAR")


# Whole-history feeds (a school district's, a calendar exported since 2012) run to
# megabytes; parsing every past event costs seconds on a Pi Zero. Above this size,
# one-off events that end well before or start well after the window are cut from
# the text before it is parsed (``prefilter``).
PREFILTER_MIN_BYTES = 64 * 1024
_PREFILTER_SLACK = timedelta(days=2)  # more than any zone's offset from UTC
_VEVENT_RE = re.compile(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT[^\n]*\n?", re.S | re.I)
_UNFOLD_RE = re.compile(rb"\r?\n[ \t]")
_RECURRING_RE = re.compile(rb"^(?:RRULE|RDATE|EXDATE|EXRULE|RECURRENCE-ID)[;:]", re.M | re.I)
_UID_RE = re.compile(rb"^UID[;:](?:[^:\r\n]*:)?([^\r\n]*)", re.M | re.I)


def _date_of(prop: bytes, text: bytes) -> date | None:
    match = re.search(rb"^" + prop + rb"(?:;[^:\r\n]*)?:(\d{4})(\d{2})(\d{2})", text, re.M | re.I)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def prefilter(data: bytes, window: Window, *, min_bytes: int = PREFILTER_MIN_BYTES) -> bytes:
    """``data`` without the one-off VEVENTs that cannot touch the window (a fast text scan).

    Only events that are certainly outside are cut: anything recurring (RRULE,
    RDATE, EXDATE, RECURRENCE-ID, and every event sharing a UID with one) or whose
    dates the scan cannot read is kept, and the window is widened by two days so
    that no zone's offset matters. Parsing what is left gives the same events.
    """
    if len(data) < min_bytes:
        return data
    blocks = list(_VEVENT_RE.finditer(data))
    scanned = []
    recurring: set[bytes] = set()
    for block in blocks:
        text = _UNFOLD_RE.sub(b"", block.group(0))
        uid_match = _UID_RE.search(text)
        uid = uid_match.group(1).strip() if uid_match else None
        if _RECURRING_RE.search(text) and uid is not None:
            recurring.add(uid)
        scanned.append((block, text, uid))
    first = window.first - _PREFILTER_SLACK
    after = window.after + _PREFILTER_SLACK
    out: list[bytes] = []
    last = 0
    for block, text, uid in scanned:
        if uid is None or uid in recurring or _RECURRING_RE.search(text):
            continue
        start = _date_of(b"DTSTART", text)
        if start is None:
            continue
        end = _date_of(b"DTEND", text)
        has_duration = re.search(rb"^DURATION[;:]", text, re.M | re.I) is not None
        outside = start > after or (end is not None and end < first) or (
            end is None and not has_duration and start < first)
        if outside:
            out.append(data[last:block.start()])
            last = block.end()
    if not out:
        return data
    out.append(data[last:])
    return b"".join(out)


def events_from_ics(data: bytes, *, calendar: str, window: Window) -> tuple[CalendarEvent, ...]:
    """Every occurrence in ``data`` (an iCalendar file) that covers the window's days.

    Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides), VTIMEZONE and
    X-WR-TIMEZONE are resolved by recurring-ical-events; a broken series is skipped
    rather than failing the whole calendar.
    """
    import icalendar
    import recurring_ical_events

    if not looks_like_icalendar(data):
        raise SourceError("not an iCalendar file")
    data = prefilter(data, window)
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on broken input
        raise SourceError(f"malformed iCalendar data ({type(exc).__name__})") from None
    start, end = window.start - QUERY_MARGIN, window.end + QUERY_MARGIN
    try:
        components = list(recurring_ical_events.of(cal, skip_bad_series=True).between(start, end))
    except Exception:
        # skip_bad_series does not cover every broken rule (dateutil raises a plain
        # ValueError for some): expand each series alone and drop only the broken ones.
        components = _between_by_series(cal, start, end, calendar)
    return events_from_components(components, calendar=calendar, window=window)


def _between_by_series(cal: Any, start: datetime, end: datetime, calendar: str) -> list[Any]:
    import icalendar
    import recurring_ical_events

    timezones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    series: dict[str, list[Any]] = {}
    for component in cal.subcomponents:
        if component.name == "VEVENT":
            series.setdefault(str(component.get("UID", id(component))), []).append(component)
    found: list[Any] = []
    broken = 0
    for parts in series.values():
        single = icalendar.Calendar()
        for key, value in cal.property_items(recursive=False):
            if key not in ("BEGIN", "END"):
                single.add(key, value)
        for component in (*timezones, *parts):
            single.add_component(component)
        try:
            found.extend(recurring_ical_events.of(single, skip_bad_series=True).between(start, end))
        except Exception:
            broken += 1
    if broken:
        log.info("%s: skipped %d unreadable recurring event(s)", calendar, broken)
    return found


def events_from_components(
    components: Iterable[Any], *, calendar: str, window: Window
) -> tuple[CalendarEvent, ...]:
    """VEVENT occurrences → the CalendarEvents within the window, sorted, without duplicates."""
    out: dict[tuple[str, str, object, object], CalendarEvent] = {}
    skipped = 0
    for component in components:
        try:
            event = component_to_event(component, calendar=calendar, tz=window.tz)
        except Exception:  # one unreadable event must not hide the rest of the calendar
            skipped += 1
            continue
        if event is None or not window.keeps(event):
            continue
        out.setdefault((event.uid, event.title, event.start, event.end), event)
    if skipped:
        log.info("%s: skipped %d unreadable event(s)", calendar, skipped)
    return sorted_events(out.values(), window.tz)


__all__ = [
    "PREFILTER_MIN_BYTES", "QUERY_MARGIN", "Window", "component_to_event",
    "events_from_components", "events_from_ics", "looks_like_icalendar", "prefilter",
    "sort_key", "sorted_events", "window_for",
]
