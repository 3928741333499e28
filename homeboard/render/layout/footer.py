"""The bottom of the frame: the special day's banner and the footer of sources."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drivers.palette import BLACK, RED, WHITE
from homeboard.i18n import Words
from homeboard.model import BoardState
from homeboard.render.icons import draw_icon
from homeboard.render.layout.metrics import Box, Canvas, format_when, hline, names_text
from homeboard.render.text import FontChain, draw_text, text_width


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
    draw_icon(c.image, (start, iy, start + icon, iy + icon), special.icon, fill=WHITE)
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
    # Stale and unavailable sources, in red: the household must be able to tell.
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
    """One note for the unavailable sources and one for the stale ones (oldest time)."""
    tz = ZoneInfo(st.timezone)
    notes = []
    missing = [s.label for s in st.sources if s.status == "unavailable"]
    stale = [s for s in st.sources if s.status == "stale" and s.fetched_at is not None]
    share = width // 2 if missing and stale else width
    if missing:
        probe = words.unavailable.format(name="")
        notes.append(
            words.unavailable.format(
                name=names_text(missing, font, share - text_width(probe, font))
            )
        )
    if stale:
        oldest = min(s.fetched_at for s in stale if s.fetched_at is not None)
        when = format_when(oldest.astimezone(tz), st.date, st.clock, words)
        probe = words.stale.format(name="", when=when)
        notes.append(
            words.stale.format(
                name=names_text([s.label for s in stale], font, share - text_width(probe, font)),
                when=when,
            )
        )
    return notes
