"""The board's layout: BoardState + panel size -> three-colour palette image.

Pure: no clock, no network, no disk beyond the bundled fonts (loaded once and
cached). Every piece of text goes through ``draw_text``, which cannot paint
outside its box, so a long title is cut with an ellipsis instead of spilling
into the next column. The frame depends only on the state: the same state
draws the same bytes, whatever minute it is drawn at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from drivers.palette import BLACK, RED, WHITE, new_frame
from homeboard.i18n import Words, words_for
from homeboard.model import BoardState, Day, Event
from homeboard.render.icons import draw_icon, draw_weather_icon
from homeboard.render.text import FontChain, draw_text, fit_text, get_font, text_width

Box = tuple[int, int, int, int]
Orientation = Literal["landscape", "portrait"]


@dataclass(frozen=True)
class Metrics:
    """Sizes for one panel, scaled from the 800x480 design."""

    scale: float

    def px(self, value: float) -> int:
        """Scale a design pixel value to this panel."""
        return max(1, round(value * self.scale))

    def font(self, size: float, *, bold: bool = False, display: bool = False) -> FontChain:
        """A font of design size ``size`` scaled to this panel (``display``: condensed)."""
        return get_font(self.px(size), bold=bold, family="display" if display else "ui")


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #


def format_temp(value: float | None) -> str:
    """A temperature as shown: rounded, with a degree sign; a dash when unknown."""
    if value is None:
        return "–"
    return f"{round(value)}°"


def format_time(moment: datetime, clock: str) -> str:
    """A time of day, compact: ``9:30`` / ``15:45`` (24h) or ``9:30am`` / ``3pm`` (12h)."""
    if clock == "12h":
        hour = moment.hour % 12 or 12
        suffix = "am" if moment.hour < 12 else "pm"
        return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"
    return f"{moment.hour}:{moment.minute:02d}"


def format_date(day: date, words: Words, language: str) -> str:
    """``Nov 25`` in English, ``25 nov`` elsewhere."""
    month = words.months_short[day.month - 1]
    return f"{month} {day.day}" if language == "en" else f"{day.day} {month}"


def format_when(moment: datetime, today: date, clock: str, words: Words) -> str:
    """A past moment relative to today: ``9:15am`` today, ``Tue 6pm`` this week, ``Nov 3``."""
    shown = format_time(moment, clock)
    if moment.date() == today:
        return shown
    if today - moment.date() < timedelta(days=6):
        return f"{words.days_short[moment.weekday()]} {shown}"
    return format_date(moment.date(), words, "en")


def wrap_text(text: str, font: FontChain, max_width: int, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines at spaces; the last one ends in "…"
    when text is left over. A word wider than a line is cut like any other text."""
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < max_lines - 1:
        line = words[0]
        taken = 1
        while taken < len(words) and text_width(f"{line} {words[taken]}", font) <= max_width:
            line = f"{line} {words[taken]}"
            taken += 1
        if taken == 1 and text_width(line, font) > max_width:
            break  # one long word: let the last line cut it
        lines.append(line)
        words = words[taken:]
    if words:
        lines.append(fit_text(" ".join(words), font, max_width))
    return lines or [""]


# --------------------------------------------------------------------------- #
# Pieces
# --------------------------------------------------------------------------- #


def _hline(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int, fill: int, width: int = 1) -> None:
    draw.rectangle((x0, y, x1 - 1, y + width - 1), fill=fill)


def _vline(draw: ImageDraw.ImageDraw, x: int, y0: int, y1: int, fill: int, width: int = 1) -> None:
    draw.rectangle((x, y0, x + width - 1, y1 - 1), fill=fill)


def _when(ev: Event, state: BoardState, words: Words) -> str:
    """The time shown for a timed event on a day (its end when it began earlier)."""
    if ev.continues_from and isinstance(ev.end, datetime):
        when = "→ " + format_time(ev.end, state.clock) if not ev.continues_to else words.all_day
    elif isinstance(ev.start, datetime):
        when = format_time(ev.start, state.clock)
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
        text = self.words.more.format(n=count)
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
            image, (x0, y0 + 1, x0 + icon - 2, y0 + icon - 1), ev.icon or "celebration", fill=color
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


