"""Drivers for the Waveshare 7.5-inch three-colour panels (V2, V1 and HD) over SPI and GPIO.

The command sequences are the ones Waveshare documents for each panel (its Python and C
drivers); every command byte is named where it is sent. What differs from the vendor code:
nothing is claimed at import, every BUSY wait has a timeout (then one reset and retry),
planes go out in one bulk write each, the caller's data is never touched, and each push
releases SPI and GPIO again so a long-running service holds no handles between frames, except
the PWR line, which stays driven low so that the panel's supply stays off.

GPIO goes through the RPi.GPIO API (on a Raspberry Pi 5, the ``rpi-lgpio`` package provides
the same module), SPI through ``spidev``. Both are imported when a driver is created, not
when this module is imported; tests hand in ``drivers.fakes`` objects instead.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

from .base import Display
from .errors import DisplayError, MissingHardware, PanelBusyTimeout
from .panels import PANELS

log = logging.getLogger(__name__)

# The SPI controller drives these chip-select lines itself, keyed by (bus, device); claiming
# one as a GPIO output would switch it away from the SPI function.
SPI_CHIP_SELECT_PINS = {(0, 0): 8, (0, 1): 7, (1, 0): 18, (1, 1): 17, (1, 2): 16}


@dataclass(frozen=True)
class Pins:
    """BCM GPIO numbers of the panel's control lines (defaults: Waveshare HAT rev 2.3).

    ``cs`` equal to the SPI device's own chip-select line (GPIO 8 for device 0) is left to
    spidev; any other pin is driven by software around each transfer. ``pwr`` switches the
    panel's supply on rev 2.3 HATs; set it to None on older HATs, which have no such switch.
    """

    rst: int = 17
    dc: int = 25
    cs: int = 8
    busy: int = 24
    pwr: int | None = 18

    @classmethod
    def coerce(cls, value: Pins | Mapping[str, int | None] | None) -> Pins:
        """Build ``Pins`` from a mapping (as read from a config file), keeping defaults."""
        if value is None:
            return cls()
        if isinstance(value, Pins):
            return value
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown pin name(s) {unknown}; valid names: {sorted(known)}")
        return cls(**value)  # type: ignore[arg-type]


class SpiDevice(Protocol):
    """The part of ``spidev.SpiDev`` the drivers use."""

    max_speed_hz: int
    mode: int

    def open(self, bus: int, device: int) -> None: ...
    def writebytes(self, values: list[int]) -> None: ...
    def writebytes2(self, values: bytes | bytearray | memoryview) -> None: ...
    def close(self) -> None: ...


class _BusyTimeout(Exception):
    """BUSY stayed asserted past the timeout during one attempt (retried once)."""

    def __init__(self, after: str) -> None:
        super().__init__(after)
        self.after = after


def _import_hardware(driver: str, module: str) -> Any:
    """Import ``spidev`` or ``RPi.GPIO``, turning failures into errors that say what to do."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingHardware(driver, module, str(exc)) from exc
    except RuntimeError as exc:  # RPi.GPIO off a Pi: "This module can only be run on a ..."
        raise DisplayError(f"display driver {driver!r}: {module} failed to load: {exc}") from exc


