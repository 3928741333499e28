"""A fast text scan of an iCalendar feed: only the VEVENTs that can reach the board are parsed.

Whole-history feeds (a school district's, a calendar exported since 2012) run to
megabytes, and a hostile or broken feed can hold a hundred thousand events on one
week. Parsing each with icalendar costs about a millisecond on a desktop core (twenty
on a Pi Zero) and kilobytes of memory, so before anything is parsed this scan reads
each VEVENT's dates from the text and leaves out:

- one-off events that certainly end before or start after the window (widened by two
  days, more than any zone's offset from UTC, so that no zone matters); anything
  recurring, or sharing a UID with something recurring, or whose dates cannot be read,
  is kept;
- on a day with more one-off events than the board could ever list, all but the
  earliest (``per_day`` twice over, by a start read in the board's zone); those are
  counted, and the feed is then said to be cut.

The scan holds a few numbers per event, never a parsed event.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from homeboard.sources.events import Window

# Below this size a feed is parsed whole: the scan would save nothing.
PREFILTER_MIN_BYTES = 64 * 1024
PREFILTER_SLACK = timedelta(days=2)  # more than any zone's offset from UTC
# How many one-off events of one day the scan keeps for each the board can list: the
# start it reads is a close guess (a zone it cannot resolve is read as the board's).
SELECT_MARGIN = 2
_CHECK_EVERY = 2048  # blocks between two deadline checks

_VEVENT_RE = re.compile(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT[^\n]*\n?", re.S | re.I)
_ANY_VEVENT_RE = re.compile(rb"^BEGIN:VEVENT", re.M | re.I)
_UNFOLD_RE = re.compile(rb"\r?\n[ \t]")
_PROP_RE = re.compile(
    rb"^(UID|DTSTART|DTEND|DURATION|RRULE|RDATE|EXDATE|EXRULE|RECURRENCE-ID)([;:][^\r\n]*)",
    re.M | re.I,
)
_RECURRING = {b"RRULE", b"RDATE", b"EXDATE", b"EXRULE", b"RECURRENCE-ID"}
_START_RE = re.compile(
    rb"^DTSTART((?:;[^:\r\n]*)?):(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?", re.M | re.I
)
_TZID_RE = re.compile(rb";TZID=\"?([^;:\"]+)", re.I)
_XWR_RE = re.compile(rb"^X-WR-TIMEZONE[;:](?:[^:\r\n]*:)?([^\r\n]+)", re.M | re.I)


@dataclass(frozen=True)
class Prefiltered:
    """A feed with only the VEVENTs that can matter."""

    data: bytes
    components: int  # VEVENTs left in ``data``
    dropped: int = 0  # one-off events on the window's days left out past the per-day cap


@lru_cache(maxsize=64)
def zone_named(name: str) -> tzinfo | None:
    """The zone an IANA or Windows name (as Exchange writes) stands for, or None."""
    name = name.strip().strip('"')
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        pass
    try:
        from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
    except ImportError:  # pragma: no cover - an icalendar without the table
        return None
    olson = WINDOWS_TO_OLSON.get(name)
    if olson is None:
        return None
    try:
        return ZoneInfo(olson)
    except (ValueError, KeyError, OSError):
        return None


_DATE_RES = {
    prop: re.compile(rb"^" + prop + rb"(?:;[^:\r\n]*)?:(\d{4})(\d{2})(\d{2})", re.M | re.I)
    for prop in (b"DTSTART", b"DTEND")
}


def _date_of(match: re.Match[bytes] | None) -> date | None:
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _continues(buf: bytes, end_of_line: int) -> bool:
    """True if the line ending at ``end_of_line`` goes on in a folded continuation line."""
    after = buf[end_of_line : end_of_line + 3]
    return after[:2] in (b"\n ", b"\n\t") or after in (b"\r\n ", b"\r\n\t")


@dataclass(frozen=True)
class _Read:
    """What the scan reads of one VEVENT."""

    uid: int | None  # hash of the UID
    recurring: bool
    start: date | None
    end: date | None
    duration: bool
    dtstart: re.Match[bytes] | None


_UNREADABLE = _Read(uid=None, recurring=False, start=None, end=None, duration=False, dtstart=None)


def _read(buf: bytes, pos: int, end: int) -> _Read | None:
    """The VEVENT in ``buf[pos:end]``, read in place (one regex pass over its property
    names); None if a line it needs is folded."""
    uid: int | None = None
    recurring = duration = False
    start = stop = dtstart = None
    seen_uid = False
    for prop in _PROP_RE.finditer(buf, pos, end):
        name = prop[1].upper()
        if name in _RECURRING:
            recurring = True
        elif name == b"DURATION":
            duration = True
        elif name == b"UID" and not seen_uid:
            seen_uid = True
            if _continues(buf, prop.end()):
                return None
            rest = prop[2]
            value = rest.split(b":", 1)[1] if rest[:1] == b";" and b":" in rest else rest[1:]
            uid = hash(value.strip())
        elif name == b"DTSTART" and dtstart is None:
            if _continues(buf, prop.end()):
                return None
            dtstart = _START_RE.match(buf, prop.start())
            start = _date_of(_DATE_RES[b"DTSTART"].match(buf, prop.start()))
        elif name == b"DTEND" and stop is None:
            if _continues(buf, prop.end()):
                return None
            stop = _date_of(_DATE_RES[b"DTEND"].match(buf, prop.start()))
    return _Read(uid, recurring, start, stop, duration, dtstart)


def _local_start(match: re.Match[bytes] | None, floating: tzinfo, board: tzinfo) -> int | None:
    """The event's start on the board's wall clock, as twice the seconds since 0001-01-01
    plus one for a timed event (so that all-day events sort first in their day). A close
    guess: a zone the scan cannot resolve is read as the calendar's."""
    if match is None:
        return None
    try:
        day = date(int(match[2]), int(match[3]), int(match[4]))
        if match[5] is None:
            return day.toordinal() * 86400 * 2
        wall = datetime(
            day.year, day.month, day.day, int(match[5]), int(match[6]), min(int(match[7]), 59)
        )
    except ValueError:
        return None
    if match[8]:
        zone: tzinfo = UTC
    else:
        tzid = _TZID_RE.search(match[1])
        named = zone_named(tzid[1].decode("utf-8", "replace")) if tzid else None
        zone = named or floating
    local = wall.replace(tzinfo=zone).astimezone(board)
    seconds = local.toordinal() * 86400 + local.hour * 3600 + local.minute * 60 + local.second
    return seconds * 2 + 1


