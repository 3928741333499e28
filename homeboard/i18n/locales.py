"""CLDR locales through Babel: which identifiers exist, and what a locale says by default.

Everything a locale decides on its own (day and month names, date patterns, digits,
the first day of the week, 12 or 24 hours, reading direction) comes from CLDR via
Babel, which is pure Python and carries its data: the board needs no C library
locale (a Pi often has only ``C.UTF-8`` generated) and looks the same everywhere.
"""

from __future__ import annotations

import difflib
import unicodedata
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is first needed, not with this module: importing it and
# its data costs about 0.1 s and 2 MB on a desktop core (measured in
# benchmarks/bench_i18n.py), which `homeboard --help` and friends need not pay.

Clock = Literal["24h", "12h"]

# The first digit (zero) of each numbering system CLDR names as a locale's default.
# Babel formats with ASCII digits whatever the locale says; these few systems are what
# CLDR's default numbering ever is (ar_EG: arab, fa: arabext, bn: beng, mr: deva ...).
_ZEROS: dict[str, str] = {
    "arab": "\u0660",
    "arabext": "\u06f0",
    "beng": "\u09e6",
    "deva": "\u0966",
    "mymr": "\u1040",
    "olck": "\u1c50",
    "tibt": "\u0f20",
    "mtei": "\uabf0",
    "thai": "\u0e50",
    "adlm": "\U0001e950",
}


@cache
def _identifiers() -> dict[str, str]:
    """Every CLDR locale Babel has, keyed by its lower-case spelling."""
    from babel.localedata import locale_identifiers

    return {name.lower(): name for name in locale_identifiers() if name != "root"}


@cache
def _by_english_name() -> dict[str, str]:
    """CLDR identifiers by their English name, lower case ("german" -> "de")."""
    from babel import Locale

    known = _identifiers()
    names = Locale.parse("en").languages.items()
    return {name.lower(): known[code.lower()] for code, name in names if code.lower() in known}


def canonical_language(text: str) -> str:
    """The CLDR identifier for ``text`` (``pt-br`` -> ``pt_BR``, ``zh_TW`` -> ``zh_Hant_TW``).

    Raises ValueError naming the closest identifiers when ``text`` is no CLDR locale.
    Three-letter and legacy aliases (``deu``, ``iw``) are refused with the identifier
    they stand for, so that the config file says what the board uses.
    """
    from babel import Locale, UnknownLocaleError

    spelled = text.strip().replace("-", "_")
    known = _identifiers()
    if spelled.lower() in known:
        return known[spelled.lower()]
    try:
        parsed = Locale.parse(spelled)
    except (UnknownLocaleError, ValueError, TypeError):
        parsed = None
    if parsed is not None and parsed.language == spelled.split("_")[0].lower():
        # zh_TW: a language and a region that CLDR files under zh_Hant_TW.
        if str(parsed).lower() in known:
            return known[str(parsed).lower()]
    hints: list[str] = []
    if parsed is not None:  # an alias: deu -> de, iw -> he
        hints.append(parsed.language)
    head = spelled.split("_")[0].lower()
    if head in known:  # en_XX: the language exists, the region does not
        hints.append(known[head])
    named = _by_english_name().get(spelled.lower())  # "german", "Brazilian Portuguese"
    if named:
        hints.append(named)
    hints += difflib.get_close_matches(spelled, sorted(set(known.values())), n=3, cutoff=0.6)
    hints = [h for h in hints if h.lower() in known]
    shown = list(dict.fromkeys(hints))[:3]
    hint = f" (did you mean {' or '.join(repr(h) for h in shown)}?)" if shown else ""
    raise ValueError(
        f"unknown language {text!r}: use a CLDR locale such as en, en_GB, de, pt_BR, zh_Hant{hint}"
    )


@cache
def locale_of(language: str) -> Locale:
    """The Babel locale of ``language`` (a canonical identifier; English if unknown)."""
    from babel import Locale

    try:
        return Locale.parse(canonical_language(language))
    except ValueError:
        return Locale.parse("en")


def likely(language: str) -> tuple[str, str, str]:
    """(language, script, region) with CLDR's likely subtags filled in (he -> he, Hebr, IL)."""
    from babel import Locale
    from babel.core import get_global

    loc = locale_of(language)
    subtags = get_global("likely_subtags")
    full = None
    for key in (str(loc), f"{loc.language}_{loc.script}" if loc.script else "", loc.language):
        if key and key in subtags:
            full = Locale.parse(subtags[key])
            break
    script = loc.script or (full.script if full else None) or ""
    region = loc.territory or (full.territory if full else None) or ""
    return loc.language, script, region