class WaveshareDisplay(Display):
    """Common SPI/GPIO handling for the Waveshare panels; subclasses hold the command sequences.

    Each ``show()``: claim GPIO and open SPI, PWR on, hardware reset, init, send the planes,
    refresh, wait for BUSY, deep sleep, then (always, in a ``finally``) PWR off and release
    SPI and every GPIO line but PWR, which stays an output driven low. If BUSY stays asserted
    past ``busy_timeout`` seconds, the whole sequence is retried once after a hardware reset;
    a second timeout raises ``PanelBusyTimeout``.
    """

    panel_name: ClassVar[str]
    #: How long RST is held low during a hardware reset.
    reset_low_s: ClassVar[float] = 0.004
    #: The vendor waits this long after the deep-sleep command before cutting the supply.
    sleep_settle_s: ClassVar[float] = 2.0
    #: BUSY takes at least 200 µs to rise after a command (the vendor's HD code); read it
    #: sooner and it still says idle, so the next command reaches a busy controller and is
    #: lost. GxEPD2 waits 1 ms before its first read, and so does every BUSY wait here.
    busy_rise_s: ClassVar[float] = 0.001

    def __init__(
        self,
        *,
        spi: SpiDevice | None = None,
        gpio: Any = None,
        pins: Pins | Mapping[str, int | None] | None = None,
        spi_bus: int = 0,
        spi_device: int = 0,
        spi_speed_hz: int = 4_000_000,
        busy_timeout: float = 60.0,
        busy_poll: float = 0.01,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(PANELS[self.panel_name])
        if busy_timeout <= 0 or busy_poll < 0:
            raise ValueError("busy_timeout must be positive and busy_poll not negative")
        self.pins = Pins.coerce(pins)
        self.spi_bus = spi_bus
        self.spi_device = spi_device
        self.spi_speed_hz = spi_speed_hz
        self.busy_timeout = busy_timeout
        self.busy_poll = busy_poll
        self._sleep = sleep
        self._monotonic = monotonic
        # Imported here, when the driver is opened, so that importing ``drivers`` works anywhere.
        self._gpio = gpio if gpio is not None else _import_hardware(self.panel_name, "RPi.GPIO")
        if spi is not None:
            self._new_spi: Callable[[], SpiDevice] = lambda: spi
        else:
            self._new_spi = _import_hardware(self.panel_name, "spidev").SpiDev
        self._software_cs = self.pins.cs != SPI_CHIP_SELECT_PINS.get((spi_bus, spi_device))
        self._spi: SpiDevice | None = None

    # -- one push -------------------------------------------------------------------------

    def _push(self, data: bytes, digest: str) -> None:
        view = memoryview(data)
        size = self.panel.plane_bytes
        planes = [view[i * size : (i + 1) * size] for i in range(len(self.panel.plane_commands))]
        with ExitStack() as claimed:
            self._claim(claimed)
            try:
                self._run(planes)
            except _BusyTimeout as first:
                log.warning(
                    "%s: panel still busy %g s after %s; resetting it and trying once more",
                    self.panel.name,
                    self.busy_timeout,
                    first.after,
                )
                try:
                    self._run(planes)
                except _BusyTimeout as second:
                    raise PanelBusyTimeout(self._timeout_message(second.after)) from None

    def _run(self, planes: Sequence[memoryview]) -> None:
        """One full attempt; starts with a hardware reset so it also recovers a hung panel."""
        self._reset()
        self._init()
        for command, plane in zip(self.panel.plane_commands, planes, strict=True):
            self._command(command, plane)  # DATA START TRANSMISSION / WRITE RAM
        self._refresh()
        self._deep_sleep()

    def _timeout_message(self, after: str) -> str:
        level = "LOW" if self.panel.busy_level == 0 else "HIGH"
        return (
            f"{self.panel.name}: the panel kept BUSY (GPIO {self.pins.busy}) {level} for more "
            f"than {self.busy_timeout:g} s after {after}, again after a hardware reset; the frame "
            "was not shown. Check the cable and the HAT switches, and that display.driver "
            "names this panel."
        )

    # -- claiming and releasing the hardware ----------------------------------------------

    def _claim(self, claimed: ExitStack) -> None:
        """Claim GPIO, open SPI and power the panel; ``claimed`` undoes it all, in reverse."""
        gpio = self._gpio
        pins = self.pins
        gpio.setwarnings(False)  # a crashed earlier run may have left the pins configured
        gpio.setmode(gpio.BCM)
        outputs = [pins.rst, pins.dc]
        if self._software_cs:
            outputs.append(pins.cs)
        if pins.pwr is not None:
            outputs.append(pins.pwr)
        in_use: list[int] = []
        claimed.callback(self._release_pins, in_use)
        for pin in outputs:
            initial = gpio.HIGH if self._software_cs and pin == pins.cs else gpio.LOW
            self._setup(pin, gpio.OUT, initial=initial)
            in_use.append(pin)
        # No pull resistor: the controller drives BUSY, and the timeout catches a loose wire.
        self._setup(pins.busy, gpio.IN, pull_up_down=gpio.PUD_OFF)
        in_use.append(pins.busy)

        spi = self._new_spi()
        device = f"/dev/spidev{self.spi_bus}.{self.spi_device}"
        try:
            spi.open(self.spi_bus, self.spi_device)
        except FileNotFoundError as exc:
            raise DisplayError(
                f"{device} does not exist: enable SPI (sudo raspi-config nonint do_spi 0) "
                "and reboot"
            ) from exc
        except PermissionError as exc:
            raise DisplayError(
                f"no permission to open {device}: add this user to the spi and gpio groups"
            ) from exc
        claimed.callback(self._close_spi, spi)
        spi.max_speed_hz = self.spi_speed_hz
        spi.mode = 0b00
        self._spi = spi

        if pins.pwr is not None:
            gpio.output(pins.pwr, gpio.HIGH)
            # Registered last so it runs first: the supply drops before anything is released.
            claimed.callback(gpio.output, pins.pwr, gpio.LOW)

    def _setup(self, pin: int, direction: int, **options: int) -> None:
        """``GPIO.setup`` one pin; a refusal becomes a ``DisplayError`` that names the pin."""
        try:
            self._gpio.setup(pin, direction, **options)
        except AssertionError:
            raise  # the fake controller's ProtocolError, for the test that provoked it
        except Exception as exc:  # RuntimeError from RPi.GPIO, lgpio.error from rpi-lgpio
            # On a Pi 5 a line claimed by another process is refused ("GPIO busy"); PWR stays
            # claimed between frames by the process that last drove the panel.
            raise DisplayError(
                f"{self.panel.name}: cannot claim GPIO {pin}: {exc} (is another process, "
                "such as the running homeboard service, holding the panel's lines?)"
            ) from exc

    def _close_spi(self, spi: SpiDevice) -> None:
        self._spi = None
        spi.close()

    def _release_pins(self, in_use: list[int]) -> None:
        """Drive the outputs low (as the vendor's exit does) and hand every pin back but PWR.

        ``GPIO.cleanup()`` turns a pin into an input with no pull: PWR would float and leave
        the HAT's supply switch undefined until the next frame, so it stays driven low.
        """
        gpio = self._gpio
        try:
            for pin in in_use:
                if pin != self.pins.busy:
                    gpio.output(pin, gpio.LOW)
        finally:
            released = [pin for pin in in_use if pin != self.pins.pwr]
            if released:
                gpio.cleanup(released)

    # -- talking to the controller --------------------------------------------------------

    def _command(self, command: int, data: bytes | memoryview = b"") -> None:
        """Send one command byte (DC low), then its data (DC high) in a single bulk write."""
        gpio = self._gpio
        spi = self._spi
        assert spi is not None, "SPI is only open inside show()"
        if self._software_cs:
            gpio.output(self.pins.cs, gpio.LOW)
        gpio.output(self.pins.dc, gpio.LOW)
        spi.writebytes([command])
        if len(data):
            gpio.output(self.pins.dc, gpio.HIGH)
            spi.writebytes2(data)  # spidev splits it into bufsiz-sized transfers itself
        if self._software_cs:
            gpio.output(self.pins.cs, gpio.HIGH)

    def _reset(self) -> None:
        """Pulse RST low: the controller restarts (and leaves deep sleep or a hang)."""
        gpio = self._gpio
        gpio.output(self.pins.rst, gpio.HIGH)
        self._sleep(0.2)
        gpio.output(self.pins.rst, gpio.LOW)
        self._sleep(self.reset_low_s)
        gpio.output(self.pins.rst, gpio.HIGH)
        self._sleep(0.2)

    def _wait_idle(self, after: str) -> None:
        """Poll BUSY every ``busy_poll`` s until the panel is idle, or raise after the timeout."""
        busy_level = self.panel.busy_level
        deadline = self._monotonic() + self.busy_timeout
        self._sleep(self.busy_rise_s)  # let BUSY rise before trusting an idle reading
        while int(self._gpio.input(self.pins.busy)) == busy_level:
            if self._monotonic() >= deadline:
                raise _BusyTimeout(after)
            self._sleep(self.busy_poll)

    def _resolution(self) -> bytes:
        """Width and height as two big-endian 16-bit numbers (RESOLUTION SETTING data)."""
        return self.panel.width.to_bytes(2, "big") + self.panel.height.to_bytes(2, "big")

    # -- panel-specific sequences ---------------------------------------------------------

    def _init(self) -> None:
        """Configure the controller after a hardware reset."""
        raise NotImplementedError

    def _refresh(self) -> None:
        """Start the refresh and wait for it to finish."""
        raise NotImplementedError

    def _deep_sleep(self) -> None:
        """Power the panel's drivers off and enter deep sleep (only a reset wakes it)."""
        self._command(0x02)  # POWER OFF
        self._wait_idle("0x02 POWER OFF")
        self._command(0x07, b"\xa5")  # DEEP SLEEP, 0xA5 = check code
        self._sleep(self.sleep_settle_s)


class WaveshareEpd7in5bV2(WaveshareDisplay):
    """Waveshare 7.5" (B) V2/V3, 800x480: B/W plane (0x10, 1 = white), red plane (0x13, 1 = red)."""

    panel_name = "waveshare_epd7in5b_v2"

    def _init(self) -> None:
        self._command(0x01, b"\x07\x07\x3f\x3f")  # POWER SETTING: VGH/VGL 20 V, VDH/VDL 15 V
        self._command(0x06, b"\x17\x17\x28\x17")  # BOOSTER SOFT START
        self._command(0x04)  # POWER ON
        self._sleep(0.1)
        self._wait_idle("0x04 POWER ON")
        self._command(0x00, b"\x0f")  # PANEL SETTING: black/white/red mode, LUT from OTP
        self._command(0x61, self._resolution())  # RESOLUTION SETTING: 800 x 480
        self._command(0x15, b"\x00")  # DUAL SPI: off
        self._command(0x50, b"\x11\x07")  # VCOM AND DATA INTERVAL SETTING
        self._command(0x60, b"\x22")  # TCON SETTING

    def _refresh(self) -> None:
        self._command(0x12)  # DISPLAY REFRESH
        self._sleep(0.1)  # BUSY needs a moment to assert
        self._wait_idle("0x12 DISPLAY REFRESH")


class WaveshareEpd7in5bV1(WaveshareDisplay):
    """Waveshare 7.5" (B) V1, 640x384: one stream after 0x10, 4 bits per pixel."""

    panel_name = "waveshare_epd7in5b_v1"
    reset_low_s = 0.005

    def _init(self) -> None:
        self._command(0x01, b"\x37\x00")  # POWER SETTING
        self._command(0x00, b"\xcf\x08")  # PANEL SETTING
        self._command(0x30, b"\x3a")  # PLL CONTROL
        self._command(0x82, b"\x28")  # VCM DC SETTING
        self._command(0x06, b"\xc7\xcc\x15")  # BOOSTER SOFT START
        self._command(0x50, b"\x77")  # VCOM AND DATA INTERVAL SETTING
        self._command(0x60, b"\x22")  # TCON SETTING
        self._command(0x65, b"\x00")  # FLASH CONTROL
        self._command(0x61, self._resolution())  # RESOLUTION SETTING: 640 x 384
        self._command(0xE5, b"\x03")  # FLASH MODE

    def _refresh(self) -> None:
        # This controller is powered on after the data arrives, not during init.
        self._command(0x04)  # POWER ON
        self._wait_idle("0x04 POWER ON")
        self._command(0x12)  # DISPLAY REFRESH
        self._sleep(0.1)  # BUSY needs a moment to assert
        self._wait_idle("0x12 DISPLAY REFRESH")


class WaveshareEpd7in5bHD(WaveshareDisplay):
    """Waveshare 7.5" (B) HD, 880x528: B/W RAM (0x24, 1 = white) + red RAM (0x26, 1 = red)."""

    panel_name = "waveshare_epd7in5b_hd"

    def _init(self) -> None:
        self._command(0x12)  # SW RESET
        self._wait_idle("0x12 SW RESET")
        self._command(0x46, b"\xf7")  # AUTO WRITE RED RAM (regular pattern)
        self._wait_idle("0x46 AUTO WRITE RED RAM")
        self._command(0x47, b"\xf7")  # AUTO WRITE B/W RAM (regular pattern)
        self._wait_idle("0x47 AUTO WRITE B/W RAM")
        self._command(0x0C, b"\xae\xc7\xc3\xc0\x40")  # BOOSTER SOFT START
        # DRIVER OUTPUT CONTROL; gate and Y-address values are the vendor's (0x2AF).
        self._command(0x01, b"\xaf\x02\x01")
        self._command(0x11, b"\x01")  # DATA ENTRY MODE: X increments, Y decrements
        self._command(0x44, b"\x00\x00\x6f\x03")  # SET RAM X ADDRESS START/END: 0..879
        self._command(0x45, b"\xaf\x02\x00\x00")  # SET RAM Y ADDRESS START/END
        self._command(0x3C, b"\x01")  # BORDER WAVEFORM CONTROL
        self._command(0x18, b"\x80")  # TEMPERATURE SENSOR: internal
        self._command(0x22, b"\xb1")  # DISPLAY UPDATE CONTROL 2: load temperature + waveform
        self._command(0x20)  # MASTER ACTIVATION
        self._wait_idle("0x20 MASTER ACTIVATION (load waveform)")
        self._command(0x4E, b"\x00\x00")  # SET RAM X ADDRESS COUNTER
        self._command(0x4F, b"\xaf\x02")  # SET RAM Y ADDRESS COUNTER

    def _refresh(self) -> None:
        self._command(0x22, b"\xc7")  # DISPLAY UPDATE CONTROL 2: power on, display, power off
        self._command(0x20)  # MASTER ACTIVATION
        self._sleep(0.2)  # the vendor: "the delay here is necessary"
        self._wait_idle("0x20 MASTER ACTIVATION (refresh)")

    def _deep_sleep(self) -> None:
        self._command(0x10, b"\x01")  # DEEP SLEEP MODE 1
        self._sleep(self.sleep_settle_s)


HARDWARE_DRIVERS: dict[str, type[WaveshareDisplay]] = {
    cls.panel_name: cls for cls in (WaveshareEpd7in5bV2, WaveshareEpd7in5bV1, WaveshareEpd7in5bHD)
}

__all__ = [
    "HARDWARE_DRIVERS",
    "Pins",
    "SpiDevice",
    "WaveshareDisplay",
    "WaveshareEpd7in5bHD",
    "WaveshareEpd7in5bV1",
    "WaveshareEpd7in5bV2",
]
