"""The board's own words in the household's language: gettext catalogs plus CLDR names.

The catalogs (``locale/<language>/LC_MESSAGES/homeboard.po``, compiled to ``.mo``) hold
the board's phrases; Babel extracts them from this package and compiles them
(``scripts/i18n.py``). English is the source language: a phrase missing from a
catalog, or one whose translation names other placeholders than the English, is
drawn in English, never a crash.
"""

from __future__ import annotations

import gettext
import logging
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import date as calendar_day  # Words.date (a method) shadows the type
from functools import cache
from pathlib import Path

from homeboard.i18n.locales import (
    Clock,
    canonical_language,
    day_names,
    default_clock,
    first_week_day,
    format_integer,
    format_percent,
    format_skeleton,
    is_rtl,
    likely,
    locale_of,
    month_names,
)

logger = logging.getLogger(__name__)

DOMAIN = "homeboard"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# The languages with a catalog of the board's words (English is the source language).
LANGUAGES: tuple[str, ...] = (
    "en", "ar", "de", "el", "es", "fa", "fr", "he", "hi", "it", "ja", "ko", "nl", "pl", "pt",
    "pt_BR", "ru", "sv", "th", "tr", "uk", "vi", "zh_Hans", "zh_Hant",
)  # fmt: skip


def _placeholders(text: str) -> set[str] | None:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None


def vetted(translated: str, *english: str) -> str:
    """``translated`` when its placeholders are among the English ones, else the English.

    A translation that names other placeholders would crash or mislead on the wall.
    """
    allowed: set[str] = set()
    for text in english:
        allowed |= _placeholders(text) or set()
    found = _placeholders(translated)
    if found is None or not found <= allowed:
        return english[0]
    return translated


def catalog_names(language: str) -> list[str]:
    """The catalogs that may serve ``language``, most specific first.

    ``pt_BR`` -> pt_BR, pt; ``zh_Hant_TW`` -> zh_Hant_TW, zh_TW, zh_Hant; ``zh`` -> zh_Hans.
    A bare language is tried only in its usual script, so Traditional Chinese never
    falls back to Simplified (nor Serbian Latin to Cyrillic).
    """
    loc = locale_of(language)
    lang, script, region = likely(language)
    _, usual_script, _ = likely(lang)
    names = [str(loc)]
    if region:
        names += [f"{lang}_{script}_{region}", f"{lang}_{region}"]
    names.append(f"{lang}_{script}")
    if script == usual_script:
        names.append(lang)
    return list(dict.fromkeys(n for n in names if n))


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The board's catalogs for ``language``, chained down to English (the msgids)."""
    chain: list[gettext.NullTranslations] = []
    for name in catalog_names(language):
        path = LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        try:
            with path.open("rb") as fp:
                chain.append(gettext.GNUTranslations(fp))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, UnicodeDecodeError):
            # A damaged catalog costs its words, not the board: English stands in.
            logger.warning("cannot read the catalog %s; its words are shown in English", path)
    if not chain:
        return gettext.NullTranslations()
    for more_specific, general in zip(chain, chain[1:], strict=False):
        more_specific.add_fallback(general)
    return chain[0]


def _title(name: str) -> str:
    """A day name as a heading: its first letter capital (``mardi`` -> ``Mardi``)."""
    first = name[:1].upper()
    return (first if len(first) == 1 else name[:1]) + name[1:]