def is_rtl(language: str) -> bool:
    """Whether ``language`` is written right to left (ar, he, fa, ur ...), per CLDR."""
    return locale_of(language).character_order == "right-to-left"


def first_week_day(language: str) -> int:
    """The first day of the week where ``language`` is spoken (0 = Monday, 6 = Sunday).

    A bare language takes its likely region: ``en`` is the US (Sunday), ``he`` Israel
    (Sunday), ``ar`` Egypt (Saturday), ``de`` Germany (Monday).
    """
    from babel import Locale

    lang, script, region = likely(language)
    return Locale(lang, territory=region or None, script=script or None).first_week_day


def default_clock(language: str) -> Clock:
    """The clock the locale writes times with: ``12h`` when its short time uses ``h``/``K``."""
    pattern = locale_of(language).time_formats["short"].pattern
    skeleton = "".join(ch for ch in pattern if ch in "hHkK")
    return "12h" if skeleton[:1] in ("h", "K") else "24h"


@cache
def _zero(language: str) -> str:
    system = locale_of(language).default_numbering_system
    zero = _ZEROS.get(system, "0")
    return zero if unicodedata.digit(zero, None) == 0 else "0"


def native_digits(text: str, language: str) -> str:
    """``text`` with its ASCII digits written in the locale's default numbering system."""
    zero = _zero(language)
    if zero == "0":
        return text
    base = ord(zero)
    return "".join(chr(base + ord(c) - 48) if "0" <= c <= "9" else c for c in text)


def format_integer(value: int, language: str) -> str:
    """A whole number with the locale's digits and minus sign (sv: ``−5``, ar_EG: ``؜-٥``)."""
    from babel import numbers

    loc = locale_of(language)
    text = numbers.format_decimal(abs(value), locale=loc, numbering_system="default")
    if value < 0:
        # Babel keeps the pattern's ASCII hyphen; CLDR's minus sign may differ (U+2212 in
        # Swedish) or carry a direction mark that keeps it before the digits in RTL text.
        text = numbers.get_minus_sign_symbol(loc, numbering_system="default") + text
    return native_digits(text, language)


def format_percent(value: int, language: str) -> str:
    """A percentage as the locale writes it (``30%``, ``30 %``, ``%30``)."""
    from babel import numbers

    loc = locale_of(language)
    text = numbers.format_percent(value / 100, locale=loc, numbering_system="default")
    # Babel keeps the pattern's ASCII sign; CLDR's may differ (Arabic ٪) or carry marks.
    sign = loc.number_symbols[loc.default_numbering_system].get("percentSign", "%")
    return native_digits(text.replace("%", sign), language)


@cache
def _pattern(language: str, skeleton: str) -> str:
    """The locale's pattern for ``skeleton``, the hour without a leading zero (compact)."""
    from babel import dates

    loc = locale_of(language)
    skeletons = loc.datetime_skeletons
    best = dates.match_skeleton(skeleton, skeletons) or skeleton
    pattern = str(skeletons[best].pattern) if best in skeletons else skeleton
    # "09:30" and "9:30" are both right in every locale; the board's time is compact.
    return pattern.replace("HH", "H").replace("hh", "h").replace("KK", "K").replace("kk", "k")


def format_skeleton(skeleton: str, moment: date | datetime, language: str) -> str:
    """``moment`` written with the locale's pattern for ``skeleton`` (``MMMd``: ``1. Dez.``)."""
    from babel import dates

    loc = locale_of(language)
    pattern = _pattern(language, skeleton)
    if isinstance(moment, datetime):
        text = dates.format_datetime(moment, pattern, locale=loc)
    else:
        text = dates.format_date(moment, pattern, locale=loc)
    return native_digits(text, language)


def day_names(language: str, width: str, context: str = "stand-alone") -> tuple[str, ...]:
    """The seven day names, Monday first (``width``: wide, abbreviated, short, narrow)."""
    from babel import dates

    names = dates.get_day_names(width, context, locale_of(language))  # type: ignore[arg-type]
    return tuple(names[i] for i in range(7))


def month_names(language: str, width: str, context: str = "format") -> tuple[str, ...]:
    """The twelve month names, January first."""
    from babel import dates

    names = dates.get_month_names(width, context, locale_of(language))  # type: ignore[arg-type]
    return tuple(names[i] for i in range(1, 13))