# --------------------------------------------------------------------------- #
# The board
# --------------------------------------------------------------------------- #


class BoardPainter:
    """Paints one BoardState onto one frame."""

    def __init__(self, state: BoardState, size: tuple[int, int], orientation: Orientation) -> None:
        self.state = state
        self.words = words_for(state.language)
        self.width, self.height = size
        self.portrait = orientation == "portrait"
        design_w, design_h = (480, 800) if self.portrait else (800, 480)
        self.m = Metrics(scale=min(self.width / design_w, self.height / design_h))
        self.image = new_frame(size)
        self.draw = ImageDraw.Draw(self.image)

    # The frame from the bottom up: footer, banner, then the days.
    def paint(self) -> Image.Image:
        """Draw everything and return the frame."""
        m = self.m
        footer_h = m.px(22)
        bottom = self.height - footer_h
        self._footer((0, bottom, self.width, self.height))
        special = self.state.today.special
        if special is not None:
            banner_h = m.px(62)
            self._banner((0, bottom - banner_h, self.width, bottom - m.px(4)))
            bottom -= banner_h
        if self.portrait:
            self._portrait((0, 0, self.width, bottom))
        else:
            self._landscape((0, 0, self.width, bottom))
        return self.image

    # ------------------------------------------------------------------ landscape
    def _landscape(self, box: Box) -> None:
        x0, y0, x1, y1 = box
        days = self.state.days
        if len(days) == 1:
            self._today((x0, y0, x1, y1))
            return
        today_w = round((x1 - x0) * 0.34)
        self._today((x0, y0, x0 + today_w, y1))
        rest = days[1:]
        col_w = (x1 - x0 - today_w) / len(rest)
        for i, day in enumerate(rest):
            cx0 = x0 + today_w + round(i * col_w)
            cx1 = x0 + today_w + round((i + 1) * col_w)
            _vline(self.draw, cx0, y0 + self.m.px(10), y1 - self.m.px(6), BLACK)
            self._column((cx0 + 1, y0, cx1, y1), day)

    def _today(self, box: Box) -> None:
        m, st, words = self.m, self.state, self.words
        x0, y0, x1, y1 = box
        pad = m.px(14)
        ix0, ix1 = x0 + pad, x1 - pad
        day = st.today
        y = y0 + m.px(8)
        draw_text(
            self.image,
            (ix0, y, ix1, y + m.px(32)),
            words.days[day.date.weekday()],
            font=m.font(28, bold=True),
            fill=BLACK,
            valign="baseline",
        )
        y += m.px(32)
        draw_text(
            self.image,
            (ix0, y, ix1, y + m.px(66)),
            format_date(day.date, words, st.language),
            font=m.font(70, bold=True, display=True),
            fill=RED,
            valign="baseline",
        )
        y += m.px(72)
        weather_h = m.px(84)
        self._current((ix0, y, ix1, y + weather_h), day)
        y += weather_h + m.px(8)
        _hline(self.draw, ix0, ix1, y, BLACK, m.px(2))
        y += m.px(10)
        events = self._upcoming(day)
        if not events:
            self._nothing((ix0, y, ix1, y + m.px(48)))
            return
        EventList(m, st, words, roomy=True).draw(self.image, (ix0, y, ix1, y1 - m.px(4)), events)

    def _upcoming(self, day: Day) -> list[Event]:
        """Today's events still to come or under way; the banner's special is not repeated."""
        return [
            e
            for e in day.events
            if not e.ended and not (e.special and day.special and e.title == day.special.title)
        ]

    def _nothing(self, box: Box) -> None:
        """No events today: say so, unless a calendar could not be read (then say that)."""
        m, words = self.m, self.words
        x0, y0, x1, y1 = box
        missing = [s.label for s in self.state.sources
                   if s.kind == "calendar" and s.status == "unavailable"]
        if not missing:
            draw_text(self.image, (x0, y0, x1, y0 + m.px(24)), words.no_events,
                      font=m.font(17), fill=BLACK)
            return
        font = m.font(17, bold=True)
        text = words.unavailable.format(name=_names(missing, font, x1 - x0))
        y = y0
        for line in wrap_text(text, font, x1 - x0, 2):
            draw_text(self.image, (x0, y, x1, y + m.px(24)), line, font=font, fill=RED)
            y += m.px(24)

    def _current(self, box: Box, day: Day) -> None:
        m, st = self.m, self.state
        x0, y0, x1, y1 = box
        icon = y1 - y0
        if not st.weather_enabled:
            draw_text(
                self.image, box, st.location or "", font=m.font(20), fill=BLACK, valign="middle"
            )
            return
        cur = st.current
        fc = day.forecast
        if cur is None and fc is None:
            draw_icon(
                self.image,
                (x0, y0 + icon // 6, x0 + icon * 2 // 3, y1 - icon // 6),
                "cloud_off",
                fill=RED,
            )
            tx = x0 + icon * 2 // 3 + m.px(10)
            font = m.font(19, bold=True)
            lines = wrap_text(
                self.words.unavailable.format(name=self.words.weather), font, x1 - tx, 2
            )
            line_h = m.px(24)
            ty = y0 + (y1 - y0 - line_h * len(lines)) // 2
            for line in lines:
                draw_text(
                    self.image,
                    (tx, ty, x1, ty + line_h),
                    line,
                    font=font,
                    fill=RED,
                    valign="middle",
                )
                ty += line_h
            return
        category = cur.category if cur else fc.category  # type: ignore[union-attr]
        is_day = cur.is_day if cur else True
        weather = st.source("weather")
        stale = weather is not None and weather.status == "stale"
        # Old conditions are drawn in black, not the red of "now", and say how old.
        now_color = BLACK if stale else RED
        draw_weather_icon(
            self.image, (x0, y0, x0 + icon, y1), category, is_day=is_day, fill=now_color
        )
        tx = x0 + icon + m.px(10)
        if cur is not None:
            draw_text(
                self.image,
                (tx, y0, x1, y0 + m.px(52)),
                format_temp(cur.temperature),
                font=m.font(50, bold=True),
                fill=now_color,
                valign="baseline",
            )
        line_y = y0 + m.px(54)
        if stale and weather is not None and weather.fetched_at is not None:
            when = format_when(
                weather.fetched_at.astimezone(ZoneInfo(st.timezone)), st.date, st.clock, self.words
            )
            draw_text(
                self.image,
                (tx, line_y, x1, y1),
                self.words.stale.format(name="", when=when).strip(),
                font=m.font(17, bold=True),
                fill=RED,
                valign="top",
            )
            return
        parts = []
        if fc is not None:
            parts.append(f"{format_temp(fc.high)} / {format_temp(fc.low)}")
            if fc.precip_chance:
                parts.append(f"{fc.precip_chance}%")
        elif cur is not None and cur.apparent is not None:
            parts.append(self.words.feels_like.format(temp=format_temp(cur.apparent)))
        draw_text(
            self.image,
            (tx, line_y, x1, y1),
            "  ".join(parts),
            font=m.font(18, bold=True),
            fill=BLACK,
            valign="top",
        )

    def _column(self, box: Box, day: Day) -> None:
        m, st, words = self.m, self.state, self.words
        x0, y0, x1, y1 = box
        pad = m.px(10)
        ix0, ix1 = x0 + pad, x1 - pad
        y = y0 + m.px(8)
        head = words.days_short[day.date.weekday()]
        draw_text(
            self.image,
            (ix0, y, ix1, y + m.px(32)),
            head,
            font=m.font(30, bold=True),
            fill=BLACK,
            align="center",
            valign="baseline",
        )
        y += m.px(34)
        draw_text(
            self.image,
            (ix0, y, ix1, y + m.px(20)),
            format_date(day.date, words, st.language),
            font=m.font(16),
            fill=BLACK,
            align="center",
            valign="baseline",
        )
        y += m.px(24)
        fc = day.forecast
        temps = f"{format_temp(fc.high)}/{format_temp(fc.low)}" if fc else ""
        narrow = text_width(temps, m.font(19, bold=True)) + m.px(56) > ix1 - ix0
        row_h = m.px(50) + (m.px(40) if narrow else 0)
        if st.weather_enabled:
            if fc is not None and narrow:
                # A narrow column: the icon above, the temperatures below it.
                icon = m.px(46)
                mid = (ix0 + ix1) // 2
                draw_weather_icon(self.image, (mid - icon // 2, y, mid + icon // 2, y + icon),
                                  fc.category, is_day=True, fill=BLACK)
                draw_text(self.image, (ix0, y + icon, ix1, y + icon + m.px(22)), temps,
                          font=m.font(16, bold=True), fill=BLACK, align="center",
                          valign="baseline")
                if fc.precip_chance:
                    draw_text(self.image, (ix0, y + icon + m.px(22), ix1, y + row_h),
                              f"{fc.precip_chance}%", font=m.font(14), fill=BLACK,
                              align="center", valign="top")
            elif fc is not None:
                icon = m.px(50)
                draw_weather_icon(
                    self.image, (ix0, y, ix0 + icon, y + icon), fc.category, is_day=True, fill=BLACK
                )
                tx = ix0 + icon + m.px(6)
                draw_text(
                    self.image,
                    (tx, y, ix1, y + m.px(26)),
                    temps,
                    font=m.font(19, bold=True),
                    fill=BLACK,
                    valign="baseline",
                )
                if fc.precip_chance:
                    draw_text(
                        self.image,
                        (tx, y + m.px(27), ix1, y + row_h),
                        f"{fc.precip_chance}%",
                        font=m.font(16),
                        fill=BLACK,
                        valign="top",
                    )
            else:
                row_h = m.px(50)
                draw_text(
                    self.image,
                    (ix0, y, ix1, y + row_h),
                    "–",
                    font=m.font(24),
                    fill=BLACK,
                    align="center",
                    valign="middle",
                )
            y += row_h + m.px(6)
        _hline(self.draw, ix0, ix1, y, BLACK)
        y += m.px(8)
        EventList(m, st, words, roomy=False).draw(
            self.image, (ix0, y, ix1, y1 - m.px(4)), [e for e in day.events if not e.ended]
        )

    # ------------------------------------------------------------------ portrait
    def _portrait(self, box: Box) -> None:
        m, st, words = self.m, self.state, self.words
        x0, y0, x1, y1 = box
        pad = m.px(14)
        day = st.today
        # Header: weekday and date on the left, the weather now on the right.
        half = x0 + (x1 - x0) // 2
        y = y0 + m.px(8)
        draw_text(
            self.image,
            (x0 + pad, y, half, y + m.px(32)),
            words.days[day.date.weekday()],
            font=m.font(28, bold=True),
            fill=BLACK,
            valign="baseline",
        )
        draw_text(
            self.image,
            (x0 + pad, y + m.px(32), half + m.px(40), y + m.px(100)),
            format_date(day.date, words, st.language),
            font=m.font(58, bold=True),
            fill=RED,
            valign="baseline",
        )
        self._current((half + m.px(30), y + m.px(12), x1 - pad, y + m.px(92)), day)
        y += m.px(108)
        _hline(self.draw, x0 + pad, x1 - pad, y, BLACK, m.px(2))
        y += m.px(8)
        rest = st.days[1:]
        events = self._upcoming(day)
        today_list = EventList(m, st, words, roomy=True, compact=True)
        # Today takes what its events need (at least two lines), and at most half of
        # what is left; the other days share the rest.
        need = sum(today_list.height(1, e) for e in events) + m.px(8)
        today_h = (y1 - y) if not rest else max(m.px(60), min(need, round((y1 - y) * 0.5)))
        if events:
            today_list.draw(self.image, (x0 + pad, y, x1 - pad, y + today_h - m.px(4)), events)
        else:
            self._nothing((x0 + pad, y, x1 - pad, y + today_h))
        y += today_h
        if not rest:
            return
        # Each day's row gets a share of the height in proportion to what it holds
        # (never less than its header needs), so a quiet day lends space to a busy one.
        rows = EventList(m, st, words, roomy=False, compact=True)
        floor = m.px(96)
        needs = [
            max(floor, sum(rows.height(1, e) for e in other.events if not e.ended) + m.px(10))
            for other in rest
        ]
        scale = (y1 - y) / sum(needs)
        edges: list[float] = [y]
        for need in needs:
            edges.append(edges[-1] + need * scale)
        for other, top, bottom in zip(rest, edges, edges[1:], strict=False):
            ry0, ry1 = round(top), round(bottom)
            _hline(self.draw, x0 + pad, x1 - pad, ry0, BLACK)
            self._row((x0, ry0 + 1, x1, ry1), other)

    def _row(self, box: Box, day: Day) -> None:
        m, st, words = self.m, self.state, self.words
        x0, y0, x1, y1 = box
        pad = m.px(14)
        side = m.px(118)
        draw_text(
            self.image,
            (x0 + pad, y0 + m.px(4), x0 + side, y0 + m.px(34)),
            words.days_short[day.date.weekday()],
            font=m.font(26, bold=True),
            fill=BLACK,
            valign="baseline",
        )
        draw_text(
            self.image,
            (x0 + pad, y0 + m.px(34), x0 + side, y0 + m.px(54)),
            format_date(day.date, words, st.language),
            font=m.font(15),
            fill=BLACK,
        )
        fc = day.forecast
        if st.weather_enabled and fc is not None:
            icon = m.px(34)
            iy = y0 + m.px(56)
            if iy + icon <= y1:
                draw_weather_icon(
                    self.image,
                    (x0 + pad, iy, x0 + pad + icon, iy + icon),
                    fc.category,
                    is_day=True,
                    fill=BLACK,
                )
                draw_text(
                    self.image,
                    (x0 + pad + icon + m.px(4), iy, x0 + side, iy + icon),
                    f"{format_temp(fc.high)}/{format_temp(fc.low)}",
                    font=m.font(15, bold=True),
                    fill=BLACK,
                    valign="middle",
                )
        EventList(m, st, words, roomy=False, compact=True).draw(
            self.image,
            (x0 + side + m.px(6), y0 + m.px(6), x1 - pad, y1 - m.px(2)),
            [e for e in day.events if not e.ended],
        )

    # ------------------------------------------------------------------ banner and footer
    def _banner(self, box: Box) -> None:
        m = self.m
        special = self.state.today.special
        assert special is not None
        x0, y0, x1, y1 = box
        fill = RED if special.color == "red" else BLACK
        self.draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
        icon = (y1 - y0) - m.px(12)
        gap = m.px(14)
        avail = (x1 - x0) - 2 * m.px(16) - icon - gap
        # The largest size at which the whole message fits, down to a floor; below
        # that it is cut with an ellipsis like any other text.
        for size in (36, 32, 28, 25, 22):
            font = m.font(size, bold=True)
            text_w = text_width(special.message, font)
            if text_w <= avail:
                break
        text_w = min(text_w, avail)
        start = x0 + ((x1 - x0) - (icon + gap + text_w)) // 2
        iy = y0 + (y1 - y0 - icon) // 2
        draw_icon(self.image, (start, iy, start + icon, iy + icon), special.icon, fill=WHITE)
        draw_text(
            self.image,
            (start + icon + gap, y0, x1 - m.px(16), y1),
            special.message,
            font=font,
            fill=WHITE,
            valign="middle",
        )

    def _footer(self, box: Box) -> None:
        m, st, words = self.m, self.state, self.words
        x0, y0, x1, y1 = box
        pad = m.px(10)
        font = m.font(14)
        bold = m.font(14, bold=True)
        _hline(self.draw, x0 + pad, x1 - pad, y0, BLACK)
        ty0 = y0 + 2
        left = ""
        if st.updated_at is not None:
            left = words.updated.format(time=format_when(st.updated_at, st.date, st.clock, words))
        x = x0 + pad
        if left:
            draw_text(
                self.image, (x, ty0, x1 - pad, y1), left, font=bold, fill=BLACK, valign="middle"
            )
            x += text_width(left, bold) + m.px(12)
        # Stale and unavailable sources, in red: the household must be able to tell.
        right = x1 - pad
        if st.attribution:
            right -= text_width(" · ".join(st.attribution), font) + m.px(12)
        for note in _source_notes(st, words, font, max(0, right - x - m.px(18))):
            if x + m.px(18) >= x1 - pad:
                break
            draw_icon(
                self.image, (x, ty0 + m.px(2), x + m.px(15), ty0 + m.px(17)), "alert", fill=RED
            )
            x += m.px(18)
            draw_text(
                self.image, (x, ty0, x1 - pad, y1), note, font=font, fill=RED, valign="middle"
            )
            x += min(text_width(note, font), x1 - pad - x) + m.px(12)
        if st.attribution:
            text = " · ".join(st.attribution)
            aw = text_width(text, font)
            if x + aw <= x1 - pad:
                draw_text(
                    self.image,
                    (x1 - pad - aw, ty0, x1 - pad, y1),
                    text,
                    font=font,
                    fill=BLACK,
                    valign="middle",
                    align="right",
                )


def _names(names: list[str], font: FontChain, width: int) -> str:
    """``A, B, C`` or, when that is too wide, ``A, B +3``."""
    for shown in range(len(names), 0, -1):
        text = ", ".join(names[:shown]) + (f" +{len(names) - shown}" if shown < len(names) else "")
        if text_width(text, font) <= width or shown == 1:
            return text
    return ""


def _source_notes(st: BoardState, words: Words, font: FontChain, width: int) -> list[str]:
    """One note for the unavailable sources and one for the stale ones (oldest time)."""
    tz = ZoneInfo(st.timezone)
    notes = []
    missing = [s.label for s in st.sources if s.status == "unavailable"]
    stale = [s for s in st.sources if s.status == "stale" and s.fetched_at is not None]
    share = width // 2 if missing and stale else width
    if missing:
        probe = words.unavailable.format(name="")
        notes.append(
            words.unavailable.format(name=_names(missing, font, share - text_width(probe, font)))
        )
    if stale:
        oldest = min(s.fetched_at for s in stale if s.fetched_at is not None)
        when = format_when(oldest.astimezone(tz), st.date, st.clock, words)
        probe = words.stale.format(name="", when=when)
        notes.append(
            words.stale.format(
                name=_names([s.label for s in stale], font, share - text_width(probe, font)),
                when=when,
            )
        )
    return notes


class HasSize(Protocol):
    """Anything with a width and a height, such as a drivers.PanelSpec."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...


def render(
    state: BoardState, panel: HasSize | tuple[int, int], *, orientation: Orientation = "landscape"
) -> Image.Image:
    """Draw ``state`` for ``panel`` (a PanelSpec, or (width, height) in landscape).

    Returns a mode "P" image with palette white/black/red (indices 0/1/2); in
    portrait orientation the image is the panel's size turned 90 degrees.
    """
    if isinstance(panel, tuple):
        width, height = panel
    else:
        width, height = panel.width, panel.height
    if orientation == "portrait":
        width, height = min(width, height), max(width, height)
    else:
        width, height = max(width, height), min(width, height)
    return BoardPainter(state, (width, height), orientation).paint()


# ``fit_text`` is re-exported for callers that measure before drawing.
__all__ = [
    "BoardPainter",
    "Metrics",
    "fit_text",
    "format_temp",
    "format_time",
    "render",
]