@dataclass(frozen=True)
class Words:
    """The words and formats of one language that appear on the frame.

    Plain fields are finished words or ``str.format`` templates (placeholders named in
    the comments); phrases that depend on a number are methods, for plural rules.
    """

    language: str  # the canonical CLDR identifier
    days: tuple[str, ...]  # Monday first, as datetime.weekday(); headings
    days_short: tuple[str, ...]
    months: tuple[str, ...]
    months_short: tuple[str, ...]
    today: str
    tomorrow: str
    all_day: str
    updated: str  # "Updated {time}"
    stale: str  # "{name} as of {when}"
    as_of: str  # "as of {when}" (under the weather now)
    unavailable: str  # "{name} unavailable"
    cut: str  # "{name}: too large, cut" (a source past one of its caps, last good data kept)
    reconnect: str  # "{name}: reconnect calendar" (its authorisation was withdrawn)
    no_events: str
    busy: str  # the title of an event that has none
    weather: str  # the weather source's name in notes
    holidays: str  # the public holidays' name in notes
    feels_like: str  # "feels {temp}"
    birthday: str  # "Happy Birthday, {name}!"
    anniversary: str  # "Happy Anniversary, {name}!"
    rtl: bool  # written right to left
    first_week_day: int  # 0 = Monday ... 6 = Sunday, where the language is spoken
    clock: Clock  # the locale's usual clock; the config's ``clock`` overrides it
    catalog: gettext.NullTranslations = field(repr=False, compare=False)

    # -- phrases with a number

    def more(self, n: int) -> str:
        """``+3 more``: the events of a day that did not fit."""
        text = self.catalog.ngettext("+{n} more", "+{n} more", n)
        return vetted(text, "+{n} more").format(n=self.number(n))

    def birthday_age(self, name: str, age: int) -> str:
        """``Corinne turns 8``."""
        text = self.catalog.ngettext("{name} turns {age}", "{name} turns {age}", age)
        return vetted(text, "{name} turns {age}").format(name=name, age=self.number(age))

    def anniversary_years(self, name: str, years: int) -> str:
        """``Jess & Kyle: 12 years``."""
        text = self.catalog.ngettext("{name}: {years} year", "{name}: {years} years", years)
        return vetted(text, "{name}: {years} years").format(name=name, years=self.number(years))

    def season(self, index: int) -> str:
        """The day a season starts: 0 spring, 1 summer, 2 autumn, 3 winter."""
        t = self.catalog
        titles = (
            t.gettext("First day of spring"),
            t.gettext("First day of summer"),
            t.gettext("First day of autumn"),
            t.gettext("First day of winter"),
        )
        return titles[index]

    def clock_change(self, delta: timedelta) -> tuple[str, str]:
        """(title, message) for the day the clocks move by ``delta`` (+1h in spring)."""
        t = self.catalog
        minutes = int(abs(delta.total_seconds()) // 60)
        if minutes % 60:
            amount = vetted(t.npgettext("clock change", "{n} minute", "{n} minutes", minutes),
                           "{n} minutes").format(n=self.number(minutes))  # fmt: skip
        else:
            hours = minutes // 60
            amount = vetted(t.npgettext("clock change", "{n} hour", "{n} hours", hours),
                           "{n} hours").format(n=self.number(hours))  # fmt: skip
        if delta > timedelta(0):
            title = vetted(t.gettext("Clocks go forward {delta}"), "Clocks go forward {delta}")
            message = t.gettext("Daylight saving time starts")
        else:
            title = vetted(t.gettext("Clocks go back {delta}"), "Clocks go back {delta}")
            message = t.gettext("Daylight saving time ends")
        return title.format(delta=amount), message

    # -- numbers, dates and times

    def number(self, value: int) -> str:
        """A whole number in the locale's digits and minus sign."""
        return format_integer(value, self.language)

    def percent(self, value: int) -> str:
        """A percentage as the locale writes it."""
        return format_percent(value, self.language)

    def date(self, day: date) -> str:
        """A day and month, short: ``Dec 1``, ``1. Dez.``, ``12月1日``."""
        return format_skeleton("MMMd", day, self.language)

    def time(self, moment: datetime, clock: str) -> str:
        """A time of day, compact: ``9:30am``/``3pm`` or ``15:45`` in English, CLDR elsewhere."""
        if self.language.split("_")[0] == "en":
            if clock == "12h":
                hour = moment.hour % 12 or 12
                suffix = "am" if moment.hour < 12 else "pm"
                minutes = "" if moment.minute == 0 else f":{moment.minute:02d}"
                return f"{hour}{minutes}{suffix}"
            return f"{moment.hour}:{moment.minute:02d}"
        return format_skeleton("hm" if clock == "12h" else "Hm", moment, self.language)

    def when(self, moment: datetime, today: calendar_day, clock: str) -> str:
        """A past moment from ``today``: the time today, weekday and time this week, else a date."""
        if moment.date() == today:
            return self.time(moment, clock)
        if today - moment.date() < timedelta(days=6):
            if self.language.split("_")[0] == "en":
                return f"{self.days_short[moment.weekday()]} {self.time(moment, clock)}"
            return format_skeleton("Ehm" if clock == "12h" else "EHm", moment, self.language)
        return self.date(moment.date())


def _build(language: str) -> Words:
    t = translations(language)

    def _(message: str) -> str:  # the name Babel extracts
        return vetted(t.gettext(message), message)

    return Words(
        language=language,
        days=tuple(_title(d) for d in day_names(language, "wide")),
        days_short=tuple(_title(d) for d in day_names(language, "abbreviated")),
        months=month_names(language, "wide"),
        months_short=month_names(language, "abbreviated"),
        today=_("Today"),
        tomorrow=_("Tomorrow"),
        all_day=_("all day"),
        updated=_("Updated {time}"),
        stale=_("{name} as of {when}"),
        as_of=_("as of {when}"),
        unavailable=_("{name} unavailable"),
        cut=_("{name}: too large, cut"),
        reconnect=_("{name}: reconnect calendar"),
        no_events=_("Nothing planned"),
        busy=_("Busy"),
        weather=_("Weather"),
        holidays=_("Holidays"),
        feels_like=_("feels {temp}"),
        birthday=_("Happy Birthday, {name}!"),
        anniversary=_("Happy Anniversary, {name}!"),
        rtl=is_rtl(language),
        first_week_day=first_week_day(language),
        clock=default_clock(language),
        catalog=t,
    )


@cache
def words_for(language: str) -> Words:
    """The words of ``language`` (any CLDR identifier); English for an unknown one."""
    try:
        canonical = canonical_language(language)
    except ValueError:
        canonical = "en"
    return _build(canonical)


class _Shipped(Mapping[str, Words]):
    """The languages with a catalog, each built when first asked for."""

    def __getitem__(self, language: str) -> Words:
        if language not in LANGUAGES:
            raise KeyError(language)
        return words_for(language)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


WORDS: Mapping[str, Words] = _Shipped()
