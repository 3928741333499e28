"""What every calendar source shares: the days asked for, and iCalendar events as CalendarEvents.

The rule that the original build broke three times: an all-day event is a local
date, with an exclusive end, and is never turned into an instant through UTC. Its
``DTSTART;VALUE=DATE`` stays a ``datetime.date``; only timed events become aware
datetimes (floating times are read in the board's timezone).

What one feed may cost is bounded (``Limits``): the occurrences it expands, the time
it takes, and how many events it keeps per day. Past the first two the feed fails
with ``SourceLimitExceeded`` (its last good data stays); past the third the events
that could never be drawn are left out and the feed says it was cut.
"""

from __future__ import annotations

import logging
import re
import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from homeboard.errors import SourceError, SourceLimitExceeded
from homeboard.model import CalendarEvent
from homeboard.sources.base import time_left
from homeboard.sources.ics_scan import PREFILTER_MIN_BYTES, Prefiltered, prefilter, zone_named

log = logging.getLogger(__name__)

# Servers and libraries disagree on which zone a floating or all-day event lives in
# when they apply a time range; asking for a day more on each side and then keeping
# exactly the board's days (``Window.keeps``) makes that disagreement harmless.
QUERY_MARGIN = timedelta(days=1)

# A title or place longer than this is never drawn whole; cutting it here keeps one
# hostile event from bloating the cached snapshot.
MAX_TEXT = 300


@dataclass(frozen=True)
class Limits:
    """What one calendar feed may cost on a Pi Zero (150 MB MemoryMax, a slow core)."""

    instances: int = 5_000  # occurrences expanded on the board's days (plus margins)
    rule_steps: int = 50_000  # estimated steps of one recurrence rule up to the window's end
    components: int = 5_000  # VEVENTs parsed after the date prefilter
    seconds: float = 30.0  # reading and expanding one feed
    per_day: int = 50  # events kept per day: more can never be drawn


DEFAULT_LIMITS = Limits()


class Budget:
    """The cost one feed has run up so far; past a limit it raises SourceLimitExceeded."""

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        *,
        deadline: float | None = None,
        now: Callable[[], float] = clock.monotonic,
    ) -> None:
        self.limits = limits
        self._now = now
        started = now()
        # A deadline from the caller, or else the source's own wall-clock deadline of the
        # fetch in progress (``base.time_left``), wins if earlier.
        self.deadline = started + limits.seconds
        if deadline is None and (left := time_left()) is not None:
            deadline = started + left
        if deadline is not None:
            self.deadline = min(self.deadline, deadline)
        self._allowed = max(self.deadline - started, 0.0)
        self.instances = 0

    def check_time(self) -> None:
        """Raise SourceLimitExceeded once the feed has taken longer than it may."""
        if self._now() > self.deadline:
            raise SourceLimitExceeded(
                f"took longer than {self._allowed:.0f} s to read; calendar cut")

    def spend(self, instances: int = 1) -> None:
        """Count ``instances`` more occurrences; raise past the limit or the deadline."""
        self.instances += instances
        if self.instances > self.limits.instances:
            raise SourceLimitExceeded(
                f"more than {self.limits.instances} occurrences on the board's days;"
                " calendar cut")
        self.check_time()


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

    @property
    def days(self) -> tuple[date, ...]:
        """Every day of the window, in order."""
        return tuple(self.first + timedelta(days=i) for i in range((self.after - self.first).days))

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
# At most what a day can show
# --------------------------------------------------------------------------- #


def _covers(event: CalendarEvent, day: date, tz: tzinfo) -> bool:
    if event.all_day:
        first = _as_date(event.start)
        after = max(_as_date(event.end), first + timedelta(days=1))
        return first <= day < after
    start, end = event.start, event.end
    assert isinstance(start, datetime) and isinstance(end, datetime)
    day_start = datetime.combine(day, time(0), tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tz)
    if start == end:
        return day_start <= start < day_end
    return start < day_end and end > day_start


