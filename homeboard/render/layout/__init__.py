"""The board's layout: BoardState + panel size -> three-colour palette image.

Pure: no clock, no network, no disk beyond the bundled fonts (loaded once and
cached). Every piece of text goes through ``draw_text``, which cannot paint
outside its box, so a long title is cut with an ellipsis instead of spilling
into the next column. The frame depends only on the state: the same state
draws the same bytes, whatever minute it is drawn at.

One module per part of the frame: ``metrics`` (sizes and text formats),
``events`` (a day's list of events), ``today`` (the today column and the weather
now), ``days`` (the other days, as columns or rows), ``footer`` (the banner and
the footer) and ``board`` (placing them, and ``render``).
"""

from __future__ import annotations

from homeboard.render.layout.board import BoardPainter, HasSize, render
from homeboard.render.layout.events import EventList
from homeboard.render.layout.metrics import (
    Box,
    Canvas,
    Metrics,
    Orientation,
    format_date,
    format_temp,
    format_time,
    format_when,
    wrap_text,
)

# ``fit_text`` is re-exported for callers that measure before drawing.
from homeboard.render.text import fit_text

__all__ = [
    "BoardPainter",
    "Box",
    "Canvas",
    "EventList",
    "HasSize",
    "Metrics",
    "Orientation",
    "fit_text",
    "format_date",
    "format_temp",
    "format_time",
    "format_when",
    "render",
    "wrap_text",
]
