"""A test pattern for checking a panel by eye: black and red bars and the panel's name."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from .palette import BLACK, RED, new_frame
from .panels import PanelSpec, panel_spec

_BARS = 8  # alternating black and red vertical bars across the top half


def test_pattern(panel: str | PanelSpec) -> Image.Image:
    """Return a frame with black and red bars, a frame border and the panel's name and size."""
    spec = panel_spec(panel)
    frame = new_frame(spec.size)
    draw = ImageDraw.Draw(frame)
    width, height = spec.size
    bar_width = width // (_BARS * 2)
    for bar in range(_BARS):
        left = (2 * bar + 1) * bar_width
        colour = BLACK if bar % 2 == 0 else RED
        draw.rectangle((left, 0, left + bar_width - 1, height // 2 - 1), fill=colour)
    draw.rectangle((0, 0, width - 1, height - 1), outline=BLACK, width=2)
    font = ImageFont.load_default(size=height // 12)
    draw.text((width // 20, height * 9 // 16), spec.name, fill=BLACK, font=font)
    draw.text((width // 20, height * 12 // 16), f"{width} x {height}", fill=RED, font=font)
    return frame


# pytest would otherwise try to collect this function when a test module imports it.
test_pattern.__test__ = False  # type: ignore[attr-defined]
