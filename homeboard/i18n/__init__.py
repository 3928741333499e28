"""The household's language: CLDR locales (Babel) and the board's own words (gettext).

``language`` is any CLDR locale identifier (``en``, ``en_GB``, ``de``, ``pt_BR``,
``zh_Hant``, ``ja``, ``hi``, ``ar`` ...). From it come day and month names, date and
time patterns, digits, the first day of the week, the usual clock and the reading
direction (``locales``), and the board's phrases from the catalogs (``words``).
"""

from homeboard.i18n.locales import (
    Clock,
    canonical_language,
    default_clock,
    first_week_day,
    is_rtl,
)
from homeboard.i18n.words import LANGUAGES, WORDS, Words, translations, words_for

__all__ = [
    "LANGUAGES",
    "WORDS",
    "Clock",
    "Words",
    "canonical_language",
    "default_clock",
    "first_week_day",
    "is_rtl",
    "translations",
    "words_for",
]
