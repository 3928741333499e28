"""The today column: the weekday, the big date, the weather now and today's events."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drivers.palette import BLACK, RED
from homeboard.model import Day, Event, Forecast
from homeboard.render.icons import draw_icon, draw_weather_icon
from homeboard.render.layout.events import EventList
from homeboard.render.layout.metrics import (
    Box,
    Canvas,
    format_chance,
    format_date,
    format_temp,
    format_when,
    hline,
    names_text,
    wrap_text,
)
from homeboard.render.text import FontChain, draw_text, text_width


def draw_today(c: Canvas, box: Box) -> None:
    m, st, words = c.m, c.state, c.words
    x0, y0, x1, y1 = box
    pad = m.px(14)
    ix0, ix1 = x0 + pad, x1 - pad
    day = st.today
    y = y0 + m.px(8)
    draw_text(
        c.image,
        (ix0, y, ix1, y + m.px(32)),
        words.days[day.date.weekday()],
        font=m.font(28, bold=True),
        fill=BLACK,
        valign="baseline",
    )
    y += m.px(32)
    big_date = format_date(day.date, words, st.language)
    draw_text(
        c.image,
        (ix0, y, ix1, y + m.px(66)),
        big_date,
        # "Nov 25" fits at 70; "12月25日" or "25. Nov." may need a smaller size.
        font=m.fitting_font(big_date, ix1 - ix0, (70, 62, 54, 46), bold=True, display=True),
        fill=RED,
        valign="baseline",
    )
    y += m.px(72)
    weather_h = m.px(84) + place_height(c)
    draw_current(c, (ix0, y, ix1, y + weather_h), day)
    y += weather_h + m.px(8)
    hline(c.draw, ix0, ix1, y, BLACK, m.px(2))
    y += m.px(10)
    events = upcoming(day)
    if not events:
        draw_nothing(c, (ix0, y, ix1, y + m.px(48)))
        return
    EventList(m, st, words, roomy=True).draw(c.image, (ix0, y, ix1, y1 - m.px(4)), events)


def upcoming(day: Day) -> list[Event]:
    """Today's events still to come or under way; the banner's special is not repeated."""
    return [
        e
        for e in day.events
        if not e.ended and not (e.special and day.special and e.title == day.special.title)
    ]


def draw_nothing(c: Canvas, box: Box) -> None:
    """No events today: say so, unless a calendar could not be read (then say that)."""
    m, words = c.m, c.words
    x0, y0, x1, y1 = box
    missing = [
        s.label for s in c.state.sources if s.kind == "calendar" and s.status == "unavailable"
    ]
    if not missing:
        draw_text(
            c.image, (x0, y0, x1, y0 + m.px(24)), words.no_events, font=m.font(17), fill=BLACK
        )
        return
    font = m.font(17, bold=True)
    text = words.unavailable.format(name=names_text(missing, font, x1 - x0))
    y = y0
    for line in wrap_text(text, font, x1 - x0, 2):
        draw_text(c.image, (x0, y, x1, y + m.px(24)), line, font=font, fill=RED)
        y += m.px(24)


def place_height(c: Canvas) -> int:
    """The height of the place line under the weather: zero when no place is named."""
    return c.m.px(20) if c.state.weather_enabled and (c.state.location or "").strip() else 0


def draw_current(c: Canvas, box: Box, day: Day) -> None:
    """The weather now: icon, temperature, today's range and rain; the place under them."""
    m, st = c.m, c.state
    x0, y0, x1, y1 = box
    if not st.weather_enabled:
        draw_text(c.image, box, st.location or "", font=m.font(20), fill=BLACK, valign="middle")
        return
    place_h = place_height(c)
    if place_h:
        # The place the weather is for (location.name), small, under the weather.
        y1 -= place_h
        draw_text(
            c.image,
            (x0, y1, x1, y1 + place_h),
            st.location or "",
            font=m.font(15),
            fill=BLACK,
            valign="baseline",
        )
    icon = y1 - y0
    cur = st.current
    fc = day.forecast
    if cur is None and fc is None:
        draw_icon(
            c.image,
            (x0, y0 + icon // 6, x0 + icon * 2 // 3, y1 - icon // 6),
            "cloud_off",
            fill=RED,
        )
        tx = x0 + icon * 2 // 3 + m.px(10)
        font = m.font(19, bold=True)
        lines = wrap_text(c.words.unavailable.format(name=c.words.weather), font, x1 - tx, 2)
        line_h = m.px(24)
        ty = y0 + (y1 - y0 - line_h * len(lines)) // 2
        for line in lines:
            draw_text(
                c.image,
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
    draw_weather_icon(c.image, (x0, y0, x0 + icon, y1), category, is_day=is_day, fill=now_color)
    tx = x0 + icon + m.px(10)
    if cur is not None:
        draw_text(
            c.image,
            (tx, y0, x1, y0 + m.px(52)),
            format_temp(cur.temperature, c.words),
            font=m.font(50, bold=True),
            fill=now_color,
            valign="baseline",
        )
    line_y = y0 + m.px(54)
    if stale and weather is not None and weather.fetched_at is not None:
        when = format_when(
            weather.fetched_at.astimezone(ZoneInfo(st.timezone)), st.date, st.clock, c.words
        )
        draw_text(
            c.image,
            (tx, line_y, x1, y1),
            c.words.as_of.format(when=when),
            font=m.font(17, bold=True),
            fill=RED,
            valign="top",
        )
        return
    if fc is not None:
        text, font = _day_summary(c, fc, x1 - tx)
    elif cur is not None and cur.apparent is not None:
        text = c.words.feels_like.format(temp=format_temp(cur.apparent, c.words))
        font = m.font(18, bold=True)
    else:
        return
    draw_text(c.image, (tx, line_y, x1, y1), text, font=font, fill=BLACK, valign="top")


def _day_summary(c: Canvas, fc: Forecast, width: int) -> tuple[str, FontChain]:
    """Today's high / low and chance of rain, as roomy as ``width`` allows.

    Tighter spacing first, then smaller sizes: the numbers must be read whole (a chance
    of rain cut to "3…" says nothing); only when nothing fits does the text get cut.
    """
    w = c.words
    high, low = format_temp(fc.high, w), format_temp(fc.low, w)
    chance = format_chance(fc.precip_chance, w)
    tail = [chance] if chance else []
    candidates = [
        "  ".join([f"{high} / {low}", *tail]),
        "  ".join([f"{high}/{low}", *tail]),
        " ".join([f"{high}/{low}", *tail]),
    ]
    for size in (18, 16, 14):
        font = c.m.font(size, bold=True)
        for text in candidates:
            if text_width(text, font) <= width:
                return text, font
    return candidates[-1], font
