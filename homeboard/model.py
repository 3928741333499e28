"""The data of the board: what sources deliver, and ``BoardState`` for one moment.

Everything here is plain frozen data plus pure functions. ``compose()`` turns the
cached source snapshots and a moment into the ``BoardState`` that ``render()``
draws; it reads no clock, network or disk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from homeboard.i18n import words_for

if TYPE_CHECKING:
    from homeboard.config import Config

Status = Literal["fresh", "stale", "unavailable"]
SourceKind = Literal["weather", "calendar", "special", "holidays"]

WEATHER = "weather"
SPECIAL = "special"
HOLIDAYS = "holidays"
CALENDAR_PREFIX = "calendar:"

# A fetch time later than now by more than this comes from a clock that was wrong then
# or is wrong now (a Pi has no RTC): such data is suspect, never fresh.
FUTURE_TOLERANCE = timedelta(minutes=5)

# The banner shows the most important special of the day; the rest are listed as
# all-day events. A person's day beats a public one, which beats the almanac.
SPECIAL_PRIORITY: dict[str, int] = {
    "birthday": 0,
    "anniversary": 1,
    "event": 2,
    "holiday": 3,
    "dst": 4,
    "season": 5,
}


def calendar_source(name: str) -> str:
    """Return the source name under which calendar ``name`` is cached."""
    return CALENDAR_PREFIX + name


def public_name(source: str) -> str:
    """The name a source goes by in JSON output: ``weather``, ``holidays`` or a calendar's own."""
    return source.removeprefix(CALENDAR_PREFIX)


# --------------------------------------------------------------------------- #
# What sources deliver
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Forecast:
    """One day's forecast, in the board's units."""

    date: date
    category: str  # an icon category from homeboard.render.icons
    high: float | None = None
    low: float | None = None
    precip_chance: int | None = None  # percent, 0-100
    code: int | None = None  # the provider's weather code (WMO for Open-Meteo)


@dataclass(frozen=True)
class Current:
    """Current conditions, in the board's units."""

    temperature: float | None
    category: str
    is_day: bool = True
    apparent: float | None = None
    code: int | None = None
    observed_at: datetime | None = None


@dataclass(frozen=True)
class WeatherData:
    """What a weather source delivers: current conditions and daily forecasts."""

    current: Current | None
    daily: tuple[Forecast, ...] = ()
    attribution: str | None = None


@dataclass(frozen=True)
class CalendarEvent:
    """One event (one occurrence of a recurring one) as a calendar delivers it.

    Timed events carry aware datetimes; all-day events carry local dates with an
    exclusive end (an all-day event on the 5th has start=5th, end=6th) and are
    never converted through UTC.
    """

    title: str
    start: datetime | date
    end: datetime | date
    all_day: bool = False
    calendar: str = ""
    uid: str = ""
    location: str | None = None


@dataclass(frozen=True)
class SpecialDay:
    """A special day computed from the config (birthday, holiday, season, DST …)."""

    date: date
    kind: str  # a key of SPECIAL_PRIORITY
    title: str  # short, for a day's list: "Corinne's birthday"
    message: str  # the banner: "Happy Birthday, Corinne!"
    icon: str = "celebration"
    color: str = "red"
    banner: bool = True  # False: listed among the day's events, never the banner


SourceData = WeatherData | tuple[CalendarEvent, ...] | tuple[SpecialDay, ...]


@dataclass(frozen=True)
class Snapshot:
    """One source's last good data, as cached, with when it was fetched."""

    name: str
    kind: SourceKind
    data: SourceData | None = None
    fetched_at: datetime | None = None  # last successful fetch
    changed_at: datetime | None = None  # when the data last differed from before
    last_error: str | None = None  # reason of the last failed attempt, if it failed
    attempted_at: datetime | None = None  # last attempt, successful or not
    cut: bool = False  # the last attempt went past a cap (SourceLimitExceeded)