def keep_drawable(
    events: Iterable[CalendarEvent], window: Window, *, per_day: int, dropped: int = 0
) -> tuple[CalendarEvent, ...]:
    """``events`` (sorted) keeping, for each day, only the first ``per_day`` the board
    would list (all-day first, then by start).

    If any event is left out (or ``dropped`` were left out before), raises
    SourceLimitExceeded whose ``partial`` holds what is kept: the frame shows those
    and says that the calendar was cut.
    """
    ordered = sorted_events(events, window.tz)
    kept: set[CalendarEvent] = set()
    crowded: list[date] = []
    for day in window.days:
        on_day = [e for e in ordered if _covers(e, day, window.tz)]
        if len(on_day) > per_day:
            crowded.append(day)
        # ``ordered`` is by start: all-day events first within a day, then timed ones.
        on_day.sort(key=lambda e: 0 if e.all_day else 1)
        kept.update(on_day[:per_day])
    result = tuple(e for e in ordered if e in kept)
    if not crowded and not dropped:
        return result
    when = f" on {crowded[0]:%a %d %b}" if crowded else ""
    raise SourceLimitExceeded(
        f"more than {per_day} events a day{when}; showing the first {per_day}", partial=result)


# --------------------------------------------------------------------------- #
# iCalendar components
# --------------------------------------------------------------------------- #


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    text = " ".join(str(value)[: MAX_TEXT * 4].split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


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


# --------------------------------------------------------------------------- #
# Recurrence rules: repairs, and what one costs to expand
# --------------------------------------------------------------------------- #

# RFC 5545 integers stop at 2**31 - 1; icalendar refuses a larger COUNT and keeps the
# whole rule as text, which recurring-ical-events then drops as a bad series. A count
# that large means "practically endless": the largest valid one says the same.
MAX_COUNT = 2**31 - 1
_COUNT_RE = re.compile(r"(?i)(?<![A-Z])COUNT=(\d+)")

# Seconds per step of each FREQ (an upper bound on how often dateutil iterates).
_FREQ_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400,
                 "WEEKLY": 7 * 86400, "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
# BY parts that multiply the instances of one step, by the FREQs they expand.
_EXPANDS = {"BYSECOND": 1, "BYMINUTE": 60, "BYHOUR": 3600, "BYDAY": 86400,
            "BYMONTHDAY": 86400, "BYYEARDAY": 86400, "BYWEEKNO": 7 * 86400,
            "BYMONTH": 28 * 86400}


def _rules_of(component: Any) -> list[Any]:
    rules = component.get("RRULE")
    if rules is None:
        return []
    return list(rules) if isinstance(rules, list) else [rules]


def _parsed_rule(rule: Any) -> Any:
    """``rule`` as a vRecur; a rule icalendar kept as text for a too-large COUNT, re-read."""
    from icalendar.prop import vRecur

    if isinstance(rule, vRecur):
        return rule
    text = _COUNT_RE.sub(lambda m: f"COUNT={min(int(m[1]), MAX_COUNT)}", str(rule))
    try:
        return vRecur.from_ical(text)
    except Exception:  # still unreadable: recurring-ical-events skips it as a bad series
        return rule


def _until_as_local_date(rule: Any, zone: tzinfo) -> Any:
    """An all-day series' UNTIL given as a UTC instant, as the calendar's local date.

    Exchange and Office 365 write the UNTIL of an all-day series as the UTC instant of
    local midnight starting the last day (``UNTIL=20200916T230000Z`` for 17 Sep in
    London). recurring-ical-events cuts such a value to its UTC date (16 Sep) and loses
    the last day; RFC 5545 wants a DATE there, and the day that midnight begins is it.
    """
    until = rule.get("UNTIL")
    value = until[0] if isinstance(until, list) and until else until
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return rule
    fixed = rule.copy()
    fixed["UNTIL"] = [value.astimezone(zone).date()]
    return fixed


def calendar_zone(cal: Any, fallback: tzinfo) -> tzinfo:
    """The zone a calendar was written in: X-WR-TIMEZONE, its only VTIMEZONE, or ``fallback``."""
    name = cal.get("X-WR-TIMEZONE")
    if name:
        zone = zone_named(str(name))
        if zone is not None:
            return zone
    zones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    if len(zones) == 1:
        try:
            return zones[0].to_tz()  # type: ignore[no-any-return]
        except Exception:  # a VTIMEZONE icalendar cannot build: the household's zone
            pass
    return fallback


def _aware(value: date | datetime, tz: tzinfo | None) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.combine(value, time(0))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _rule_steps(rule: Any, start: date | datetime, until: datetime) -> int:
    """An upper bound on the steps dateutil takes to expand ``rule`` from ``start`` to ``until``."""
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    unit = _FREQ_SECONDS.get(freq)
    if unit is None:
        return 0
    interval = max(int((rule.get("INTERVAL") or [1])[0] or 1), 1)
    ends = rule.get("UNTIL")
    if ends:  # a series that ended earlier stops there
        until = min(until, _aware(ends[0] if isinstance(ends, list) else ends, until.tzinfo))
    span = (until - _aware(start, until.tzinfo)).total_seconds()
    if span <= 0:
        return 1
    steps = int(span // (unit * interval)) + 1
    for part, grain in _EXPANDS.items():
        values = rule.get(part)
        if values and grain < unit:  # a finer part expands each step
            steps *= len(values) if isinstance(values, list) else 1
    count = (rule.get("COUNT") or [None])[0]
    return min(steps, int(count)) if count else steps


def _drop_end_before_start(component: Any) -> None:
    if component.get("DTEND") is None:
        return
    try:
        backwards = component.decoded("DTEND") < component.decoded("DTSTART")
    except Exception:  # no DTSTART, unreadable dates, a date against a time: leave it
        return
    if backwards:
        del component["DTEND"]


def repair_events(cal: Any, window: Window, budget: Budget) -> None:
    """Mend what the libraries get wrong in the VEVENTs, and refuse runaway rules.

    An end before the start is dropped: the event starts when DTSTART says (the
    library would swap the two). A too-large COUNT is read as the largest one; an
    all-day series' UTC UNTIL becomes the calendar's local date. A series whose rules
    would take more than ``Limits.rule_steps`` to expand up to the window's end raises
    SourceLimitExceeded before any work is done (dateutil cannot be stopped midway).
    """
    from icalendar.prop import vRecur

    zone: tzinfo | None = None
    query_end = window.end + QUERY_MARGIN
    for component in cal.subcomponents:
        if component.name != "VEVENT":
            continue
        _drop_end_before_start(component)
        if component.get("RRULE") is None:
            continue
        before = _rules_of(component)
        rules = [_parsed_rule(rule) for rule in before]
        try:
            start = component.decoded("DTSTART")
        except Exception:
            start = None
        if isinstance(start, date) and not isinstance(start, datetime):
            if zone is None:
                zone = calendar_zone(cal, window.tz)
            rules = [_until_as_local_date(r, zone) if isinstance(r, vRecur) else r
                     for r in rules]
        if any(new is not old for new, old in zip(rules, before, strict=True)):
            component["RRULE"] = rules if len(rules) > 1 else rules[0]
        if not isinstance(start, date):
            continue
        steps = max((_rule_steps(r, start, query_end) for r in rules if isinstance(r, vRecur)),
                    default=0)
        if steps > budget.limits.rule_steps:
            raise SourceLimitExceeded(
                "a repeating event repeats too often to expand; calendar cut")


# --------------------------------------------------------------------------- #
# A whole feed
# --------------------------------------------------------------------------- #


def expand_ics(
    data: bytes, *, calendar: str, window: Window, budget: Budget
) -> tuple[list[CalendarEvent], int]:
    """The occurrences in ``data`` that cover the window's days, and how many one-off
    events the prefilter left out for crowded days.

    Raises SourceError for data that is not iCalendar, SourceLimitExceeded past a
    limit of ``budget``.
    """
    import icalendar

    if not looks_like_icalendar(data):
        raise SourceError("not an iCalendar file")
    cut = prefilter(data, window, per_day=budget.limits.per_day, check=budget.check_time)
    del data  # the prefiltered text is all that is needed from here on
    if cut.components > budget.limits.components:
        raise SourceLimitExceeded(
            f"more than {budget.limits.components} events to read on the board's days;"
            " calendar cut")
    budget.check_time()
    try:
        cal = icalendar.Calendar.from_ical(cut.data)
    except Exception as exc:  # icalendar raises ValueError and friends on broken input
        raise SourceError(f"malformed iCalendar data ({type(exc).__name__})") from None
    budget.check_time()
    repair_events(cal, window, budget)
    events = _expand(cal, calendar, window, budget)
    return events, cut.dropped


def _expand(cal: Any, calendar: str, window: Window, budget: Budget) -> list[CalendarEvent]:
    start, end = window.start - QUERY_MARGIN, window.end + QUERY_MARGIN
    out: dict[tuple[str, str, object, object], CalendarEvent] = {}
    broken = skipped = 0
    for series in _series(cal, calendar, budget):
        budget.check_time()
        try:
            for occurrence in series.between(start, end):
                budget.spend()
                try:
                    event = component_to_event(occurrence.as_component(False),
                                               calendar=calendar, tz=window.tz)
                except Exception:  # one unreadable event must not hide the rest
                    skipped += 1
                    continue
                if event is not None and window.keeps(event):
                    out.setdefault((event.uid, event.title, event.start, event.end), event)
        except SourceLimitExceeded:
            raise
        except Exception:  # a broken rule (dateutil's ValueError …) skips its series only
            broken += 1
    if broken:
        log.info("%s: skipped %d unreadable recurring event(s)", calendar, broken)
    if skipped:
        log.info("%s: skipped %d unreadable event(s)", calendar, skipped)
    return list(out.values())


def _series(cal: Any, calendar: str, budget: Budget) -> list[Any]:
    """recurring-ical-events' series of ``cal``, each expanded lazily by the caller.

    Building them all at once can fail on one broken rule that skip_bad_series does not
    cover (dateutil raises a plain ValueError for some): then each UID is built alone
    and only the broken ones are dropped.
    """
    import recurring_ical_events

    try:
        return list(recurring_ical_events.of(cal, skip_bad_series=True).series)
    except Exception:
        pass
    import icalendar

    timezones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    by_uid: dict[str, list[Any]] = {}
    for component in cal.subcomponents:
        if component.name == "VEVENT":
            by_uid.setdefault(str(component.get("UID", id(component))), []).append(component)
    found: list[Any] = []
    broken = 0
    for parts in by_uid.values():
        budget.check_time()
        single = icalendar.Calendar()
        for key, value in cal.property_items(recursive=False):
            if key not in ("BEGIN", "END"):
                single.add(key, value)
        for component in (*timezones, *parts):
            single.add_component(component)
        try:
            found.extend(recurring_ical_events.of(single, skip_bad_series=True).series)
        except Exception:
            broken += 1
    if broken:
        log.info("%s: skipped %d unreadable recurring event(s)", calendar, broken)
    return found


def events_from_ics(
    data: bytes,
    *,
    calendar: str,
    window: Window,
    limits: Limits = DEFAULT_LIMITS,
    deadline: float | None = None,
) -> tuple[CalendarEvent, ...]:
    """Every occurrence in ``data`` (an iCalendar file) that covers the window's days.

    Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides), VTIMEZONE and
    X-WR-TIMEZONE are resolved by recurring-ical-events; a broken series is skipped
    rather than failing the whole calendar. The work is bounded by ``limits`` (and
    ``deadline``, a ``time.monotonic()`` value); see ``Limits`` and ``keep_drawable``.
    """
    budget = Budget(limits, deadline=deadline)
    events, dropped = expand_ics(data, calendar=calendar, window=window, budget=budget)
    return keep_drawable(events, window, per_day=limits.per_day, dropped=dropped)


__all__ = [
    "DEFAULT_LIMITS", "MAX_COUNT", "PREFILTER_MIN_BYTES", "QUERY_MARGIN", "Budget", "Limits",
    "Prefiltered", "Window", "calendar_zone", "component_to_event", "events_from_ics",
    "expand_ics", "keep_drawable", "looks_like_icalendar", "prefilter", "repair_events",
    "sort_key", "sorted_events", "window_for",
]
