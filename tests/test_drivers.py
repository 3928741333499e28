"""Panel drivers on the fake controller, packing, and the push policy (no hardware, no app)."""

from __future__ import annotations

import hashlib
import logging
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import drivers
from drivers import (
    BLACK,
    DRIVER_NAMES,
    PANELS,
    RED,
    WHITE,
    DisplayError,
    MissingHardware,
    PanelBusyTimeout,
    decide_push,
    new_frame,
    open_display,
    pack,
    test_pattern,
    to_palette,
    unpack,
)
from drivers.fakes import PROTOCOLS, FakeController, ProtocolError
from drivers.waveshare import Pins, WaveshareEpd7in5bV2

PANEL_NAMES = sorted(PANELS)
TWO_PLANE = ["waveshare_epd7in5b_v2", "waveshare_epd7in5b_hd"]
V1 = "waveshare_epd7in5b_v1"

# What each panel's controller receives for a uniform frame, per plane, in send order.
UNIFORM_PLANE_BYTE = {
    "two_plane": {WHITE: (0xFF, 0x00), BLACK: (0x00, 0x00), RED: (0xFF, 0xFF)},
    "v1": {WHITE: (0x33,), BLACK: (0x00,), RED: (0x44,)},
}


def uniform(panel: str, index: int) -> Image.Image:
    """A frame of one colour."""
    frame = new_frame(PANELS[panel].size)
    frame.paste(index, (0, 0, *frame.size))
    return frame