def prefilter(
    data: bytes,
    window: Window,
    *,
    min_bytes: int = PREFILTER_MIN_BYTES,
    per_day: int | None = None,
    check: Callable[[], None] | None = None,
) -> Prefiltered:
    """``data`` without the VEVENTs that cannot reach the board (see the module's doc).

    Parsing what is left gives the same events on the window's days, except the
    ``dropped`` ones of crowded days (only with ``per_day``). ``check`` is called now
    and then, to stop at a deadline.
    """
    if len(data) < min_bytes:
        return Prefiltered(data, len(_ANY_VEVENT_RE.findall(data)))
    first = window.first - PREFILTER_SLACK
    after = window.after + PREFILTER_SLACK
    header_zone = _XWR_RE.search(
        data[: data.find(b"BEGIN:VEVENT") if b"BEGIN:VEVENT" in data else len(data)]
    )
    floating = (
        zone_named(header_zone[1].decode("utf-8", "replace")) if header_zone else None
    ) or window.tz
    # One row per VEVENT: offsets, hash of its UID, and what the scan read.
    starts, ends, uids = array("q"), array("q"), array("q")
    state = array("b")  # 0 keep, 1 outside, 2 recurring, 3 one-off on the board's days
    keys = array("q")  # for state 3: the start on the board's clock
    recurring: set[int] = set()
    for n, block in enumerate(_VEVENT_RE.finditer(data)):
        if check is not None and n % _CHECK_EVERY == 0:
            check()
        read = _read(data, block.start(), block.end())
        if read is None:  # a line it needs is folded: read an unfolded copy
            text = _UNFOLD_RE.sub(b"", block.group(0))
            read = _read(text, 0, len(text)) or _UNREADABLE
        starts.append(block.start())
        ends.append(block.end())
        uids.append(read.uid or 0)
        keys.append(0)
        if read.recurring:
            state.append(2)
            if read.uid is not None:
                recurring.add(read.uid)
            continue
        if read.uid is None or read.start is None:
            state.append(0)
            continue
        outside = (
            read.start > after
            or (read.end is not None and read.end < first)
            or (read.end is None and not read.duration and read.start < first)
        )
        if outside:
            state.append(1)
            continue
        key = _local_start(read.dtstart, floating, window.tz) if per_day is not None else None
        if key is None:
            state.append(0)
            continue
        state.append(3)
        keys[-1] = key
    drop: set[int] = set()
    dropped = 0
    if per_day is not None:
        # Each local day (and "began before the window") keeps its earliest one-offs.
        by_day: dict[int, list[tuple[int, int]]] = {}
        earliest = window.first.toordinal()
        for i, kind in enumerate(state):
            if kind == 3 and uids[i] not in recurring:
                day = max(keys[i] // (2 * 86400), earliest - 1)
                by_day.setdefault(day, []).append((keys[i], i))
        room = per_day * SELECT_MARGIN
        for rows in by_day.values():
            if len(rows) > room:
                rows.sort()
                drop.update(i for _, i in rows[room:])
                dropped += len(rows) - room
    out: list[bytes] = []
    last = 0
    kept = 0
    for i, kind in enumerate(state):
        if (kind == 1 and uids[i] not in recurring) or i in drop:
            out.append(data[last : starts[i]])
            last = ends[i]
        else:
            kept += 1
    if not out:
        return Prefiltered(data, kept)
    out.append(data[last:])
    return Prefiltered(b"".join(out), kept, dropped)


__all__ = ["PREFILTER_MIN_BYTES", "PREFILTER_SLACK", "Prefiltered", "prefilter", "zone_named"]
