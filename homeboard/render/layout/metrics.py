"""Sizes, the drawing surface and the text formats every piece of the board shares."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, TypeGuard

from PIL import Image, ImageDraw

from homeboard.i18n import Words
from homeboard.model import BoardState
from homeboard.render.text import (
    FontChain,
    cap_text,
    fit_text,
    get_font,
    split_to_fit,
    text_width,
)

Box = tuple[int, int, int, int]
Orientation = Literal["landscape", "portrait"]


@dataclass(frozen=True)
class Metrics:
    """Sizes for one panel, scaled from the 800x480 design."""

    scale: float
    language: str = "en"  # the board's: picks the CJK glyph forms (see text.get_font)

    def px(self, value: float) -> int:
        """Scale a design pixel value to this panel."""
        return max(1, round(value * self.scale))

    def font(self, size: float, *, bold: bool = False, display: bool = False) -> FontChain:
        """A font of design size ``size`` scaled to this panel (``display``: condensed)."""
        family = "display" if display else "ui"
        return get_font(self.px(size), bold=bold, family=family, language=self.language)

    def fitting_font(
        self,
        text: str,
        width: int,
        sizes: tuple[float, ...],
        *,
        bold: bool = False,
        display: bool = False,
    ) -> FontChain:
        """The first of ``sizes`` at which ``text`` fits ``width``, else the last.

        For numbers and dates, which must be read whole: a smaller size beats "-13°/-2…"
        or "12月1…".
        """
        for size in sizes:
            font = self.font(size, bold=bold, display=display)
            if text_width(text, font) <= width:
                return font
        return font


@dataclass(frozen=True)
class Canvas:
    """What every piece draws with: the frame, its sizes, the state and its words."""

    image: Image.Image
    m: Metrics
    state: BoardState
    words: Words
    draw: ImageDraw.ImageDraw = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "draw", ImageDraw.Draw(self.image))


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #


# No air temperature on Earth comes near these in °C or °F: beyond them a number is
# a fault in the data (or an overflow), and the frame shows it as unknown.
TEMPERATURE_LIMIT = 300


def round_half_away(value: float) -> int:
    """Round as people do: halves away from zero (18.5 -> 19, -0.5 -> -1, 17.5 -> 18).

    Python's ``round`` rounds halves to even (18.5 -> 18). The value is first rounded to
    six decimals so that float noise from a unit conversion (64.49999999999999 for 64.5)
    does not decide which way a half goes.
    """
    value = round(value, 6)
    whole = math.floor(abs(value) + 0.5)
    return int(math.copysign(whole, value)) if whole else 0


def format_temp(value: float | None, words: Words | None = None) -> str:
    """A temperature as shown: rounded half away from zero, with a degree sign.

    A dash when unknown, not a number or beyond any real temperature; never "-0°".
    With ``words``, in the locale's digits and minus sign (``−5°`` in Swedish).
    """
    if not _is_number(value) or not -TEMPERATURE_LIMIT < value < TEMPERATURE_LIMIT:
        return "–"
    degrees = round_half_away(value)
    return f"{words.number(degrees) if words else degrees}°"


def format_chance(value: float | None, words: Words | None = None) -> str:
    """A chance of precipitation as shown (``30%``); "" for none, zero or a value not in 0-100.

    With ``words``, as the locale writes a percentage (``30 %`` in German).
    """
    if not _is_number(value) or not 0 < value <= 100:
        return ""
    percent = round_half_away(value)
    if not percent:
        return ""
    return words.percent(percent) if words else f"{percent}%"


def _is_number(value: object) -> TypeGuard[float]:
    """True for a finite int or float (not a bool, not NaN, not infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def format_time(moment: datetime, clock: str, words: Words | None = None) -> str:
    """A time of day, compact: ``9:30`` / ``15:45`` (24h) or ``9:30am`` / ``3pm`` (12h).

    With ``words``, as the locale writes it (``18:05 น.``, ``오후 6:05``).
    """
    if words is not None:
        return words.time(moment, clock)
    if clock == "12h":
        hour = moment.hour % 12 or 12
        suffix = "am" if moment.hour < 12 else "pm"
        return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"
    return f"{moment.hour}:{moment.minute:02d}"


def format_date(day: date, words: Words, language: str = "") -> str:
    """A day and month in the locale's order: ``Nov 25``, ``25. Nov.``, ``11月25日``."""
    return words.date(day)


def format_when(moment: datetime, today: date, clock: str, words: Words) -> str:
    """A past moment relative to today: ``9:15am`` today, ``Tue 6pm`` this week, ``Nov 3``.

    In the locale's order: ``Di., 18:00`` in German, ``18:00 (火)`` in Japanese.
    """
    return words.when(moment, today, clock)


def wrap_text(text: str, font: FontChain, max_width: int, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines at spaces; the last one ends in "…"
    when text is left over. A word wider than a line is broken across lines (between whole
    characters) rather than leaving a line empty; the last line cuts what is left."""
    words = cap_text(text).split()
    lines: list[str] = []
    while words and len(lines) < max_lines - 1:
        line = words[0]
        taken = 1
        while taken < len(words) and text_width(f"{line} {words[taken]}", font) <= max_width:
            line = f"{line} {words[taken]}"
            taken += 1
        if taken == 1 and text_width(line, font) > max_width:
            # One word wider than the line ("Audiogesteuerte" in a narrow column): fill
            # this line with as much of it as fits and go on with the rest of it.
            head, rest = split_to_fit(line, font, max_width, keep=3)
            if not head:
                break  # not even one character fits: let the last line cut it
            lines.append(head)
            words = [rest, *words[1:]] if rest else words[1:]
            continue
        lines.append(line)
        words = words[taken:]
    if words:
        lines.append(fit_text(" ".join(words), font, max_width))
    return lines or [""]


def names_text(names: list[str], font: FontChain, width: int) -> str:
    """``A, B, C`` or, when that is too wide, ``A, B +3``."""
    for shown in range(len(names), 0, -1):
        text = ", ".join(names[:shown]) + (f" +{len(names) - shown}" if shown < len(names) else "")
        if text_width(text, font) <= width or shown == 1:
            return text
    return ""


# --------------------------------------------------------------------------- #
# Lines
# --------------------------------------------------------------------------- #


def hline(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int, fill: int, width: int = 1) -> None:
    """A horizontal rule from ``x0`` up to ``x1`` (exclusive), ``width`` pixels thick."""
    draw.rectangle((x0, y, x1 - 1, y + width - 1), fill=fill)


def vline(draw: ImageDraw.ImageDraw, x: int, y0: int, y1: int, fill: int, width: int = 1) -> None:
    """A vertical rule from ``y0`` down to ``y1`` (exclusive), ``width`` pixels thick."""
    draw.rectangle((x, y0, x + width - 1, y1 - 1), fill=fill)
