#!/usr/bin/env python3
"""Render a contact sheet of every weather icon (day and night), every named icon and text
samples in each script the fallback chain covers, exactly as the panel would show them.

    .venv/bin/python scripts/icon_sheet.py [--out out/icon-sheet.png] [--scale 2]

Use it after changing icons.py or the fonts: look at the PNG, not just the tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.palette import BLACK, RED, new_frame  # noqa: E402
from homeboard.render.icons import (  # noqa: E402
    ICON_NAMES,
    WEATHER_CATEGORIES,
    draw_icon,
    draw_weather_icon,
)
from homeboard.render.text import draw_text, get_font  # noqa: E402

WIDTH = 800
COLUMNS = 8
CELL_W = WIDTH // COLUMNS
ICON = 48
SMALL_SIZES = (16, 24, 32)

TEXT_SAMPLES: tuple[tuple[int, bool, str, str], ...] = (
    (14, False, "ui", "14 px: Dentist 09:30 · Corinne's birthday · 12°/7° · ilI1 rn m"),
    (16, False, "ui", "16 px: Piano lesson 16:45 – bring the music book 🎹"),
    (16, True, "ui", "16 px bold: Rubbish & recycling out tonight ♻️"),
    (20, False, "ui", "Hebrew: יום הולדת שמח לדנה! (10:30) עם Dan"),
    (20, False, "ui", "Arabic: عيد ميلاد سعيد يا سارة 25"),
    (20, False, "ui", "CJK: 生日快乐 誕生日おめでとう 생일 축하해"),
    (20, False, "ui", "Emoji: 🎂 🎉 🎈 ❤️ ⭐ 🌸 ☀️ 🍂 ❄️ 👨‍👩‍👧 🇫🇷"),
    (20, False, "ui", "Greek, Cyrillic: Καλημέρα · Доброе утро · Tiếng Việt"),
    (28, True, "ui", "28 px bold: Happy Birthday, Corinne!"),
    (64, True, "display", "Tuesday 25"),
)


def main(argv: list[str] | None = None) -> int:
    """Write the contact sheet and print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "icon-sheet.png")
    parser.add_argument("--scale", type=int, default=1, help="enlarge (nearest) for inspection")
    args = parser.parse_args(argv)
    sheet = render_sheet()
    if args.scale > 1:
        sheet = sheet.resize(
            (sheet.width * args.scale, sheet.height * args.scale), Image.Resampling.NEAREST
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(args.out)
    return 0


def render_sheet() -> Image.Image:
    """Return the contact sheet as a palette image."""
    label = get_font(11)
    heading = get_font(16, bold=True)
    weather_rows = -(-len(WEATHER_CATEGORIES) * 2 // COLUMNS)
    icon_rows = -(-len(ICON_NAMES) // COLUMNS)
    cell_h = ICON + 22
    small_h = max(SMALL_SIZES) + 8
    height = 4000  # generous; cropped to what was drawn at the end
    image = new_frame((WIDTH, height))
    y = 4

    def title(text: str) -> None:
        nonlocal y
        draw_text(image, (4, y, WIDTH - 4, y + 24), text, font=heading, fill=RED)
        y += 28

    title("Weather categories (day, night)")
    cells = [(c, day) for c in WEATHER_CATEGORIES for day in (True, False)]
    for i, (category, is_day) in enumerate(cells):
        x0, y0 = (i % COLUMNS) * CELL_W, y + (i // COLUMNS) * cell_h
        box = (x0 + (CELL_W - ICON) // 2, y0, x0 + (CELL_W + ICON) // 2, y0 + ICON)
        draw_weather_icon(image, box, category, is_day=is_day, fill=BLACK)
        name = f"{category} {'day' if is_day else 'night'}"
        draw_text(image, (x0 + 2, y0 + ICON + 2, x0 + CELL_W - 2, y0 + cell_h), name,
                  font=label, fill=BLACK, align="center")  # fmt: skip
    y += weather_rows * cell_h

    title("Named icons")
    for i, name in enumerate(ICON_NAMES):
        x0, y0 = (i % COLUMNS) * CELL_W, y + (i // COLUMNS) * cell_h
        box = (x0 + (CELL_W - ICON) // 2, y0, x0 + (CELL_W + ICON) // 2, y0 + ICON)
        draw_icon(image, box, name, fill=RED if name in ("alert", "cloud_off") else BLACK)
        draw_text(image, (x0 + 2, y0 + ICON + 2, x0 + CELL_W - 2, y0 + cell_h), name,
                  font=label, fill=BLACK, align="center")  # fmt: skip
    y += icon_rows * cell_h

    title("Small sizes (16, 24, 32 px)")
    groups: list[tuple[Callable[..., object], str]] = [
        (draw_weather_icon, category) for category in WEATHER_CATEGORIES
    ]
    groups += [(draw_icon, name) for name in ICON_NAMES]
    x = 4
    group_w = sum(SMALL_SIZES) + 2 * len(SMALL_SIZES) + 6
    for draw, name in groups:
        if x + group_w > WIDTH:
            x, y = 4, y + small_h
        for size in SMALL_SIZES:
            draw(image, (x, y + max(SMALL_SIZES) - size, x + size, y + max(SMALL_SIZES)), name,
                 fill=BLACK)  # fmt: skip
            x += size + 2
        x += 6
    y += small_h + 4

    title("Text")
    for size, bold, family, sample in TEXT_SAMPLES:
        font = get_font(size, bold=bold, family=family)
        draw_text(image, (4, y, WIDTH - 4, y + font.line_height), sample, font=font, fill=BLACK)
        y += font.line_height + 6
    return image.crop((0, 0, WIDTH, min(height, y + 8)))


if __name__ == "__main__":
    raise SystemExit(main())
