"""Benchmark frame packing and the SPI traffic of one push, per panel.

Run: ``python benchmarks/bench_pack.py`` (exit status 1 if a target is missed).

- pack: ``drivers.pack`` on a rendered-board-like palette frame against a naive per-pixel
  Python loop (the vendor's algorithm: one pass per plane, one pixel at a time), with the
  output checked byte for byte. Targets: >= 500x faster for V2 and HD, >= 300x for V1.
- SPI: Python-level SPI calls and bytes of one ``show()`` on the fake controller.
  Targets: <= 2 calls per plane; 96,000 / 122,880 / 116,160 frame bytes.
- show: the whole ``show()`` on the fake with no BUSY delay. Target: <= 10 ms for V2.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from collections.abc import Callable

from PIL import Image, ImageDraw

from drivers import BLACK, PANELS, RED, new_frame, open_display, pack
from drivers.fakes import FakeController

SPEEDUP_TARGET = {
    "waveshare_epd7in5b_v2": 500,
    "waveshare_epd7in5b_v1": 300,
    "waveshare_epd7in5b_hd": 500,
}
FRAME_BYTES = {
    "waveshare_epd7in5b_v2": 96_000,
    "waveshare_epd7in5b_v1": 122_880,
    "waveshare_epd7in5b_hd": 116_160,
}
SHOW_TARGET_MS = {"waveshare_epd7in5b_v2": 10.0}


def board_frame(size: tuple[int, int]) -> Image.Image:
    """A frame like a rendered board: blocks, a banner, rules and text in both inks."""
    frame = new_frame(size)
    draw = ImageDraw.Draw(frame)
    width, height = size
    draw.rectangle((0, 0, width, height // 8), fill=RED)
    draw.text((20, 10), "Happy Birthday, Corinne!", fill=0)
    for column in range(5):
        left = column * width // 5
        draw.rectangle((left + 8, height // 6, left + width // 5 - 8, height // 3), outline=BLACK)
        draw.text((left + 16, height // 6 + 8), "Sat 9  12 / 4", fill=BLACK)
        draw.ellipse((left + 40, height // 4, left + 80, height // 4 + 30), fill=RED)
    for row in range(12):
        top = height // 3 + 20 + row * 22
        draw.text((20, top), f"{9 + row:02d}:30  School run, swimming, dentist", fill=BLACK)
        draw.line((0, top + 18, width, top + 18), fill=RED if row % 3 == 0 else BLACK)
    return frame


def naive_pack(image: Image.Image, panel: str) -> bytes:
    """The baseline: a per-pixel Python loop, one pass per plane (as the vendor code does)."""
    spec = PANELS[panel]
    pixels = image.load()
    assert pixels is not None
    width, height = image.size
    if spec.bits_per_pixel == 4:
        nibble = {0: 0x3, 1: 0x0, 2: 0x4}
        out = bytearray(width * height // 2)
        for y in range(height):
            for x in range(width):
                index = x + y * width
                shift = 4 if index % 2 == 0 else 0
                out[index // 2] |= nibble[pixels[x, y]] << shift
        return bytes(out)
    black_white = bytearray(width * height // 8)  # 1 = white (or red), 0 = black
    for y in range(height):
        for x in range(width):
            if pixels[x, y] != 1:
                black_white[(x + y * width) // 8] |= 0x80 >> (x % 8)
    red = bytearray(width * height // 8)  # 1 = red
    for y in range(height):
        for x in range(width):
            if pixels[x, y] == 2:
                red[(x + y * width) // 8] |= 0x80 >> (x % 8)
    return bytes(black_white + red)


def best_seconds(function: Callable[[], object], *, number: int, repeat: int) -> float:
    """Best time per call over ``repeat`` runs of ``number`` calls (least disturbed run)."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def main() -> int:
    """Print the table; return 1 if any target is missed."""
    rows = []
    failures = []
    for panel in ("waveshare_epd7in5b_v2", "waveshare_epd7in5b_v1", "waveshare_epd7in5b_hd"):
        spec = PANELS[panel]
        frame = board_frame(spec.size)

        fast = pack(frame, panel)
        slow = naive_pack(frame, panel)
        if fast != slow:
            raise AssertionError(f"{panel}: pack() and the per-pixel baseline differ")
        pack_s = best_seconds(lambda: pack(frame, panel), number=200, repeat=15)  # noqa: B023
        naive_s = best_seconds(lambda: naive_pack(frame, panel), number=1, repeat=5)  # noqa: B023
        speedup = naive_s / pack_s

        fake = FakeController(panel, busy_polls=0)
        display = open_display(panel, **fake.driver_options())
        display.show(frame)
        calls = fake.spi_calls
        plane_calls = max(fake.spi_calls_by_command[c] for c in spec.plane_commands)
        frame_bytes = len(fake.frames[-1])

        timings = []
        for _ in range(50):
            started = time.perf_counter()
            display.show(frame)
            timings.append(time.perf_counter() - started)
        show_best_ms = min(timings) * 1000
        show_median_ms = statistics.median(timings) * 1000

        rows.append(
            (
                panel,
                f"{naive_s * 1000:.1f}",
                f"{pack_s * 1e6:.0f}",
                f"{speedup:.0f}x",
                str(calls),
                str(plane_calls),
                f"{frame_bytes:,}",
                f"{show_best_ms:.2f} / {show_median_ms:.2f}",
            )
        )
        if speedup < SPEEDUP_TARGET[panel]:
            failures.append(f"{panel}: pack {speedup:.0f}x < {SPEEDUP_TARGET[panel]}x")
        if plane_calls > 2:
            failures.append(f"{panel}: {plane_calls} SPI calls for one plane")
        if frame_bytes != FRAME_BYTES[panel]:
            failures.append(f"{panel}: {frame_bytes} frame bytes")
        target_ms = SHOW_TARGET_MS.get(panel)
        if target_ms is not None and show_median_ms > target_ms:
            failures.append(f"{panel}: show() {show_median_ms:.2f} ms > {target_ms} ms")

    header = (
        "panel",
        "naive ms",
        "pack us",
        "speedup",
        "SPI calls/frame",
        "calls/plane",
        "frame bytes",
        "show ms best/median",
    )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