# --------------------------------------------------------------------------- #
# What the board shows
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Event:
    """An event as shown on one day of the board."""

    title: str
    start: datetime | date
    end: datetime | date
    all_day: bool
    calendar: str
    label: str
    color: str  # "black" or "red"
    underway: bool = False
    ended: bool = False  # a timed event that is over (the board hides it)
    continues_from: bool = False  # began on an earlier day
    continues_to: bool = False  # goes on after this day
    special: bool = False  # a special day listed among the events
    icon: str | None = None  # the special day's icon


@dataclass(frozen=True)
class Special:
    """The banner of a day."""

    kind: str
    title: str
    message: str
    icon: str
    color: str = "red"


@dataclass(frozen=True)
class Day:
    """One column (or row) of the board."""

    date: date
    forecast: Forecast | None = None
    events: tuple[Event, ...] = ()
    special: Special | None = None


@dataclass(frozen=True)
class SourceState:
    """How current one source's data is."""

    name: str
    kind: SourceKind
    label: str
    status: Status
    fetched_at: datetime | None = None
    changed_at: datetime | None = None
    last_error: str | None = None
    cut: bool = False  # the last attempt went past a cap: the frame says it was cut


@dataclass(frozen=True)
class BoardState:
    """Everything one frame shows. It holds no clock: the same data gives the same frame."""

    date: date
    timezone: str
    days: tuple[Day, ...]
    current: Current | None = None
    sources: tuple[SourceState, ...] = ()
    updated_at: datetime | None = None  # when the newest data shown last changed
    attribution: tuple[str, ...] = ()
    units: str = "metric"
    clock: str = "24h"
    language: str = "en"  # a CLDR locale identifier
    first_week_day: int = 0  # where the language is spoken: 0 = Monday ... 6 = Sunday
    location: str | None = None
    weather_enabled: bool = True

    @property
    def today(self) -> Day:
        """The first day shown."""
        return self.days[0]

    def source(self, name: str) -> SourceState | None:
        """Return the state of source ``name``, if it is configured."""
        return next((s for s in self.sources if s.name == name), None)


# --------------------------------------------------------------------------- #
# Composition
# --------------------------------------------------------------------------- #


def source_status(snapshot: Snapshot | None, now: datetime, max_age: timedelta) -> Status:
    """Fresh when fetched within ``max_age``, stale when older, unavailable without data.

    A fetch time in the future (beyond ``FUTURE_TOLERANCE``) is stale: the clock was
    wrong when it was written or is wrong now, so its age is unknown.
    """
    if snapshot is None or snapshot.data is None or snapshot.fetched_at is None:
        return "unavailable"
    age = instant(now) - instant(snapshot.fetched_at)
    if age < -FUTURE_TOLERANCE:
        return "stale"
    return "fresh" if age <= max_age else "stale"