def half_and_half(panel: str) -> Image.Image:
    """Left half black, right half red."""
    frame = new_frame(PANELS[panel].size)
    width, height = frame.size
    frame.paste(BLACK, (0, 0, width // 2, height))
    frame.paste(RED, (width // 2, 0, width, height))
    return frame


def busy_frame(panel: str) -> Image.Image:
    """A frame with shapes, lines and text in both inks, like a rendered board."""
    frame = new_frame(PANELS[panel].size)
    draw = ImageDraw.Draw(frame)
    width, height = frame.size
    draw.rectangle((10, 10, width // 3, height // 3), fill=BLACK)
    draw.ellipse((width // 2, height // 4, width - 20, height - 20), fill=RED)
    for offset in range(0, height, 9):
        draw.line((0, offset, width, height - offset), fill=BLACK if offset % 2 else RED)
    draw.text((20, height - 60), "Happy Birthday, Corinne!", fill=RED)
    return frame


def connect(panel: str, **fake_options: Any) -> tuple[FakeController, drivers.Display]:
    """A fake controller and a hardware driver wired to it."""
    fake = FakeController(panel, **fake_options)
    return fake, open_display(panel, **fake.driver_options())


# --------------------------------------------------------------------------------------------
# Palette and packing
# --------------------------------------------------------------------------------------------


def test_new_frame_is_a_white_three_colour_palette_image() -> None:
    frame = new_frame((8, 2))
    assert frame.mode == "P"
    assert frame.getpalette() == [255, 255, 255, 0, 0, 0, 255, 0, 0]
    assert set(frame.tobytes()) == {WHITE}
    assert drivers.PALETTE_RGB == ((255, 255, 255), (0, 0, 0), (255, 0, 0))


@pytest.mark.parametrize("panel", PANEL_NAMES)
@pytest.mark.parametrize("colour", [WHITE, BLACK, RED], ids=["white", "black", "red"])
def test_uniform_frames_pack_to_the_documented_plane_bytes(panel: str, colour: int) -> None:
    spec = PANELS[panel]
    family = "v1" if panel == V1 else "two_plane"
    expected = b"".join(
        bytes([value]) * spec.plane_bytes for value in UNIFORM_PLANE_BYTE[family][colour]
    )
    assert pack(uniform(panel, colour), panel) == expected


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_mixed_frame_packs_row_by_row(panel: str) -> None:
    spec = PANELS[panel]
    if panel == V1:
        row = b"\x00" * (spec.width // 4) + b"\x44" * (spec.width // 4)
        expected = row * spec.height
    else:
        half = spec.width // 16
        black_white = (b"\x00" * half + b"\xff" * half) * spec.height
        red = (b"\x00" * half + b"\xff" * half) * spec.height
        expected = black_white + red
    assert pack(half_and_half(panel), panel) == expected


# Hand-made 8x2 corner: K = black, W = white, R = red.
CORNER = ["KWRWWWWK", "RRKKWWRW"]
CORNER_INDEX = {"K": BLACK, "W": WHITE, "R": RED}


def corner_frame(panel: str) -> Image.Image:
    frame = new_frame(PANELS[panel].size)
    for y, row in enumerate(CORNER):
        for x, letter in enumerate(row):
            frame.putpixel((x, y), CORNER_INDEX[letter])
    return frame


@pytest.mark.parametrize("panel", TWO_PLANE)
def test_bit_order_and_polarity_on_the_two_plane_panels(panel: str) -> None:
    spec = PANELS[panel]
    data = pack(corner_frame(panel), panel)
    black_white, red = data[: spec.plane_bytes], data[spec.plane_bytes :]
    stride = spec.width // 8
    # First pixel in the most significant bit; black/white plane: 1 = white (red counts as
    # white there); red plane: 1 = red.
    assert black_white[0] == 0b0111_1110
    assert black_white[stride] == 0b1100_1111
    assert red[0] == 0b0010_0000
    assert red[stride] == 0b1100_0010
    # The rest of both rows is white.
    assert black_white[1:stride] == b"\xff" * (stride - 1)
    assert red[1:stride] == b"\x00" * (stride - 1)


def test_nibble_order_and_colour_codes_on_v1() -> None:
    spec = PANELS[V1]
    data = pack(corner_frame(V1), V1)
    stride = spec.width // 2
    # First pixel in the high nibble; 0x0 black, 0x3 white, 0x4 red.
    assert data[:4] == bytes([0x03, 0x43, 0x33, 0x30])
    assert data[stride : stride + 4] == bytes([0x44, 0x00, 0x33, 0x43])
    assert data[4:stride] == b"\x33" * (stride - 4)


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_pack_returns_the_panels_frame_size(panel: str) -> None:
    assert len(pack(busy_frame(panel), panel)) == PANELS[panel].frame_bytes
    assert {name: spec.frame_bytes for name, spec in PANELS.items()} == {
        "waveshare_epd7in5b_v2": 96_000,
        "waveshare_epd7in5b_v1": 122_880,
        "waveshare_epd7in5b_hd": 116_160,
    }


@pytest.mark.parametrize("panel", PANEL_NAMES)
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "1", "P-other-palette"])
def test_other_image_modes_pack_like_the_palette_frame(panel: str, mode: str) -> None:
    frame = half_and_half(panel) if mode not in ("L", "1") else uniform(panel, BLACK)
    frame.paste(WHITE, (0, 0, 40, 40))
    rgb = frame.convert("RGB")
    if mode == "P-other-palette":
        other = rgb.quantize(colors=8, dither=Image.Dither.NONE)
        assert other.getpalette() != frame.getpalette()
        image = other
    elif mode in ("L", "1"):
        image = rgb.convert(mode)
    else:
        image = rgb.convert(mode)
    assert pack(image, panel) == pack(frame, panel)


def test_off_palette_colours_go_to_the_nearest_colour_without_dithering() -> None:
    size = (64, 8)
    cases = {
        (250, 10, 10): RED,
        (160, 60, 60): RED,
        (30, 30, 30): BLACK,
        (127, 127, 128): BLACK,  # sum 382: nearer black
        (127, 128, 128): WHITE,  # sum 383: nearer white
        (200, 200, 200): WHITE,
        (255, 200, 200): WHITE,
        (100, 100, 100): BLACK,
    }
    for colour, expected in cases.items():
        result = to_palette(Image.new("RGB", size, colour))
        # Uniform in, uniform out: a ditherer would scatter both colours.
        assert set(result.tobytes()) == {expected}, colour


def test_transparent_pixels_are_white() -> None:
    image = Image.new("RGBA", (16, 4), (0, 0, 0, 0))
    image.putpixel((3, 1), (255, 0, 0, 255))
    result = to_palette(image)
    assert result.getpixel((0, 0)) == WHITE
    assert result.getpixel((3, 1)) == RED


def nearest(rgb: tuple[int, int, int]) -> int:
    distances = [
        sum((a - b) ** 2 for a, b in zip(rgb, c, strict=True)) for c in drivers.PALETTE_RGB
    ]
    return distances.index(min(distances))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=64))
def test_to_palette_picks_the_nearest_colour_exactly(pixels: list[tuple[int, int, int]]) -> None:
    image = Image.new("RGB", (len(pixels), 1))
    image.putdata(pixels)
    assert list(to_palette(image).tobytes()) == [nearest(p) for p in pixels]


_MOD3 = bytes(value % 3 for value in range(256))


def random_frame(panel: str, seed: int) -> Image.Image:
    spec = PANELS[panel]
    noise = random.Random(seed).randbytes(spec.width * spec.height).translate(_MOD3)
    frame = Image.frombytes("P", spec.size, noise)
    frame.putpalette([channel for colour in drivers.PALETTE_RGB for channel in colour])
    return frame


@settings(max_examples=15, deadline=None)
@given(panel=st.sampled_from(PANEL_NAMES), seed=st.integers(0, 2**32))
def test_random_frames_round_trip_through_pack_and_unpack(panel: str, seed: int) -> None:
    frame = random_frame(panel, seed)
    shown = unpack(pack(frame, panel), panel)
    assert shown.mode == "P"
    assert shown.tobytes() == frame.tobytes()
    # ...and through RGB, so packing does not depend on the input mode.
    assert pack(frame.convert("RGB"), panel) == pack(frame, panel)


@pytest.mark.parametrize("panel", TWO_PLANE)
def test_unpack_shows_red_where_the_red_plane_is_set(panel: str) -> None:
    spec = PANELS[panel]
    # Black/white plane all black, red plane all red: the controller paints red.
    shown = unpack(b"\x00" * spec.plane_bytes + b"\xff" * spec.plane_bytes, panel)
    assert set(shown.tobytes()) == {RED}


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_portrait_frames_turn_counter_clockwise_onto_the_panel(panel: str) -> None:
    spec = PANELS[panel]
    portrait = new_frame((spec.height, spec.width))
    portrait.putpixel((0, 0), BLACK)  # top-left of the portrait picture
    portrait.putpixel((spec.height - 1, 0), RED)  # top-right
    shown = unpack(pack(portrait, panel), panel)
    assert shown.size == spec.size
    # The portrait's top edge runs up the panel's left edge.
    assert shown.getpixel((0, spec.height - 1)) == BLACK
    assert shown.getpixel((0, 0)) == RED
    assert shown.transpose(drivers.PORTRAIT_TO_PANEL_INVERSE).tobytes() == portrait.tobytes()


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_wrong_size_frame_names_both_sizes(panel: str) -> None:
    spec = PANELS[panel]
    with pytest.raises(DisplayError) as excinfo:
        pack(new_frame((spec.width - 1, spec.height)), panel)
    message = str(excinfo.value)
    assert f"{spec.width - 1}x{spec.height}" in message
    assert f"{spec.width}x{spec.height}" in message


def test_pack_never_changes_the_callers_image() -> None:
    panel = "waveshare_epd7in5b_v2"
    for image in (busy_frame(panel), busy_frame(panel).convert("RGB")):
        before = (image.mode, image.size, image.tobytes(), image.getpalette())
        pack(image, panel)
        pack(image, panel)
        assert (image.mode, image.size, image.tobytes(), image.getpalette()) == before


def test_unknown_panel_is_a_value_error_listing_the_panels() -> None:
    with pytest.raises(ValueError, match="waveshare_epd7in5b_v2"):
        pack(new_frame((800, 480)), "epd_9in")


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_test_pattern_has_both_inks_and_the_panel_size(panel: str) -> None:
    pattern = test_pattern(panel)
    assert pattern.size == PANELS[panel].size
    counts = dict(enumerate(pattern.histogram()[:3]))
    assert all(counts[index] > 1000 for index in (WHITE, BLACK, RED))


# --------------------------------------------------------------------------------------------
# Drivers on the fake controller (one suite, every panel)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_show_sends_the_documented_sequence_and_exactly_the_packed_bytes(panel: str) -> None:
    fake, display = connect(panel)
    frame = busy_frame(panel)
    digest = display.show(frame)
    packed = pack(frame, panel)
    assert fake.violations == []
    assert fake.frames == [packed]
    assert digest == hashlib.sha256(packed).hexdigest()
    protocol = PROTOCOLS[panel]
    assert [c.command for c in fake.commands] == [step.command for step in protocol.script]
    assert fake.resets == 1


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_each_plane_goes_out_in_bulk(panel: str) -> None:
    fake, display = connect(panel)
    display.show(busy_frame(panel))
    spec = PANELS[panel]
    for command in spec.plane_commands:
        # One write for the command byte, one for the whole plane.
        assert fake.spi_calls_by_command[command] == 2
        assert fake.spi_bytes_by_command[command] == spec.plane_bytes
    assert fake.spi_calls <= 2 * len(fake.commands)
    assert fake.spi_calls < 40


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_panel_sleeps_and_everything_is_released_after_each_push(panel: str) -> None:
    fake, display = connect(panel)
    for _ in range(3):
        display.show(busy_frame(panel))
        assert fake.commands[-1].command == PROTOCOLS[panel].sleep[-1].command
        assert fake.power_offs[-1] == "asleep"  # deep sleep first, then the supply is cut
        assert not fake.powered
        assert fake.open_handles == 0
        assert fake.rest_problems == []
    assert fake.spi.opened == 3
    assert fake.deep_sleeps == 3


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_the_supply_stays_switched_off_between_frames_and_after_close(panel: str) -> None:
    # GPIO.cleanup() leaves a pin a floating input: the HAT's supply switch would be undefined.
    fake, display = connect(panel)
    pwr = fake.pins.pwr
    assert pwr is not None
    display.show(busy_frame(panel))
    assert fake.gpio.state(pwr) == "low"
    display.close()
    assert fake.gpio.state(pwr) == "low"
    assert fake.rest_problems == []
    # The other lines are handed back; only PWR stays held.
    assert set(fake.gpio.directions) == {pwr}


def test_the_fake_flags_a_floating_supply_line() -> None:
    fake = FakeController("waveshare_epd7in5b_v2")
    gpio, pwr = fake.gpio, fake.pins.pwr
    assert pwr is not None
    gpio.setmode(gpio.BCM)
    gpio.setup(pwr, gpio.OUT, initial=gpio.LOW)
    assert fake.rest_problems == []
    gpio.cleanup(pwr)
    assert fake.rest_problems == [
        f"PWR (GPIO {pwr}) is floating: the panel's supply switch must be held off "
        "(driven low or pulled down)"
    ]
    gpio.setup(pwr, gpio.IN, pull_up_down=gpio.PUD_DOWN)
    assert fake.rest_problems == []


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_busy_is_read_only_after_it_has_had_time_to_rise(panel: str) -> None:
    # BUSY rises >= 200 µs after a command that makes the controller busy; a read before
    # then sees "idle" and the next command reaches a busy controller and is lost.
    fake, display = connect(panel)
    display.show(busy_frame(panel))
    assert fake.violations == []
    busy_steps = sum(step.busy for step in PROTOCOLS[panel].script)
    assert len(fake.first_busy_reads) == busy_steps
    assert min(fake.first_busy_reads) >= 0.001  # GxEPD2's margin, five times the rise time


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_driver_waits_for_busy_with_the_panels_polarity(panel: str) -> None:
    fake, display = connect(panel, busy_polls=25)
    display.show(busy_frame(panel))
    busy_steps = sum(step.busy for step in PROTOCOLS[panel].script)
    assert fake.polls >= busy_steps * 26  # every busy period was polled out
    assert fake.violations == []


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_stuck_busy_resets_retries_then_times_out_cleanly(
    panel: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeController(panel, mode="busy_forever")
    display = open_display(panel, busy_timeout=5.0, **fake.driver_options())
    with caplog.at_level(logging.WARNING), pytest.raises(PanelBusyTimeout) as excinfo:
        display.show(busy_frame(panel))
    message = str(excinfo.value)
    assert "GPIO 24" in message and "5 s" in message and "reset" in message
    assert isinstance(excinfo.value, TimeoutError)
    assert fake.resets == 2  # the first attempt's reset, then the retry's
    assert 10.0 <= fake.now < 15.0  # two timeouts, not a hang
    assert fake.frames == []
    assert fake.open_handles == 0 and not fake.powered
    assert "trying once more" in caplog.text
    # The panel recovers: the same display object works on the next call.
    fake.mode = "normal"
    display.show(busy_frame(panel))
    assert len(fake.frames) == 1


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_a_single_hang_is_cured_by_the_reset_and_retry(panel: str) -> None:
    fake, display = connect(panel, mode="stuck_once")
    frame = busy_frame(panel)
    display.show(frame)
    assert fake.resets == 2
    assert fake.frames == [pack(frame, panel)]
    assert fake.open_handles == 0


def test_default_busy_timeout_is_sixty_seconds() -> None:
    fake, display = connect("waveshare_epd7in5b_v2", mode="busy_forever")
    with pytest.raises(PanelBusyTimeout, match="60 s"):
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert 120.0 <= fake.now < 125.0


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_clear_pushes_an_all_white_frame(panel: str) -> None:
    fake, display = connect(panel)
    display.clear()
    assert fake.frames == [pack(uniform(panel, WHITE), panel)]
    assert fake.power_offs[-1] == "asleep"


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_a_wrong_size_frame_touches_no_hardware(panel: str) -> None:
    fake, display = connect(panel)
    with pytest.raises(DisplayError):
        display.show(new_frame((100, 100)))
    assert fake.spi.opened == 0 and fake.spi_calls == 0 and fake.open_handles == 0


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_portrait_frames_reach_the_panel_rotated(panel: str) -> None:
    fake, display = connect(panel)
    landscape = busy_frame(panel)
    display.show(landscape.transpose(drivers.PORTRAIT_TO_PANEL_INVERSE))
    assert fake.frames == [pack(landscape, panel)]


def test_show_does_not_change_the_callers_frame() -> None:
    panel = "waveshare_epd7in5b_v2"
    fake, display = connect(panel)
    frame = busy_frame(panel)
    before = frame.tobytes()
    display.show(frame)
    display.show(frame)
    assert frame.tobytes() == before
    # The vendor driver inverted its buffer in place, so its second push was a negative.
    assert fake.frames[0] == fake.frames[1] == pack(frame, panel)


def test_closed_display_refuses_frames_and_works_as_a_context_manager() -> None:
    fake = FakeController("waveshare_epd7in5b_v2")
    with open_display("waveshare_epd7in5b_v2", **fake.driver_options()) as display:
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    with pytest.raises(DisplayError, match="closed"):
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.open_handles == 0


def test_pins_and_spi_settings_are_configurable() -> None:
    pins = {"rst": 5, "dc": 6, "cs": 26, "busy": 13, "pwr": None}
    fake = FakeController("waveshare_epd7in5b_v2", pins=Pins(**pins), spi_device=1)
    options = fake.driver_options() | {"pins": pins, "spi_speed_hz": 10_000_000}
    display = open_display("waveshare_epd7in5b_v2", **options)
    display.show(busy_frame("waveshare_epd7in5b_v2"))
    # GPIO 26 is not the device's own chip select, so the driver drives it (the fake checks
    # that it is low during every transfer).
    assert fake.violations == [] and len(fake.frames) == 1
    assert fake.spi.max_speed_hz == 10_000_000
    assert fake.open_handles == 0


def test_the_spi_chip_select_pin_is_left_to_spidev() -> None:
    fake, display = connect("waveshare_epd7in5b_v2")
    display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.violations == []

    class GrabsChipSelect(WaveshareEpd7in5bV2):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self._software_cs = True

    fake = FakeController("waveshare_epd7in5b_v2")
    with pytest.raises(ProtocolError, match="GPIO 8 is the SPI device's own chip select"):
        GrabsChipSelect(**fake.driver_options()).show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.open_handles == 0


def test_default_pins_match_the_hat_rev_2_3() -> None:
    assert Pins() == Pins(rst=17, dc=25, cs=8, busy=24, pwr=18)
    with pytest.raises(ValueError, match="unknown pin"):
        Pins.coerce({"reset": 17})


def test_driver_that_skips_the_busy_wait_is_caught_by_the_fake() -> None:
    class Impatient(WaveshareEpd7in5bV2):
        def _wait_idle(self, after: str) -> None:
            pass

    fake = FakeController("waveshare_epd7in5b_v2")
    display = Impatient(**fake.driver_options())
    with pytest.raises(ProtocolError, match="BUSY is asserted"):
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.open_handles == 0  # released even after a failure


def test_driver_that_forgets_deep_sleep_is_caught_by_the_fake() -> None:
    class Sleepless(WaveshareEpd7in5bV2):
        def _deep_sleep(self) -> None:
            pass

    fake = FakeController("waveshare_epd7in5b_v2")
    with pytest.raises(ProtocolError, match="without deep sleep"):
        Sleepless(**fake.driver_options()).show(busy_frame("waveshare_epd7in5b_v2"))


def test_spi_device_missing_is_a_clear_error_and_releases_the_pins() -> None:
    fake = FakeController("waveshare_epd7in5b_v2")

    def no_device(bus: int, device: int) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    fake.spi.open = no_device  # type: ignore[method-assign]
    display = open_display("waveshare_epd7in5b_v2", **fake.driver_options())
    with pytest.raises(DisplayError, match="enable SPI"):
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.open_handles == 0


# --------------------------------------------------------------------------------------------
# The fake itself: it must reject what a panel would not accept
# --------------------------------------------------------------------------------------------


class HandDriver:
    """Drives a fake by hand, one step at a time."""

    def __init__(self, panel: str = "waveshare_epd7in5b_v2", **options: Any) -> None:
        self.fake = FakeController(panel, **({"busy_polls": 0} | options))
        gpio, pins = self.fake.gpio, self.fake.pins
        gpio.setmode(gpio.BCM)
        for pin in (pins.rst, pins.dc, pins.pwr):
            gpio.setup(pin, gpio.OUT)
        gpio.setup(pins.busy, gpio.IN)
        self.fake.spi.open(0, 0)
        gpio.output(pins.pwr, 1)

    def reset(self) -> None:
        gpio, rst = self.fake.gpio, self.fake.pins.rst
        gpio.output(rst, 1)
        gpio.output(rst, 0)
        self.fake.sleep(0.01)
        gpio.output(rst, 1)

    def command(self, command: int, data: bytes = b"") -> None:
        gpio, dc = self.fake.gpio, self.fake.pins.dc
        gpio.output(dc, 0)
        self.fake.spi.writebytes([command])
        if data:
            gpio.output(dc, 1)
            self.fake.spi.writebytes2(data)

    def wait_idle(self) -> None:
        """Give BUSY time to rise, then read it until the controller is idle."""
        self.fake.sleep(0.001)
        while self.fake.gpio.input(self.fake.pins.busy) == self.fake.protocol.busy_level:
            self.fake.sleep(0.01)

    def steps(self, steps: Any) -> None:
        for step in steps:
            self.command(
                step.command, bytes(step.length) if isinstance(step.data, int) else step.data
            )
            if step.busy:
                self.wait_idle()


def test_fake_accepts_the_documented_sequence_by_hand() -> None:
    for panel in PANEL_NAMES:
        hand = HandDriver(panel)
        hand.reset()
        hand.steps(PROTOCOLS[panel].script)
        assert hand.fake.frames == [bytes(PANELS[panel].frame_bytes)]
        assert hand.fake.asleep


def test_fake_rejects_spi_before_a_reset() -> None:
    with pytest.raises(ProtocolError, match="before a hardware reset"):
        HandDriver().command(0x01, b"\x07\x07\x3f\x3f")


def test_fake_rejects_data_before_a_command() -> None:
    hand = HandDriver()
    hand.reset()
    hand.fake.gpio.output(hand.fake.pins.dc, 1)
    with pytest.raises(ProtocolError, match="no command before it"):
        hand.fake.spi.writebytes2(b"\x07")


def test_fake_rejects_a_wrong_init_value() -> None:
    hand = HandDriver()
    hand.reset()
    with pytest.raises(ProtocolError, match="0x01 POWER SETTING expects data"):
        hand.command(0x01, b"\x07\x07\x3f\x00")


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_fake_rejects_a_short_plane(panel: str) -> None:
    protocol = PROTOCOLS[panel]
    hand = HandDriver(panel)
    hand.reset()
    hand.steps(protocol.init)
    first_plane = protocol.frame[0]
    hand.command(first_plane.command, bytes(first_plane.length - 1))
    with pytest.raises(ProtocolError, match=f"takes {first_plane.length} data bytes"):
        hand.command(protocol.frame[-1].command)


def test_fake_rejects_refresh_before_power_on() -> None:
    protocol = PROTOCOLS[V1]
    hand = HandDriver(V1)
    hand.reset()
    hand.steps(protocol.init + protocol.frame)
    with pytest.raises(ProtocolError, match="before power-on"):
        hand.command(0x12)


def test_fake_rejects_spi_while_busy() -> None:
    hand = HandDriver(busy_polls=3)
    hand.reset()
    hand.steps(PROTOCOLS["waveshare_epd7in5b_v2"].init[:2])
    hand.command(0x04)  # POWER ON: busy
    hand.fake.sleep(0.001)
    assert hand.fake.busy
    assert hand.fake.gpio.input(hand.fake.pins.busy) == 0  # V2: LOW = busy
    with pytest.raises(ProtocolError, match="while BUSY is asserted"):
        hand.command(0x00, b"\x0f")


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_fake_rejects_a_command_sent_before_busy_has_risen(panel: str) -> None:
    protocol = PROTOCOLS[panel]
    first_busy = next(i for i, step in enumerate(protocol.script) if step.busy)
    hand = HandDriver(panel)
    hand.reset()
    hand.steps(protocol.script[:first_busy])
    busy_step, after = protocol.script[first_busy], protocol.script[first_busy + 1]
    hand.command(busy_step.command, busy_step.data if isinstance(busy_step.data, bytes) else b"")
    # BUSY still reads idle: the controller is busy, the line has not risen yet.
    assert hand.fake.gpio.input(hand.fake.pins.busy) != protocol.busy_level
    assert hand.fake.busy
    with pytest.raises(ProtocolError, match="before BUSY rose"):
        hand.command(after.command, after.data if isinstance(after.data, bytes) else b"")


def test_fake_rejects_commands_after_deep_sleep_without_reset() -> None:
    hand = HandDriver()
    hand.reset()
    hand.steps(PROTOCOLS["waveshare_epd7in5b_v2"].script)
    with pytest.raises(ProtocolError, match="after deep sleep"):
        hand.command(0x01, b"\x07\x07\x3f\x3f")


def test_fake_spi_refuses_long_writebytes_like_spidev() -> None:
    hand = HandDriver()
    with pytest.raises(OverflowError):
        hand.fake.spi.writebytes([0] * 4097)


def test_fake_busy_forever_never_releases() -> None:
    hand = HandDriver(mode="busy_forever")
    hand.reset()
    hand.steps(PROTOCOLS["waveshare_epd7in5b_v2"].init[:2])
    hand.command(0x04)  # POWER ON: busy
    hand.fake.sleep(0.001)
    reads = {hand.fake.gpio.input(24) for _ in range(10_000)}
    assert reads == {0}  # V2: LOW = busy


# --------------------------------------------------------------------------------------------
# Opening drivers, hardware imports
# --------------------------------------------------------------------------------------------


def test_driver_names() -> None:
    assert DRIVER_NAMES == (
        "waveshare_epd7in5b_v2",
        "waveshare_epd7in5b_v1",
        "waveshare_epd7in5b_hd",
        "mock",
    )
    assert {name: PANELS[name].size for name in PANEL_NAMES} == {
        "waveshare_epd7in5b_v1": (640, 384),
        "waveshare_epd7in5b_v2": (800, 480),
        "waveshare_epd7in5b_hd": (880, 528),
    }


def test_unknown_driver_lists_the_valid_names() -> None:
    with pytest.raises(ValueError) as excinfo:
        open_display("waveshare_epd7in5")
    for name in DRIVER_NAMES:
        assert name in str(excinfo.value)


def test_importing_drivers_needs_no_hardware_modules() -> None:
    code = (
        "import sys\n"
        "sys.modules['spidev'] = None\n"
        "sys.modules['RPi'] = None\n"
        "sys.modules['RPi.GPIO'] = None\n"
        "import drivers, drivers.fakes\n"
        "assert not any(m.startswith(('spidev', 'RPi', 'homeboard')) and sys.modules[m]"
        " for m in sys.modules), 'hardware or app module imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("panel", PANEL_NAMES)
def test_opening_a_panel_without_the_pi_extra_says_what_to_install(
    panel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "spidev", None)
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(MissingHardware) as excinfo:
        open_display(panel)
    assert "pip install 'homeboard[pi]'" in str(excinfo.value)
    assert isinstance(excinfo.value, ImportError) and isinstance(excinfo.value, DisplayError)


def test_gpio_library_refusing_to_load_is_a_display_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import drivers.waveshare as waveshare

    def refuse(name: str) -> Any:
        raise RuntimeError("This module can only be run on a Raspberry Pi!")

    monkeypatch.setattr(waveshare.importlib, "import_module", refuse)
    with pytest.raises(DisplayError, match="only be run on a Raspberry Pi"):
        open_display("waveshare_epd7in5b_v2")


# --------------------------------------------------------------------------------------------
# Refresh policy
# --------------------------------------------------------------------------------------------

T0 = datetime(2024, 3, 9, 10, 15, tzinfo=UTC)
MIN = timedelta(seconds=180)


def decide(**overrides: Any) -> drivers.PushDecision:
    arguments: dict[str, Any] = {
        "sha256": "b" * 64,
        "now": T0 + timedelta(minutes=15),
        "last_sha256": "a" * 64,
        "last_push_at": T0,
        "min_interval": MIN,
    }
    return decide_push(**(arguments | overrides))


def test_first_push_goes_out() -> None:
    assert decide(last_sha256=None, last_push_at=None).outcome == "push"


def test_changed_frame_is_pushed() -> None:
    decision = decide()
    assert decision.outcome == "push" and decision.should_push


def test_unchanged_frame_is_not_pushed() -> None:
    decision = decide(sha256="a" * 64)
    assert decision.outcome == "unchanged" and not decision.should_push


def test_unchanged_frame_is_refreshed_after_24_hours() -> None:
    assert decide(sha256="a" * 64, now=T0 + timedelta(hours=23, minutes=59)).outcome == (
        "unchanged"
    )
    assert decide(sha256="a" * 64, now=T0 + timedelta(hours=24)).outcome == "push"


def test_force_pushes_even_unchanged_and_too_soon() -> None:
    assert decide(sha256="a" * 64, now=T0, force=True).outcome == "push"
    assert decide(now=T0 + timedelta(seconds=5), force=True).outcome == "push"


def test_change_within_min_interval_is_deferred_to_the_first_allowed_moment() -> None:
    decision = decide(now=T0 + timedelta(seconds=30))
    assert decision.outcome == "defer" and not decision.should_push
    assert decision.not_before == T0 + MIN
    assert decide(now=T0 + MIN).outcome == "push"
    assert decide(now=T0 + timedelta(seconds=30), min_interval=0).outcome == "push"
    assert decide(now=T0 + timedelta(seconds=30), min_interval=20.0).outcome == "push"


def test_deferred_change_is_pushed_later_never_dropped() -> None:
    """A caller re-deciding every minute pushes the change once min_interval has passed."""
    pushed_at = None
    for minute in range(1, 10):
        now = T0 + timedelta(minutes=minute)
        decision = decide(now=now)
        if decision.should_push:
            pushed_at = now
            break
        assert decision.outcome == "defer"
    assert pushed_at == T0 + timedelta(minutes=3)


def test_clock_earlier_than_last_push_does_not_block_changes() -> None:
    assert decide(now=T0 - timedelta(hours=5)).outcome == "push"
    assert decide(sha256="a" * 64, now=T0 - timedelta(hours=30)).outcome == "unchanged"


def test_displays_publish_their_min_interval() -> None:
    fake = FakeController("waveshare_epd7in5b_v2")
    assert open_display("waveshare_epd7in5b_v2", **fake.driver_options()).min_interval == MIN
    assert drivers.MockDisplay.min_interval == timedelta(0)


def test_a_gpio_line_held_elsewhere_is_a_clear_error_and_releases_the_rest() -> None:
    # On a Pi 5 (rpi-lgpio) a line claimed by another process is refused: "GPIO busy".
    fake = FakeController("waveshare_epd7in5b_v2")
    setup = fake.gpio.setup

    def busy_pwr(channel: int, *args: Any, **kwargs: Any) -> None:
        if channel == fake.pins.pwr:
            raise RuntimeError("GPIO busy")
        setup(channel, *args, **kwargs)

    fake.gpio.setup = busy_pwr  # type: ignore[method-assign]
    display = open_display("waveshare_epd7in5b_v2", **fake.driver_options())
    with pytest.raises(DisplayError, match="cannot claim GPIO 18: GPIO busy"):
        display.show(busy_frame("waveshare_epd7in5b_v2"))
    assert fake.open_handles == 0 and fake.spi.opened == 0
