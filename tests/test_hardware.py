"""On a Raspberry Pi with a panel attached: HOMEBOARD_TEST_HARDWARE=1 ./scripts/test -m hardware

The panel to drive is HOMEBOARD_TEST_PANEL (default waveshare_epd7in5b_v2). Each hardware
test takes one or two refreshes (16-31 s each) and leaves the panel asleep and unpowered.

What they check against the real panel, each independently of the driver's own code: the
bytes that went out on the real SPI bus are the ones the vendor's code would send for the
frame (built here the vendor's way, from two one-bit layers); the refresh took as long as a
real three-colour refresh does (a panel that ignored its commands, or a BUSY line that never
rose, returns in about 3 s); and afterwards the SPI device is closed, RST and DC are handed
back and PWR is held low.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import drivers
from drivers import BLACK, PANELS, RED

PANEL = os.environ.get("HOMEBOARD_TEST_PANEL", "waveshare_epd7in5b_v2")
needs_a_panel = pytest.mark.skipif(
    os.environ.get("HOMEBOARD_TEST_HARDWARE") != "1",
    reason="needs a panel: set HOMEBOARD_TEST_HARDWARE=1 on a Pi",
)
# The fastest full refresh of these panels is V2's 16 s; the fixed sleeps alone are ~3 s.
SHORTEST_REAL_REFRESH_S = 8.0
LONGEST_REAL_REFRESH_S = 60.0
INVERT = bytes(255 - value for value in range(256))  # the vendor's ~byte, as a table


def vendor_bytes(frame: Image.Image, panel: str) -> bytes:
    """The bytes Waveshare's own code sends for ``frame``, built its way (not ours).

    The vendor's demos draw a black layer and a red layer as one-bit images (0 = ink) and
    send their raw bytes: the black layer as is (1 = white), the red layer inverted
    (1 = red). V1 sends one nibble per pixel instead: 0x0 black, 0x3 white, 0x4 red.
    """
    spec = PANELS[panel]
    indices = Image.frombytes("L", frame.size, frame.tobytes())  # one palette index a pixel
    if spec.bits_per_pixel == 4:
        codes = indices.point([0x3, 0x0, 0x4] + [0x3] * 253).tobytes()
        high, low = codes[0::2], codes[1::2]
        joined = int.from_bytes(high, "big") * 16 + int.from_bytes(low, "big")
        return joined.to_bytes(len(high), "big")
    black_layer = indices.point(lambda i: 0 if i == BLACK else 255).convert("1")
    red_layer = indices.point(lambda i: 0 if i == RED else 255).convert("1")
    return black_layer.tobytes() + red_layer.tobytes().translate(INVERT)


class RecordingSpi:
    """The real ``spidev.SpiDev``, with every data write recorded under its command byte."""

    def __init__(self, device: Any) -> None:
        object.__setattr__(self, "_device", device)
        object.__setattr__(self, "sent", [])  # (command, data) in send order
        object.__setattr__(self, "_command", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._device, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._device, name, value)  # max_speed_hz, mode

    def writebytes(self, values: list[int]) -> None:
        object.__setattr__(self, "_command", values[-1])
        self._device.writebytes(values)

    def writebytes2(self, values: bytes | bytearray | memoryview) -> None:
        self.sent.append((self._command, bytes(values)))
        self._device.writebytes2(values)

    def planes(self, panel: str) -> bytes:
        """The data sent after the panel's plane commands, joined in send order."""
        commands = PANELS[panel].plane_commands
        return b"".join(data for command, data in self.sent if command in commands)


def open_recorded(panel: str) -> tuple[drivers.Display, RecordingSpi]:
    import spidev  # only on a Pi

    spi = RecordingSpi(spidev.SpiDev())
    return drivers.open_display(panel, spi=spi), spi


def timed_show(display: drivers.Display, frame: Image.Image) -> tuple[str, float]:
    start = time.monotonic()
    digest = display.show(frame)
    return digest, time.monotonic() - start


def assert_released(display: drivers.Display) -> None:
    """SPI closed, RST and DC handed back, PWR an output driven low."""
    import RPi.GPIO as GPIO  # noqa: N814 - the name everyone uses

    spi_open = [
        target
        for fd in Path("/proc/self/fd").iterdir()
        if (target := os.path.realpath(fd)).startswith("/dev/spidev")
    ]
    assert spi_open == [], "the SPI device stays open between frames"
    pins = display.pins  # type: ignore[attr-defined]
    assert GPIO.gpio_function(pins.rst) == GPIO.IN
    assert GPIO.gpio_function(pins.dc) == GPIO.IN
    if pins.pwr is not None:
        assert GPIO.gpio_function(pins.pwr) == GPIO.OUT, "PWR floats: the supply is undefined"
        assert GPIO.input(pins.pwr) == GPIO.LOW, "PWR is left on"


@pytest.mark.parametrize("panel", sorted(PANELS))
def test_the_expected_bytes_are_what_the_driver_packs(panel: str) -> None:
    # Runs everywhere: the hardware tests' expectation is right, and so is ``pack``.
    for frame in (drivers.test_pattern(panel), drivers.new_frame(PANELS[panel].size)):
        assert vendor_bytes(frame, panel) == drivers.pack(frame, panel)


@pytest.mark.hardware
@needs_a_panel
def test_the_panel_receives_the_vendors_bytes_and_really_refreshes() -> None:
    pattern = drivers.test_pattern(PANEL)
    white = drivers.new_frame(PANELS[PANEL].size)
    display, spi = open_recorded(PANEL)
    with display:
        for frame in (pattern, white):  # the pattern, then clear the panel for storage
            spi.sent.clear()
            digest, took = timed_show(display, frame)
            expected = vendor_bytes(frame, PANEL)
            assert spi.planes(PANEL) == expected
            assert digest == hashlib.sha256(expected).hexdigest()
            assert SHORTEST_REAL_REFRESH_S <= took < LONGEST_REAL_REFRESH_S, (
                f"a refresh took {took:.1f} s: the panel did not refresh (BUSY never asserted?)"
            )
            assert_released(display)


@pytest.mark.hardware
@needs_a_panel
def test_the_real_panel_can_be_opened_again_and_again() -> None:
    # Handles and GPIO lines are released after every refresh, so the next open works.
    white = drivers.new_frame(PANELS[PANEL].size)
    expected = vendor_bytes(white, PANEL)
    for _ in range(2):
        display, spi = open_recorded(PANEL)
        with display:
            digest, took = timed_show(display, white)
        assert spi.planes(PANEL) == expected
        assert digest == hashlib.sha256(expected).hexdigest()
        assert SHORTEST_REAL_REFRESH_S <= took < LONGEST_REAL_REFRESH_S
        assert_released(display)
