"""The whole frame: the pieces placed from the bottom up, and ``render``."""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from drivers.palette import BLACK, new_frame
from homeboard.i18n import words_for
from homeboard.model import BoardState
from homeboard.render.layout.days import draw_column, draw_portrait
from homeboard.render.layout.footer import draw_banner, draw_footer
from homeboard.render.layout.metrics import Box, Canvas, Metrics, Orientation, vline
from homeboard.render.layout.today import draw_today
from homeboard.render.text import is_rtl_language, mirrored


class BoardPainter:
    """Paints one BoardState onto one frame."""

    def __init__(self, state: BoardState, size: tuple[int, int], orientation: Orientation) -> None:
        self.state = state
        self.words = words_for(state.language)
        self.width, self.height = size
        self.portrait = orientation == "portrait"
        design_w, design_h = (480, 800) if self.portrait else (800, 480)
        self.m = Metrics(
            scale=min(self.width / design_w, self.height / design_h), language=state.language
        )
        self.image = new_frame(size)
        self.canvas = Canvas(self.image, self.m, state, self.words)

    # The frame from the bottom up: footer, banner, then the days.
    def paint(self) -> Image.Image:
        """Draw everything and return the frame (mirrored for a right-to-left language)."""
        if is_rtl_language(self.state.language):
            # Columns run right to left: today on the right, the days after it leftwards.
            with mirrored(self.image):
                return self._paint()
        return self._paint()

    def _paint(self) -> Image.Image:
        m, c = self.m, self.canvas
        footer_h = m.px(22)
        bottom = self.height - footer_h
        draw_footer(c, (0, bottom, self.width, self.height))
        special = self.state.today.special
        if special is not None:
            banner_h = m.px(62)
            draw_banner(c, (0, bottom - banner_h, self.width, bottom - m.px(4)))
            bottom -= banner_h
        if self.portrait:
            draw_portrait(c, (0, 0, self.width, bottom))
        else:
            self._landscape((0, 0, self.width, bottom))
        return self.image

    def _landscape(self, box: Box) -> None:
        c = self.canvas
        x0, y0, x1, y1 = box
        days = self.state.days
        if len(days) == 1:
            draw_today(c, (x0, y0, x1, y1))
            return
        today_w = round((x1 - x0) * 0.34)
        draw_today(c, (x0, y0, x0 + today_w, y1))
        rest = days[1:]
        col_w = (x1 - x0 - today_w) / len(rest)
        for i, day in enumerate(rest):
            cx0 = x0 + today_w + round(i * col_w)
            cx1 = x0 + today_w + round((i + 1) * col_w)
            vline(c.draw, cx0, y0 + self.m.px(10), y1 - self.m.px(6), BLACK)
            draw_column(c, (cx0 + 1, y0, cx1, y1), day)


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
