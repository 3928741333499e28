"""The household page's words: the board's gettext catalogs, CLDR plurals, dates and units.

The page shares the board's catalogs (domain ``homeboard``): one file per language for
a translator, words the frame and the page both say ("Weather", "Holidays") written
once, and the catalog the page's process already opens for the board's day names.
Phrases are ``str.format`` templates like the board's; one whose translation names
other placeholders than the English is shown in English, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cache

from homeboard.i18n import Words, words_for
from homeboard.i18n.locales import locale_of, native_digits
from homeboard.i18n.words import vetted

# The largest whole unit an age is written in ("3 hours ago", not "190 minutes ago").
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
#: Under this many seconds, a moment is "just now".
JUST_NOW = 10


@dataclass(frozen=True)
class PageWords:
    """The page's sentences in one language, with its clock."""

    board: Words  # the board's words: CLDR names and numbers, and the catalog
    clock: str  # "24h" or "12h"

    @property
    def language(self) -> str:
        """The canonical CLDR identifier (``pt_BR``)."""
        return self.board.language

    @property
    def lang(self) -> str:
        """The BCP 47 tag for ``<html lang>`` (``pt-BR``, ``zh-Hant``)."""
        return self.board.language.replace("_", "-")

    @property
    def rtl(self) -> bool:
        """Whether the page reads right to left."""
        return self.board.rtl

    # -- gettext, with the board's str.format placeholders

    def _(self, message: str, **values: object) -> str:
        """``message`` translated, its ``{placeholders}`` filled."""
        text = vetted(self.board.catalog.gettext(message), message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The form of ``singular``/``plural`` the language's plural rules pick for ``n``."""
        english = singular if n == 1 else plural
        text = vetted(self.board.catalog.ngettext(singular, plural, n), english, singular, plural)
        return text.format(n=self.board.number(n), **values)

    def pgettext(self, context: str, message: str, **values: object) -> str:
        """``message`` translated in ``context`` (a word that reads differently elsewhere)."""
        text = vetted(self.board.catalog.pgettext(context, message), message)
        return text.format(**values) if values else text

    # -- numbers, durations and moments from CLDR

    def number(self, value: int) -> str:
        """A whole number in the locale's digits."""
        return self.board.number(value)

    def seconds(self, value: float) -> str:
        """A duration in seconds with one decimal: ``2.3 sec``, ``2,3 Sek.``, ``2.3 秒``."""
        from babel.units import format_unit

        text = format_unit(
            value,
            "duration-second",
            length="short",
            format="#,##0.0",
            locale=locale_of(self.language),
        )
        return native_digits(text, self.language)

    def relative(self, seconds: float) -> str:
        """``3 minutes ago`` (``seconds`` past) or ``in 3 minutes`` (negative: ahead)."""
        from babel.dates import format_timedelta

        whole = int(abs(seconds))
        if seconds >= 0 and whole < JUST_NOW:
            return self._("just now")
        for unit, size in _UNITS:
            if whole >= size or unit == "second":
                # Whole units, counted down (not rounded up: 50 minutes is not "1 hour ago").
                amount = max(1, whole // size) * size
                delta = timedelta(seconds=-amount if seconds >= 0 else amount)
                text = format_timedelta(
                    delta,
                    granularity=unit,  # type: ignore[arg-type]
                    threshold=1,
                    add_direction=True,
                    format="long",
                    locale=locale_of(self.language),
                )
                return native_digits(text, self.language)
        raise AssertionError("unreachable")  # pragma: no cover

    def moment(self, moment: datetime, now: datetime, tz: tzinfo, *, relative: bool = True) -> str:
        """A moment in the household's time, as the board writes it (``18:05`` today,
        ``Di., 18:05`` this week, ``1. Dez.`` before), with how long ago it was."""
        local = moment.astimezone(tz)
        shown = self.board.when(local, now.astimezone(tz).date(), self.clock)
        if not relative:
            return shown
        age = self.relative(now.timestamp() - moment.timestamp())
        return self._("{when} ({age})", when=shown, age=age)


@cache
def page_words(language: str, clock: str) -> PageWords:
    """The page's words in ``language`` (any CLDR identifier; English words without a
    catalog) with times on ``clock``."""
    return PageWords(words_for(language), clock)


__all__ = ["JUST_NOW", "PageWords", "page_words"]
