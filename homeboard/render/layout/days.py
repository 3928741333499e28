"""The other days: columns beside today (landscape) or rows under it (portrait)."""

from __future__ import annotations

from drivers.palette import BLACK, RED
from homeboard.model import Day
from homeboard.render.icons import draw_weather_icon
from homeboard.render.layout.events import EventList
from homeboard.render.layout.metrics import (
    Box,
    Canvas,
    format_chance,
    format_date,
    format_temp,
    hline,
)
from homeboard.render.layout.today import draw_current, draw_nothing, place_height, upcoming
from homeboard.render.text import draw_text, text_width


def draw_column(c: Canvas, box: Box, day: Day) -> None:
    m, st, words = c.m, c.state, c.words
    x0, y0, x1, y1 = box
    pad = m.px(10)
    ix0, ix1 = x0 + pad, x1 - pad
    y = y0 + m.px(8)
    head = words.days_short[day.date.weekday()]
    draw_text(
        c.image,
        (ix0, y, ix1, y + m.px(32)),
        head,
        font=m.font(30, bold=True),
        fill=BLACK,
        align="center",
        valign="baseline",
    )
    y += m.px(34)
    draw_text(
        c.image,
        (ix0, y, ix1, y + m.px(20)),
        format_date(day.date, words, st.language),
        font=m.font(16),
        fill=BLACK,
        align="center",
        valign="baseline",
    )
    y += m.px(24)
    fc = day.forecast
    temps = f"{format_temp(fc.high, words)}/{format_temp(fc.low, words)}" if fc else ""
    chance = format_chance(fc.precip_chance, words) if fc else ""
    narrow = text_width(temps, m.font(19, bold=True)) + m.px(56) > ix1 - ix0
    row_h = m.px(50) + (m.px(40) if narrow else 0)
    if st.weather_enabled:
        if fc is not None and narrow:
            # A narrow column: the icon above, the temperatures below it.
            icon = m.px(46)
            mid = (ix0 + ix1) // 2
            draw_weather_icon(
                c.image,
                (mid - icon // 2, y, mid + icon // 2, y + icon),
                fc.category,
                is_day=True,
                fill=BLACK,
            )
            draw_text(
                c.image,
                (ix0, y + icon, ix1, y + icon + m.px(22)),
                temps,
                font=m.fitting_font(temps, ix1 - ix0, (16, 14, 13, 12), bold=True),
                fill=BLACK,
                align="center",
                valign="baseline",
            )
            if chance:
                draw_text(
                    c.image,
                    (ix0, y + icon + m.px(22), ix1, y + row_h),
                    chance,
                    font=m.font(14),
                    fill=BLACK,
                    align="center",
                    valign="top",
                )
        elif fc is not None:
            icon = m.px(50)
            draw_weather_icon(
                c.image, (ix0, y, ix0 + icon, y + icon), fc.category, is_day=True, fill=BLACK
            )
            tx = ix0 + icon + m.px(6)
            draw_text(
                c.image,
                (tx, y, ix1, y + m.px(26)),
                temps,
                font=m.font(19, bold=True),
                fill=BLACK,
                valign="baseline",
            )
            if chance:
                draw_text(
                    c.image,
                    (tx, y + m.px(27), ix1, y + row_h),
                    chance,
                    font=m.font(16),
                    fill=BLACK,
                    valign="top",
                )
        else:
            row_h = m.px(50)
            draw_text(
                c.image,
                (ix0, y, ix1, y + row_h),
                "–",
                font=m.font(24),
                fill=BLACK,
                align="center",
                valign="middle",
            )
        y += row_h + m.px(6)
    hline(c.draw, ix0, ix1, y, BLACK)
    y += m.px(8)
    EventList(m, st, words, roomy=False).draw(
        c.image, (ix0, y, ix1, y1 - m.px(4)), [e for e in day.events if not e.ended]
    )


def draw_portrait(c: Canvas, box: Box) -> None:
    m, st, words = c.m, c.state, c.words
    x0, y0, x1, y1 = box
    pad = m.px(14)
    day = st.today
    # Header: weekday and date on the left, the weather now on the right.
    half = x0 + (x1 - x0) // 2
    y = y0 + m.px(8)
    draw_text(
        c.image,
        (x0 + pad, y, half, y + m.px(32)),
        words.days[day.date.weekday()],
        font=m.font(28, bold=True),
        fill=BLACK,
        valign="baseline",
    )
    big_date = format_date(day.date, words, st.language)
    draw_text(
        c.image,
        (x0 + pad, y + m.px(32), half + m.px(40), y + m.px(100)),
        big_date,
        font=m.fitting_font(big_date, half + m.px(40) - x0 - pad, (58, 50, 44), bold=True),
        fill=RED,
        valign="baseline",
    )
    # The weather now beside the date; a named place takes a line under it, so the
    # block starts higher to keep the icon's size.
    place_h = place_height(c)
    wy = y + m.px(12) - min(place_h, m.px(10))
    draw_current(c, (half + m.px(30), wy, x1 - pad, wy + m.px(80) + place_h), day)
    y += m.px(108)
    hline(c.draw, x0 + pad, x1 - pad, y, BLACK, m.px(2))
    y += m.px(8)
    rest = st.days[1:]
    events = upcoming(day)
    today_list = EventList(m, st, words, roomy=True, compact=True)
    # Today takes what its events need (at least two lines), and at most half of
    # what is left; the other days share the rest.
    need = sum(today_list.height(1, e) for e in events) + m.px(8)
    # Every other day keeps at least its header (weekday and date): today gives way.
    head = m.px(58)
    today_h = (y1 - y) if not rest else max(m.px(60), min(need, round((y1 - y) * 0.5)))
    if rest:
        today_h = max(m.px(40), min(today_h, (y1 - y) - head * len(rest)))
    if events:
        today_list.draw(c.image, (x0 + pad, y, x1 - pad, y + today_h - m.px(4)), events)
    else:
        draw_nothing(c, (x0 + pad, y, x1 - pad, y + today_h))
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
    room = y1 - y
    if sum(needs) <= room:
        shares = [need * room / sum(needs) for need in needs]
    else:
        # Crowded: every row keeps its floor (its header and its forecast, or at
        # least its header when even that does not fit), and the events share what
        # is left, so a busy week does not lose its weather or its dates.
        base = floor if floor * len(needs) <= room else min(head, room / len(needs))
        extra = [need - base for need in needs]
        spare = room - base * len(needs)
        shares = [base + spare * e / sum(extra) for e in extra]
    edges: list[float] = [y]
    for share in shares:
        edges.append(edges[-1] + share)
    for other, top, bottom in zip(rest, edges, edges[1:], strict=False):
        ry0, ry1 = round(top), round(bottom)
        hline(c.draw, x0 + pad, x1 - pad, ry0, BLACK)
        draw_row(c, (x0, ry0 + 1, x1, ry1), other)


def draw_row(c: Canvas, box: Box, day: Day) -> None:
    m, st, words = c.m, c.state, c.words
    x0, y0, x1, y1 = box
    pad = m.px(14)
    side = m.px(118)
    draw_text(
        c.image,
        (x0 + pad, y0 + m.px(4), x0 + side, y0 + m.px(34)),
        words.days_short[day.date.weekday()],
        font=m.font(26, bold=True),
        fill=BLACK,
        valign="baseline",
    )
    if y0 + m.px(54) <= y1:
        draw_text(
            c.image,
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
                c.image,
                (x0 + pad, iy, x0 + pad + icon, iy + icon),
                fc.category,
                is_day=True,
                fill=BLACK,
            )
            tx, tx1 = x0 + pad + icon + m.px(4), x0 + side
            temps = f"{format_temp(fc.high, words)}/{format_temp(fc.low, words)}"
            chance = format_chance(fc.precip_chance, words)
            font = m.fitting_font(temps, tx1 - tx, (15, 14, 13, 12), bold=True)
            if not chance:
                draw_text(
                    c.image, (tx, iy, tx1, iy + icon), temps, font=font, fill=BLACK, valign="middle"
                )
            else:
                # The range above, the chance of rain under it, both beside the icon.
                mid = iy + icon // 2
                draw_text(
                    c.image,
                    (tx, iy - m.px(2), tx1, mid + m.px(1)),
                    temps,
                    font=font,
                    fill=BLACK,
                    valign="baseline",
                )
                draw_text(
                    c.image,
                    (tx, mid + m.px(1), tx1, iy + icon + m.px(4)),
                    chance,
                    font=m.font(14),
                    fill=BLACK,
                    valign="baseline",
                )
    EventList(m, st, words, roomy=False, compact=True).draw(
        c.image,
        (x0 + side + m.px(6), y0 + m.px(6), x1 - pad, y1 - m.px(2)),
        [e for e in day.events if not e.ended],
    )
