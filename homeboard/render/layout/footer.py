"""The bottom of the frame: the special day's banner and the footer of sources."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drivers.palette import BLACK, RED, WHITE
from homeboard.i18n import Words
from homeboard.model import BoardState
from homeboard.render.icons import draw_icon, known_icon
from homeboard.render.layout.metrics import Box, Canvas, format_when, hline, names_text
from homeboard.render.text import FontChain, draw_text, fit_text, text_width


def draw_banner(c: Canvas, box: Box) -> None:
    m = c.m
    special = c.state.today.special
    assert special is not None
    x0, y0, x1, y1 = box
    fill = RED if special.color == "red" else BLACK
    c.draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
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
    draw_icon(c.image, (start, iy, start + icon, iy + icon), known_icon(special.icon), fill=WHITE)
    draw_text(
        c.image,
        (start + icon + gap, y0, x1 - m.px(16), y1),
        special.message,
        font=font,
        fill=WHITE,
        valign="middle",
    )


def draw_footer(c: Canvas, box: Box) -> None:
    m, st, words = c.m, c.state, c.words
    x0, y0, x1, y1 = box
    pad = m.px(10)
    font = m.font(14)
    bold = m.font(14, bold=True)
    hline(c.draw, x0 + pad, x1 - pad, y0, BLACK)
    ty0 = y0 + 2
    left = ""
    if st.updated_at is not None:
        left = words.updated.format(time=format_when(st.updated_at, st.date, st.clock, words))
    x = x0 + pad
    if left:
        draw_text(c.image, (x, ty0, x1 - pad, y1), left, font=bold, fill=BLACK, valign="middle")
        x += text_width(left, bold) + m.px(12)
    # Unavailable, cut and stale sources, in red: the household must be able to tell.
    right = x1 - pad
    if st.attribution:
        right -= text_width(" · ".join(st.attribution), font) + m.px(12)
    for note in source_notes(st, words, font, max(0, right - x - m.px(18))):
        if x + m.px(18) >= x1 - pad:
            break
        draw_icon(c.image, (x, ty0 + m.px(2), x + m.px(15), ty0 + m.px(17)), "alert", fill=RED)
        x += m.px(18)
        draw_text(c.image, (x, ty0, x1 - pad, y1), note, font=font, fill=RED, valign="middle")
        x += min(text_width(note, font), x1 - pad - x) + m.px(12)
    if st.attribution:
        text = " · ".join(st.attribution)
        aw = text_width(text, font)
        if x + aw <= x1 - pad:
            draw_text(
                c.image,
                (x1 - pad - aw, ty0, x1 - pad, y1),
                text,
                font=font,
                fill=BLACK,
                valign="middle",
                align="right",
            )


def source_notes(st: BoardState, words: Words, font: FontChain, width: int) -> list[str]:
    """The footer's red notes: unavailable sources, sources cut at a cap, stale ones.

    One note per kind, sharing ``width``; the stale note gives the OLDEST time any of its
    sources was fetched, so no source looks newer than it is.
    """
    tz = ZoneInfo(st.timezone)
    missing = [s.label for s in st.sources if s.status == "unavailable"]
    cut = [s.label for s in st.sources if s.cut]
    # Oldest first: when only some names fit, the ones shown are the ones the time is for.
    stale = sorted(
        (s for s in st.sources if s.status == "stale" and s.fetched_at is not None),
        key=lambda s: s.fetched_at.timestamp() if s.fetched_at else 0.0,
    )
    groups: list[tuple[str, list[str], str]] = []  # (template, names, when)
    if missing:
        groups.append((words.unavailable, missing, ""))
    if cut:
        groups.append((words.cut, cut, ""))
    if stale:
        oldest = stale[0].fetched_at
        assert oldest is not None
        when = format_when(oldest.astimezone(tz), st.date, st.clock, words)
        groups.append((words.stale, [s.label for s in stale], when))
    notes = []
    for template, names, when in groups:
        share = width // len(groups)
        probe = template.format(name="", when=when)
        room = share - text_width(probe, font)
        # Cut one long name to its share, so that every kind of note still shows.
        name = fit_text(names_text(names, font, room), font, max(room, 0))
        notes.append(template.format(name=name, when=when))
    return notes
