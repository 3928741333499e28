"""Special days, computed offline: birthdays, anniversaries, holidays, seasons, clock changes.

Two sources: ``SpecialDaysSource`` (the household's days, seasons, clock changes) and
``HolidaysSource`` (public holidays), so that one failing never hides the other.

Nothing here touches the network, and nothing is typed in per year (the original
build hand-entered Thanksgiving and the seasons every January):

- ``special_events`` from the config: yearly dates (``MM-DD``; with ``YYYY-MM-DD``
  a birthday or anniversary counts its years from it, any other kind happens on
  that day only) or a rule (``4th thursday of november``, ``last monday of may``).
  **February 29** is celebrated on **February 28** in common years (the last day
  of February, which is when the person's age changes in most countries' law);
  the age or years shown are those reached that year.
- public holidays of a country and subdivision from the ``holidays`` package, in
  the categories the config opts into (names in the board's language when the
  package has it);
- the equinoxes and solstices (``seasons: true``), from Meeus' algorithm
  (Astronomical Algorithms, ch. 27, accurate to about a minute over 1951–2050),
  dated in the board's timezone, and named for the hemisphere of the location;
- the days the clocks change (``dst: true``), found by scanning the board's
  zoneinfo offsets across each day.

When several fall on one day, ``homeboard.model.SPECIAL_PRIORITY`` picks the banner:
birthday, anniversary, event, holiday, clock change, season; the others are listed
among the day's events. Holidays with ``holidays.banner: false`` are only listed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import requests

from homeboard.errors import SourceError
from homeboard.i18n import words_for
from homeboard.i18n.locales import likely, locale_of
from homeboard.model import (
    HOLIDAYS,
    SPECIAL,
    SPECIAL_PRIORITY,
    SourceKind,
    SpecialDay,
    clock_change,
)

if TYPE_CHECKING:
    from homeboard.config import Config, HolidaysConfig, SpecialEvent

# --------------------------------------------------------------------------- #
# Equinoxes and solstices (Meeus, Astronomical Algorithms, 2nd ed., chapter 27)
# --------------------------------------------------------------------------- #

# Table 27.B: mean instants (JDE) for the years 1000-3000, Y = (year - 2000) / 1000.
_MEAN_TERMS: dict[int, tuple[float, float, float, float, float]] = {
    3: (2451623.80984, 365242.37404, 0.05169, -0.00411, -0.00057),
    6: (2451716.56767, 365241.62603, 0.00325, 0.00888, -0.00030),
    9: (2451810.21715, 365242.01767, -0.11575, 0.00337, 0.00078),
    12: (2451900.05952, 365242.74049, -0.06223, -0.00823, 0.00032),
}
# Table 27.C: periodic terms A, B (degrees), C (degrees per Julian century).
_PERIODIC: tuple[tuple[int, float, float], ...] = (
    (485, 324.96, 1934.136), (203, 337.23, 32964.467), (199, 342.08, 20.186),
    (182, 27.85, 445267.112), (156, 73.14, 45036.886), (136, 171.52, 22518.443),
    (77, 222.54, 65928.934), (74, 296.72, 3034.906), (70, 243.58, 9037.513),
    (58, 119.81, 33718.147), (52, 297.17, 150.678), (50, 21.02, 2281.226),
    (45, 247.54, 29929.562), (44, 325.15, 31555.956), (29, 60.93, 4443.417),
    (18, 155.12, 67555.328), (17, 288.79, 4562.452), (16, 198.04, 62894.029),
    (14, 199.76, 31436.921), (12, 95.39, 14577.848), (12, 287.11, 31931.756),
    (12, 320.81, 34777.259), (9, 227.73, 1222.114), (8, 15.45, 16859.074),
)
_J2000 = 2451545.0
_J2000_UTC = datetime(2000, 1, 1, 12, 0, tzinfo=UTC)


def _delta_t(year: int) -> float:
    """TT - UT in seconds (Espenak & Meeus polynomials); about a minute this century."""
    if 2005 <= year <= 2050:
        t = year - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t * t
    if 1986 <= year < 2005:
        t = year - 2000
        return (63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3
                + 0.000651814 * t**4 + 0.00002373599 * t**5)
    u = (year - 1820) / 100
    return -20 + 32 * u * u  # long-term parabola; minutes are irrelevant to a date


def solstice_or_equinox(year: int, month: int) -> datetime:
    """The UTC instant of the equinox or solstice of ``month`` (3, 6, 9 or 12) in ``year``."""
    if month not in _MEAN_TERMS:
        raise ValueError("month must be 3, 6, 9 or 12")
    y = (year - 2000) / 1000
    a, b, c, d, e = _MEAN_TERMS[month]
    jde0 = a + b * y + c * y**2 + d * y**3 + e * y**4
    t = (jde0 - _J2000) / 36525
    w = math.radians(35999.373 * t - 2.47)
    dlambda = 1 + 0.0334 * math.cos(w) + 0.0007 * math.cos(2 * w)
    s = sum(a_ * math.cos(math.radians(b_ + c_ * t)) for a_, b_, c_ in _PERIODIC)
    jde = jde0 + 0.00001 * s / dlambda
    return _J2000_UTC + timedelta(days=jde - _J2000) - timedelta(seconds=_delta_t(year))


_SEASON_ICONS = ("season_spring", "season_summer", "season_autumn", "season_winter")


def seasons_between(first: date, after: date, tz: tzinfo, *, southern: bool = False,
                    language: str = "en") -> Iterator[SpecialDay]:
    """The equinoxes and solstices whose local date (in ``tz``) is in [first, after)."""
    words = words_for(language)
    for year in range(first.year - 1, after.year + 1):
        for index, month in enumerate((3, 6, 9, 12)):
            day = solstice_or_equinox(year, month).astimezone(tz).date()
            if not first <= day < after:
                continue
            season = (index + 2) % 4 if southern else index  # March is autumn down south
            title = words.season(season)
            yield SpecialDay(date=day, kind="season", title=title, message=title,
                             icon=_SEASON_ICONS[season], color="black")


# --------------------------------------------------------------------------- #
# Clock changes
# --------------------------------------------------------------------------- #

def clock_changes_between(first: date, after: date, tz: tzinfo, *,
                          language: str = "en") -> Iterator[SpecialDay]:
    """A SpecialDay for each day in [first, after) on which the clocks change in ``tz``."""
    words = words_for(language)
    day = first
    while day < after:
        delta = clock_change(day, tz)
        if delta is not None:
            title, message = words.clock_change(delta)
            forward = delta > timedelta(0)
            yield SpecialDay(
                date=day, kind="dst", title=title, message=message,
                icon="dst_forward" if forward else "dst_back", color="black",
            )
        day += timedelta(days=1)


# --------------------------------------------------------------------------- #
# The household's own days
# --------------------------------------------------------------------------- #

_DEFAULT_ICONS = {"birthday": "birthday", "anniversary": "anniversary", "holiday": "holiday",
                  "event": "celebration"}


def yearly_date(month: int, day: int, year: int) -> date:
    """``month``-``day`` in ``year``; February 29 falls on February 28 in common years."""
    if month == 2 and day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


@dataclass(frozen=True)
class _Occurrence:
    day: date
    count: int | None  # age or years reached, when the start year is known


def occurrences(event: SpecialEvent, first: date, after: date) -> Iterator[_Occurrence]:
    """The days in [first, after) on which ``event`` falls."""
    when, rule = event.event_date, event.date_rule
    for year in range(first.year, after.year + 1):
        if rule is not None:
            day = rule.date_in(year)
            if day is not None and first <= day < after:
                yield _Occurrence(day, None)
            continue
        if when is None:
            return
        if when.year is not None and event.kind not in ("birthday", "anniversary"):
            # A dated event or holiday happens on that day only.
            if year == when.year:
                day = date(when.year, when.month, when.day)
                if first <= day < after:
                    yield _Occurrence(day, None)
            continue
        if when.year is not None and year <= when.year:
            continue  # the day itself (age 0) or before it
        day = yearly_date(when.month, when.day, year)
        if first <= day < after:
            yield _Occurrence(day, None if when.year is None else year - when.year)


def special_event_days(events: Iterable[SpecialEvent], first: date, after: date, *,
                       language: str = "en") -> Iterator[SpecialDay]:
    """The configured special events on the days [first, after)."""
    words = words_for(language)
    for event in events:
        for occ in occurrences(event, first, after):
            count = occ.count
            fields: dict[str, Any] = {"name": event.name, "age": count if count is not None else "",
                                      "years": count if count is not None else ""}
            if event.kind == "birthday":
                default = words.birthday
                title = words.birthday_age(event.name, count) if count is not None else None
            elif event.kind == "anniversary":
                default = words.anniversary
                title = words.anniversary_years(event.name, count) if count is not None else None
            else:
                default, title = "{name}", None
            message = (event.message or default).format(**fields)
            yield SpecialDay(
                date=occ.day, kind=event.kind, title=title or message, message=message,
                icon=event.icon or _DEFAULT_ICONS.get(event.kind, "celebration"),
                color=event.color,
            )


# --------------------------------------------------------------------------- #
# Public holidays
# --------------------------------------------------------------------------- #

_HOLIDAY_ICONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("christmas", "weihnacht", "noël", "noel", "navidad", "kerst", "juldag", "julafton"),
     "christmas"),
    (("easter", "oster", "pâques", "paques", "pascua", "pasen", "påsk"), "easter"),
    (("halloween",), "halloween"),
    (("new year", "neujahr", "nouvel an", "jour de l'an", "año nuevo", "nieuwjaar", "nyår"),
     "new_year"),
    (("valentine", "mother's day", "father's day", "muttertag", "vatertag"), "heart"),
)


def holiday_icon(name: str) -> str:
    """An icon for a holiday's name (Christmas → christmas …), else "holiday"."""
    lowered = name.casefold()
    for words, icon in _HOLIDAY_ICONS:
        if any(w in lowered for w in words):
            return icon
    return "holiday"


