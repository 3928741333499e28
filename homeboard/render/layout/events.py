"""A day's events in a box: all-day bars, special days, timed events and ``+N more``."""

from __future__ import annotations

from datetime import datetime

from PIL import Image, ImageDraw

from drivers.palette import BLACK, RED, WHITE
from homeboard.i18n import Words
from homeboard.model import BoardState, Event
from homeboard.render.icons import draw_icon, known_icon
from homeboard.render.layout.metrics import Box, Metrics, format_time, wrap_text
from homeboard.render.text import draw_text, is_rtl_language, text_width


def _when(ev: Event, state: BoardState, words: Words) -> str:
    """The time shown for a timed event on a day (its end when it began earlier)."""
    if ev.continues_from and isinstance(ev.end, datetime):
        # "Until": the arrow points the way the days run (leftwards on an RTL board).
        arrow = "← " if is_rtl_language(state.language) else "→ "
        until = arrow + format_time(ev.end, state.clock, words)
        when = until if not ev.continues_to else words.all_day
    elif isinstance(ev.start, datetime):
        when = format_time(ev.start, state.clock, words)
    else:
        when = words.all_day
    return when


class EventList:
    """Draws a day's events into a box: all-day bars first, then timed events.

    Titles wrap onto a second line when every event still fits that way; otherwise
    each keeps one line, and what does not fit is counted in ``+N more``. In
    ``compact`` mode (portrait rows) a timed event is one line: time, then title.
    """

    def __init__(
        self, m: Metrics, state: BoardState, words: Words, *, roomy: bool, compact: bool = False
    ) -> None:
        self.m = m
        self.state = state
        self.words = words
        self.compact = compact
        self.roomy = roomy
        self.time_font = m.font(19 if roomy else 17, bold=True)
        self.label_font = m.font(15 if roomy else 14)
        self.title_font = m.font(18 if roomy else 16)
        self.bar_font = m.font(16 if roomy else 15, bold=True)
        self.more_font = m.font(15, bold=True)
        self.bar_h = m.px(24)
        self.gap = m.px(6)
        self.time_h = m.px(22 if roomy else 20)
        self.title_h = m.px(21 if roomy else 19)
        self.more_h = m.px(20)

    def _title_lines(self, ev: Event, width: int, max_lines: int) -> list[str]:
        if ev.special:
            return wrap_text(ev.title, self.bar_font, width - self.bar_h - self.m.px(3), max_lines)
        if ev.all_day:
            return [ev.title]
        indent = self.m.px(7) if ev.underway else 0
        return wrap_text(ev.title, self.title_font, width - indent, max_lines)

    def height(self, lines: int, ev: Event) -> int:
        """The height ``ev`` takes with a title of ``lines`` lines, gap included."""
        if ev.special:
            return self.bar_h + (lines - 1) * self.title_h + self.gap
        if ev.all_day:
            return self.bar_h + self.gap
        if self.compact:
            return self.time_h + self.gap
        return self.time_h + self.title_h * lines + self.gap

    def draw(self, image: Image.Image, box: Box, events: list[Event]) -> None:
        """Draw as many events as fit, then ``+N more``."""
        x0, y0, x1, y1 = box
        width = x1 - x0
        wrapped = [self._title_lines(ev, width, 2) for ev in events]
        total = sum(self.height(len(lines), ev) for lines, ev in zip(wrapped, events, strict=True))
        if total - self.gap > y1 - y0:
            wrapped = [
                lines[:1] if len(lines) == 1 else self._title_lines(ev, width, 1)
                for lines, ev in zip(wrapped, events, strict=True)
            ]
            total = sum(
                self.height(len(lines), ev) for lines, ev in zip(wrapped, events, strict=True)
            )
            if total - self.gap > y1 - y0 and not self.compact:
                # A busy day: one line per event shows twice as many.
                EventList(self.m, self.state, self.words, roomy=self.roomy, compact=True).draw(
                    image, box, events
                )
                return
        y = y0
        for i, (ev, lines) in enumerate(zip(events, wrapped, strict=True)):
            need = self.height(len(lines), ev)
            remaining = len(events) - i - 1
            reserve = self.more_h if remaining else 0
            if y + need - self.gap + reserve > y1:
                self._more(image, (x0, y, x1, y1), len(events) - i)
                return
            if ev.special:
                self._special(image, (x0, y, x1, y + need - self.gap), ev, lines)
            elif ev.all_day:
                self._bar(image, (x0, y, x1, y + self.bar_h), ev)
            else:
                self._timed(image, (x0, y, x1, y + need - self.gap), ev, lines)
            y += need

    def _more(self, image: Image.Image, box: Box, count: int) -> None:
        x0, y, x1, y1 = box
        text = self.words.more(count)
        draw_text(
            image,
            (x0, y, x1, min(y1, y + self.more_h)),
            text,
            font=self.more_font,
            fill=BLACK,
            valign="middle",
        )

    def _bar(self, image: Image.Image, box: Box, ev: Event) -> None:
        x0, y0, x1, y1 = box
        draw = ImageDraw.Draw(image)
        color = RED if ev.color == "red" else BLACK
        pad = self.m.px(6)
        draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=self.m.px(5), fill=color)
        text_x0, text_x1 = x0 + pad, x1 - pad
        arrow = self.m.px(8)
        if ev.continues_from:
            _triangle(draw, (x0 + pad // 2, y0, x0 + pad // 2 + arrow, y1), left=True)
            text_x0 += arrow
        if ev.continues_to:
            _triangle(draw, (x1 - pad // 2 - arrow, y0, x1 - pad // 2, y1), left=False)
            text_x1 -= arrow
        draw_text(
            image,
            (text_x0, y0, text_x1, y1),
            ev.title,
            font=self.bar_font,
            fill=WHITE,
            valign="middle",
        )

    def _special(self, image: Image.Image, box: Box, ev: Event, lines: list[str]) -> None:
        # A special day listed among the events: its icon and bold text, no fill, so
        # it reads differently from a calendar's all-day event.
        x0, y0, x1, _y1 = box
        color = RED if ev.color == "red" else BLACK
        icon = self.bar_h
        draw_icon(
            image, (x0, y0 + 1, x0 + icon - 2, y0 + icon - 1), known_icon(ev.icon), fill=color
        )
        y = y0
        for i, line in enumerate(lines):
            h = self.bar_h if i == 0 else self.title_h
            draw_text(
                image,
                (x0 + icon + self.m.px(3), y, x1, y + h),
                line,
                font=self.bar_font,
                fill=color,
                valign="middle" if i == 0 else "top",
            )
            y += h

    def _timed(self, image: Image.Image, box: Box, ev: Event, lines: list[str]) -> None:
        x0, y0, x1, y1 = box
        color = RED if ev.color == "red" else BLACK
        if ev.underway:
            # Underway: a red bar down the left and red text, visible across the hall.
            ImageDraw.Draw(image).rectangle((x0, y0 + 2, x0 + self.m.px(3) - 1, y1 - 1), fill=RED)
            x0 += self.m.px(7)
            color = RED
        when = _when(ev, self.state, self.words)
        when_w = text_width(when, self.time_font)
        draw_text(
            image,
            (x0, y0, x1, y0 + self.time_h),
            when,
            font=self.time_font,
            fill=color,
            valign="baseline",
        )
        after = x0 + when_w + self.m.px(7)
        if self.compact:
            # One line: the title takes the place of the label.
            if after < x1:
                draw_text(
                    image,
                    (after, y0, x1, y0 + self.time_h),
                    ev.title,
                    font=self.title_font,
                    fill=color if ev.underway else BLACK,
                    valign="baseline",
                )
            return
        # A label cut to one letter and "…" says nothing: leave it out instead.
        if ev.label and x1 - after >= self.m.px(40):
            label_color = RED if ev.color == "red" else BLACK
            draw_text(
                image,
                (after, y0, x1, y0 + self.time_h),
                ev.label,
                font=self.label_font,
                fill=RED if ev.underway else label_color,
                valign="baseline",
            )
        y = y0 + self.time_h
        for line in lines:
            draw_text(
                image,
                (x0, y, x1, min(y1, y + self.title_h)),
                line,
                font=self.title_font,
                fill=color if ev.underway else BLACK,
                valign="top",
            )
            y += self.title_h


def _triangle(draw: ImageDraw.ImageDraw, box: Box, *, left: bool) -> None:
    x0, y0, x1, y1 = box
    mid = (y0 + y1) // 2
    half = x1 - x0
    if left:
        points = [(x1, mid - half), (x0, mid), (x1, mid + half)]
    else:
        points = [(x0, mid - half), (x1, mid), (x0, mid + half)]
    draw.polygon(points, fill=WHITE)