def instant(moment: datetime) -> datetime:
    """``moment`` as a UTC instant, so comparisons honour ``fold`` and the UTC offset.

    Python compares two datetimes that share a tzinfo by wall time alone: in the
    repeated hour of a fall-back night, 01:30 (first) and 01:30 (second) are "equal".
    """
    return moment.astimezone(UTC)


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant (in UTC) of local ``day`` in ``tz``.

    Usually local midnight; the first of two midnights when midnight repeats; and the
    moment the clocks jump when midnight is skipped (Santiago, Havana, Beirut, Cairo
    change their clocks at 00:00).
    """
    first = instant(datetime.combine(day, time(0, fold=0), tz))
    second = instant(datetime.combine(day, time(0, fold=1), tz))
    if first.astimezone(tz).replace(tzinfo=None) == datetime.combine(day, time(0)):
        return min(first, second)  # midnight exists (once, or twice: the first counts)
    # Midnight falls in a gap: the day begins at the jump. Read with the offset before
    # the jump (fold=0), midnight lies at or after it; with the offset after (fold=1),
    # before it. Zones that jump at midnight give the jump itself; others are bisected.
    lo, hi = min(first, second), max(first, second)
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).date() >= day:
            hi = mid
        else:
            lo = mid
    return hi


def clock_change(day: date, tz: tzinfo) -> timedelta | None:
    """How far the clocks move during local ``day`` in ``tz`` (+1h in spring), or None.

    Compares the UTC offset just before the day's first instant with the offset at its
    last instant, both taken as instants: a change at 02:00 is found, and so is one at
    midnight, where local midnight itself does not exist (Santiago, Havana, Beirut, Cairo).
    """
    tick = timedelta(microseconds=1)
    before = (day_start(day, tz) - tick).astimezone(tz).utcoffset()
    after = (day_start(day + timedelta(days=1), tz) - tick).astimezone(tz).utcoffset()
    if before is None or after is None or before == after:
        return None
    return after - before


def _day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def _as_date(value: datetime | date) -> date:
    return value if not isinstance(value, datetime) else value.date()


def events_on(
    events: Iterable[CalendarEvent],
    day: date,
    tz: tzinfo,
    now: datetime,
    *,
    labels: Mapping[str, tuple[str, str]],
    busy: str = "Busy",
) -> list[Event]:
    """The events that cover ``day`` (local), marked underway and continued.

    An event without a title shows ``busy`` (the board's word for it).
    """
    day_begin, day_end = _day_bounds(day, tz)
    at = instant(now)
    shown: list[Event] = []
    for ev in events:
        label, color = labels.get(ev.calendar, (ev.calendar, "black"))
        if ev.all_day:
            first, after = _as_date(ev.start), _as_date(ev.end)
            if after <= first:  # a zero-length all-day event still takes its day
                after = first + timedelta(days=1)
            if not first <= day < after:
                continue
            shown.append(
                Event(
                    title=ev.title or busy,
                    start=first,
                    end=after,
                    all_day=True,
                    calendar=ev.calendar,
                    label=label,
                    color=color,
                    continues_from=first < day,
                    continues_to=after > day + timedelta(days=1),
                )
            )
            continue
        # Instants, never wall times: in a repeated hour the wall clock says nothing.
        start = instant(ev.start) if isinstance(ev.start, datetime) else day_start(ev.start, tz)
        end = instant(ev.end) if isinstance(ev.end, datetime) else day_start(ev.end, tz)
        if end < start:
            end = start
        covers = (start < day_end and end > day_begin) or (
            start == end and day_begin <= start < day_end
        )
        if not covers:
            continue
        shown.append(
            Event(
                title=ev.title or busy,
                start=start.astimezone(tz),
                end=end.astimezone(tz),
                all_day=False,
                calendar=ev.calendar,
                label=label,
                color=color,
                # Under way from its start instant; ended at its end instant.
                underway=start <= at < end,
                ended=end <= at and not (start == end == at),
                continues_from=start < day_begin,
                continues_to=end > day_end,
            )
        )
    shown.sort(key=_event_order)
    return shown


def _event_order(ev: Event) -> tuple[int, int, float, str]:
    # All-day (and specials) first; then by start; an event carried over from an
    # earlier day sorts as if it started at midnight.
    if ev.all_day:
        return (0, 0 if ev.special else 1, 0.0, ev.title.casefold())
    start = ev.start.timestamp() if isinstance(ev.start, datetime) else 0.0
    return (1, 0, start if not ev.continues_from else float("-inf"), ev.title.casefold())


def compose(config: Config, snapshots: Mapping[str, Snapshot], now: datetime) -> BoardState:
    """Build the BoardState for ``now`` from the cached snapshots (pure)."""
    tz = config.tz
    now = now.astimezone(tz)
    today = now.date()
    dates = [today + timedelta(days=i) for i in range(config.layout.days)]
    sources: list[SourceState] = []
    words = words_for(config.language)

    # Weather
    weather_cfg = config.weather
    weather_on = weather_cfg is not None and weather_cfg.enabled
    current: Current | None = None
    forecasts: dict[date, Forecast] = {}
    attribution: list[str] = []
    if weather_on and weather_cfg is not None:
        snap = snapshots.get(WEATHER)
        status = source_status(snap, now, weather_cfg.max_age)
        label = words.weather
        sources.append(_source_state(WEATHER, "weather", label, status, snap))
        if snap is not None and isinstance(snap.data, WeatherData) and status != "unavailable":
            current = snap.data.current
            forecasts = {f.date: f for f in snap.data.daily}
            if snap.data.attribution:
                attribution.append(snap.data.attribution)

    # Calendars
    events: list[CalendarEvent] = []
    labels: dict[str, tuple[str, str]] = {}
    for cal in config.calendars:
        name = calendar_source(cal.name)
        snap = snapshots.get(name)
        status = source_status(snap, now, cal.max_age)
        label = cal.label or cal.name
        labels[cal.name] = (label, cal.color)
        sources.append(_source_state(name, "calendar", label, status, snap))
        if snap is not None and status != "unavailable" and isinstance(snap.data, tuple):
            events.extend(e for e in snap.data if isinstance(e, CalendarEvent))

    # Special days: computed offline, so they are present whenever they were computed.
    # Public holidays are a source of their own (the holidays package may not know the
    # configured subdivision): when they fail, the household's own days still show.
    special_snaps = [snapshots.get(SPECIAL)]
    if config.holidays is not None:
        snap = snapshots.get(HOLIDAYS)
        status = source_status(snap, now, _holidays_max_age(config))
        label = words.holidays
        sources.append(_source_state(HOLIDAYS, "holidays", label, status, snap))
        if status != "unavailable":
            special_snaps.append(snap)
    specials: dict[date, list[SpecialDay]] = {}
    for snap in special_snaps:
        if snap is not None and isinstance(snap.data, tuple):
            for sd in snap.data:
                if isinstance(sd, SpecialDay):
                    specials.setdefault(sd.date, []).append(sd)

    days = []
    for d in dates:
        day_events = events_on(events, d, tz, now, labels=labels, busy=words.busy)
        banner: Special | None = None
        todays = sorted(
            specials.get(d, ()), key=lambda s: (SPECIAL_PRIORITY.get(s.kind, 9), s.title)
        )
        if todays:
            top = next((s for s in todays if s.banner), None)
            if top is not None:
                banner = Special(
                    kind=top.kind,
                    title=top.title,
                    message=top.message,
                    icon=top.icon,
                    color=top.color,
                )
            listed = [
                Event(
                    title=s.title,
                    start=d,
                    end=d + timedelta(days=1),
                    all_day=True,
                    calendar="",
                    label="",
                    color=s.color,
                    special=True,
                    icon=s.icon,
                )
                for s in todays
            ]
            day_events = sorted(listed + day_events, key=_event_order)
        days.append(
            Day(date=d, forecast=forecasts.get(d), events=tuple(day_events), special=banner)
        )

    # Holidays are recomputed at every refresh: they say nothing of how current the
    # fetched data is. A time in the future (a wrong clock) is no "Updated" time either.
    shown = [
        s.changed_at or s.fetched_at
        for s in sources
        if s.status != "unavailable" and s.kind != "holidays"
    ]
    latest = instant(now) + FUTURE_TOLERANCE
    updated_at = max(
        (t for t in shown if t is not None and instant(t) <= latest), key=instant, default=None
    )
    return BoardState(
        date=today,
        timezone=config.timezone,
        days=tuple(days),
        current=current,
        sources=tuple(sources),
        updated_at=updated_at.astimezone(tz) if updated_at else None,
        attribution=tuple(attribution) if config.layout.show_attribution else (),
        units=config.units,
        clock=config.time_clock,
        language=config.language,
        first_week_day=words.first_week_day,
        location=config.location.name if config.location else None,
        weather_enabled=weather_on,
    )


def _holidays_max_age(config: Config) -> timedelta:
    """Holidays are computed at every refresh: two refreshes missed make them stale."""
    schedule = config.schedule
    quiet = schedule.quiet_hours.interval if schedule.quiet_hours is not None else timedelta(0)
    return 2 * max(schedule.interval, quiet)


def _source_state(
    name: str, kind: SourceKind, label: str, status: Status, snap: Snapshot | None
) -> SourceState:
    return SourceState(
        name=name,
        kind=kind,
        label=label,
        status=status,
        fetched_at=snap.fetched_at if snap else None,
        changed_at=(snap.changed_at or snap.fetched_at) if snap else None,
        last_error=snap.last_error if snap else None,
        cut=snap.cut if snap else False,
    )


# --------------------------------------------------------------------------- #
# JSON (the store keeps snapshots as JSON; `homeboard state --json` prints state)
# --------------------------------------------------------------------------- #


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def state_to_json(state: BoardState) -> dict[str, Any]:
    """The BoardState as JSON-ready data, with stable key names."""
    out = _jsonable(state)
    out["sources"] = {
        public_name(s.name): {k: v for k, v in _jsonable(s).items() if k != "name"}
        for s in state.sources
    }
    return out


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """A snapshot as JSON-ready data (round-trips through ``snapshot_from_json``)."""
    out = _jsonable(snapshot)
    out["version"] = 1
    return out


def _parse_when(value: str) -> datetime | date:
    if "T" in value:
        return datetime.fromisoformat(value)
    return date.fromisoformat(value)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def snapshot_from_json(raw: Mapping[str, Any]) -> Snapshot:
    """Rebuild a Snapshot from ``snapshot_to_json`` output; raises ValueError if malformed."""
    try:
        kind = raw["kind"]
        if kind not in ("weather", "calendar", "special", "holidays"):
            raise ValueError(f"unknown source kind {kind!r}")
        data_raw = raw.get("data")
        data: SourceData | None
        if data_raw is None:
            data = None
        elif kind == "weather":
            cur = data_raw.get("current")
            data = WeatherData(
                current=Current(
                    temperature=cur["temperature"],
                    category=cur["category"],
                    is_day=cur.get("is_day", True),
                    apparent=cur.get("apparent"),
                    code=cur.get("code"),
                    observed_at=_dt(cur.get("observed_at")),
                )
                if cur
                else None,
                daily=tuple(
                    Forecast(
                        date=date.fromisoformat(f["date"]),
                        category=f["category"],
                        high=f.get("high"),
                        low=f.get("low"),
                        precip_chance=f.get("precip_chance"),
                        code=f.get("code"),
                    )
                    for f in data_raw.get("daily", ())
                ),
                attribution=data_raw.get("attribution"),
            )
        elif kind == "calendar":
            data = tuple(
                CalendarEvent(
                    title=e["title"],
                    start=_parse_when(e["start"]),
                    end=_parse_when(e["end"]),
                    all_day=e["all_day"],
                    calendar=e.get("calendar", ""),
                    uid=e.get("uid", ""),
                    location=e.get("location"),
                )
                for e in data_raw
            )
        elif kind in ("special", "holidays"):
            data = tuple(
                SpecialDay(
                    date=date.fromisoformat(s["date"]),
                    kind=s["kind"],
                    title=s["title"],
                    message=s["message"],
                    icon=s.get("icon", "celebration"),
                    color=s.get("color", "red"),
                    banner=s.get("banner", True),
                )
                for s in data_raw
            )
        else:
            raise ValueError(f"unknown source kind {kind!r}")
        return Snapshot(
            name=raw["name"],
            kind=kind,
            data=data,
            fetched_at=_dt(raw.get("fetched_at")),
            changed_at=_dt(raw.get("changed_at")),
            last_error=raw.get("last_error"),
            attempted_at=_dt(raw.get("attempted_at")),
            cut=bool(raw.get("cut", False)),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed snapshot: {exc!r}") from exc


__all__ = [
    "BoardState",
    "CalendarEvent",
    "Current",
    "Day",
    "Event",
    "Forecast",
    "HOLIDAYS",
    "Snapshot",
    "SourceState",
    "Special",
    "SpecialDay",
    "WeatherData",
    "clock_change",
    "compose",
    "day_start",
    "events_on",
    "instant",
    "snapshot_from_json",
    "snapshot_to_json",
    "source_status",
    "state_to_json",
]