def holiday_language(supported: Iterable[str], language: str) -> str | None:
    """The one of ``supported`` (the holidays package's codes) that suits ``language``.

    ``pt_BR`` -> pt_BR, ``zh_Hant`` -> zh_TW, ``zh`` -> zh_CN, ``en_GB`` -> en_GB or else
    another English; never a language in another script (Traditional for Simplified).
    None when the package has no names in that language: it then uses the country's own.
    """
    supported = tuple(supported)
    lang, script, region = likely(language)
    wanted = [str(locale_of(language)), f"{lang}_{region}", lang]
    found = next((s for s in wanted if s in supported), None)
    if found is not None:
        return found
    return next(
        (s for s in supported if s.split("_")[0] == lang and likely(s)[1] == script), None
    )


def holiday_calendar(cfg: HolidaysConfig, years: Iterable[int], *, language: str = "en") -> Any:
    """The ``holidays`` object for ``cfg``; ValueError with a readable reason if it is unknown."""
    try:
        import holidays
    except ImportError:
        raise ValueError("the holidays package is not installed") from None
    kwargs: dict[str, Any] = {"years": list(years), "categories": tuple(cfg.categories)}
    if cfg.subdivision:
        kwargs["subdiv"] = cfg.subdivision
    try:
        probe = holidays.country_holidays(cfg.country, **{k: v for k, v in kwargs.items()
                                                           if k != "years"})
        lang = holiday_language(getattr(probe, "supported_languages", ()), language)
        # Else the country's own language, said outright: left out, the package reads
        # the process's LANG, and the names would change with the shell they start from.
        lang = lang or getattr(probe, "default_language", None)
        if lang is not None:
            kwargs["language"] = lang
        return holidays.country_holidays(cfg.country, **kwargs)
    except NotImplementedError as exc:
        raise ValueError(str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise ValueError(str(exc)) from None


def check_holidays(cfg: HolidaysConfig) -> str | None:
    """A problem with ``cfg`` (unknown country, subdivision or category), or None."""
    try:
        holiday_calendar(cfg, [date.today().year])
    except ValueError as exc:
        return str(exc)
    return None


def holidays_between(cfg: HolidaysConfig, first: date, after: date, *,
                     language: str = "en") -> Iterator[SpecialDay]:
    """The public holidays of ``cfg`` on the days [first, after)."""
    try:
        calendar = holiday_calendar(cfg, range(first.year, after.year + 1), language=language)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    day = first
    while day < after:
        for name in calendar.get_list(day):
            yield SpecialDay(date=day, kind="holiday", title=name, message=name,
                             icon=holiday_icon(name), color="red", banner=cfg.banner)
        day += timedelta(days=1)


# --------------------------------------------------------------------------- #
# The source
# --------------------------------------------------------------------------- #


class SpecialDaysSource:
    """The household's special days, seasons and clock changes, computed with no network.

    Public holidays are a source of their own (``HolidaysSource``): the holidays
    package can refuse a country or subdivision, and that must not take the
    birthdays with it.
    """

    name = SPECIAL
    kind: SourceKind = "special"
    label = "Special days"
    refresh: timedelta | None = None

    def __init__(
        self,
        *,
        tz: tzinfo,
        days: int,
        events: tuple[SpecialEvent, ...] = (),
        seasons: bool = False,
        dst: bool = False,
        southern: bool = False,
        language: str = "en",
    ) -> None:
        self.tz = tz
        self.days = days
        self.events = events
        self.seasons = seasons
        self.dst = dst
        self.southern = southern
        self.language = language

    @classmethod
    def from_config(cls, config: Config) -> SpecialDaysSource:
        """The special days of ``config`` (without its public holidays)."""
        return cls(
            tz=config.tz, days=config.layout.days, events=tuple(config.special_events),
            seasons=config.seasons, dst=config.dst,
            southern=config.location is not None and config.location.latitude < 0,
            language=config.language,
        )

    def between(self, first: date, after: date) -> tuple[SpecialDay, ...]:
        """Every special day in [first, after), in date and priority order."""
        found: list[SpecialDay] = list(special_event_days(self.events, first, after,
                                                          language=self.language))
        if self.seasons:
            found.extend(seasons_between(first, after, self.tz, southern=self.southern,
                                         language=self.language))
        if self.dst:
            found.extend(clock_changes_between(first, after, self.tz, language=self.language))
        return _ordered(found)

    def fetch(self, *, session: requests.Session, now: datetime) -> tuple[SpecialDay, ...]:
        """The special days shown as of ``now`` (plus one day, for a frame drawn after midnight)."""
        first, after = _window(now, self.tz, self.days)
        return self.between(first, after)


class HolidaysSource:
    """The public holidays of the configured country, from the ``holidays`` package."""

    name = HOLIDAYS
    kind: SourceKind = "holidays"
    label = "Holidays"
    refresh: timedelta | None = None

    def __init__(self, *, cfg: HolidaysConfig, tz: tzinfo, days: int,
                 language: str = "en") -> None:
        self.cfg = cfg
        self.tz = tz
        self.days = days
        self.language = language

    @classmethod
    def from_config(cls, config: Config) -> HolidaysSource:
        """The holidays of ``config`` (which has ``holidays`` set)."""
        assert config.holidays is not None
        return cls(cfg=config.holidays, tz=config.tz, days=config.layout.days,
                   language=config.language)

    def between(self, first: date, after: date) -> tuple[SpecialDay, ...]:
        """The holidays in [first, after); SourceError when the package refuses the config."""
        return _ordered(holidays_between(self.cfg, first, after, language=self.language))

    def fetch(self, *, session: requests.Session, now: datetime) -> tuple[SpecialDay, ...]:
        """The holidays shown as of ``now`` (plus one day, like the special days)."""
        first, after = _window(now, self.tz, self.days)
        return self.between(first, after)


def _window(now: datetime, tz: tzinfo, days: int) -> tuple[date, date]:
    today = now.astimezone(tz).date()
    return today, today + timedelta(days=max(days, 1) + 1)


def _ordered(found: Iterable[SpecialDay]) -> tuple[SpecialDay, ...]:
    return tuple(sorted(found, key=lambda s: (s.date, SPECIAL_PRIORITY.get(s.kind, 9), s.title)))


__all__ = [
    "HolidaysSource", "SpecialDaysSource", "check_holidays", "clock_change",
    "clock_changes_between", "holiday_calendar", "holiday_icon", "holiday_language",
    "holidays_between",
    "occurrences", "seasons_between", "solstice_or_equinox", "special_event_days", "yearly_date",
]
