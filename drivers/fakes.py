"""A fake SPI bus and GPIO that behave like the panels' controllers, for tests without a Pi.

``FakeController(panel)`` simulates one panel behind a HAT: its ``spi`` stands in for
``spidev.SpiDev()`` and its ``gpio`` for the ``RPi.GPIO`` module. It follows the panel's
documented command sequence (written out here independently of the drivers), asserts BUSY
after the commands that make the real controller busy, and raises ``ProtocolError`` (an
``AssertionError``) at the first thing a real panel would not accept. It also runs a virtual
clock (``sleep``/``monotonic``), so a 60 s BUSY timeout passes instantly.

Two things a real panel does that a hasty driver trips over are modelled: BUSY rises only
``busy_rise_s`` (200 µs) after the command that makes the controller busy, though the
controller is busy at once (a command sent in between is lost); and between pushes the PWR
line must be held low, as a floating line leaves the panel's supply switch undefined
(``rest_problems`` lists what is left wrong).

    fake = FakeController("waveshare_epd7in5b_v2")
    display = open_display("waveshare_epd7in5b_v2", **fake.driver_options())
    display.show(frame)
    assert fake.frames[-1] == pack(frame, "waveshare_epd7in5b_v2")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .panels import panel_spec
from .waveshare import SPI_CHIP_SELECT_PINS, Pins

# Shorter RST pulses (e.g. the pin set up low and raised at once) do not reset the controller.
MIN_RESET_PULSE_S = 0.001
# The vendor's HD code: BUSY takes at least 200 µs to rise after a command that raises it.
BUSY_RISE_S = 0.0002

BusyMode = Literal["normal", "busy_for_n_polls", "busy_forever", "stuck_once"]


class ProtocolError(AssertionError):
    """The driver did something the panel's controller would not accept."""


@dataclass(frozen=True)
class Step:
    """One command of a panel's documented sequence and the data it must carry."""

    command: int
    name: str
    data: bytes | int = b""  # exact bytes, or the length of frame data
    busy: bool = False  # the controller asserts BUSY once the step's data is complete

    @property
    def length(self) -> int:
        """Number of data bytes the command takes."""
        return self.data if isinstance(self.data, int) else len(self.data)

    def label(self) -> str:
        """The command byte and its name, for messages."""
        return f"0x{self.command:02X} {self.name}"


@dataclass(frozen=True)
class PanelProtocol:
    """A panel's full push sequence after a hardware reset, and its rules."""

    init: tuple[Step, ...]
    frame: tuple[Step, ...]
    refresh: tuple[Step, ...]
    sleep: tuple[Step, ...]
    busy_level: int  # BUSY level while busy
    power_on: int | None  # command that must come before the refresh command, if any
    refresh_command: int
    refresh_follows: int | None  # command that must directly precede the refresh command

    @property
    def script(self) -> tuple[Step, ...]:
        """Every step, in order."""
        return self.init + self.frame + self.refresh + self.sleep


_V1V2_SLEEP = (
    Step(0x02, "POWER OFF", busy=True),
    Step(0x07, "DEEP SLEEP", b"\xa5"),
)

PROTOCOLS: dict[str, PanelProtocol] = {
    "waveshare_epd7in5b_v2": PanelProtocol(
        init=(
            Step(0x01, "POWER SETTING", b"\x07\x07\x3f\x3f"),
            Step(0x06, "BOOSTER SOFT START", b"\x17\x17\x28\x17"),
            Step(0x04, "POWER ON", busy=True),
            Step(0x00, "PANEL SETTING", b"\x0f"),
            Step(0x61, "RESOLUTION SETTING", b"\x03\x20\x01\xe0"),  # 800 x 480
            Step(0x15, "DUAL SPI", b"\x00"),
            Step(0x50, "VCOM AND DATA INTERVAL SETTING", b"\x11\x07"),
            Step(0x60, "TCON SETTING", b"\x22"),
        ),
        frame=(
            Step(0x10, "DATA START TRANSMISSION 1 (black/white)", 48_000),
            Step(0x13, "DATA START TRANSMISSION 2 (red)", 48_000),
        ),
        refresh=(Step(0x12, "DISPLAY REFRESH", busy=True),),
        sleep=_V1V2_SLEEP,
        busy_level=0,
        power_on=0x04,
        refresh_command=0x12,
        refresh_follows=None,
    ),
    "waveshare_epd7in5b_v1": PanelProtocol(
        init=(
            Step(0x01, "POWER SETTING", b"\x37\x00"),
            Step(0x00, "PANEL SETTING", b"\xcf\x08"),
            Step(0x30, "PLL CONTROL", b"\x3a"),
            Step(0x82, "VCM DC SETTING", b"\x28"),
            Step(0x06, "BOOSTER SOFT START", b"\xc7\xcc\x15"),
            Step(0x50, "VCOM AND DATA INTERVAL SETTING", b"\x77"),
            Step(0x60, "TCON SETTING", b"\x22"),
            Step(0x65, "FLASH CONTROL", b"\x00"),
            Step(0x61, "RESOLUTION SETTING", b"\x02\x80\x01\x80"),  # 640 x 384
            Step(0xE5, "FLASH MODE", b"\x03"),
        ),
        frame=(Step(0x10, "DATA START TRANSMISSION 1 (4 bits per pixel)", 122_880),),
        refresh=(
            Step(0x04, "POWER ON", busy=True),
            Step(0x12, "DISPLAY REFRESH", busy=True),
        ),
        sleep=_V1V2_SLEEP,
        busy_level=0,
        power_on=0x04,
        refresh_command=0x12,
        refresh_follows=None,
    ),
    "waveshare_epd7in5b_hd": PanelProtocol(
        init=(
            Step(0x12, "SW RESET", busy=True),
            Step(0x46, "AUTO WRITE RED RAM", b"\xf7", busy=True),
            Step(0x47, "AUTO WRITE B/W RAM", b"\xf7", busy=True),
            Step(0x0C, "BOOSTER SOFT START", b"\xae\xc7\xc3\xc0\x40"),
            Step(0x01, "DRIVER OUTPUT CONTROL", b"\xaf\x02\x01"),
            Step(0x11, "DATA ENTRY MODE", b"\x01"),
            Step(0x44, "SET RAM X ADDRESS START/END", b"\x00\x00\x6f\x03"),
            Step(0x45, "SET RAM Y ADDRESS START/END", b"\xaf\x02\x00\x00"),
            Step(0x3C, "BORDER WAVEFORM CONTROL", b"\x01"),
            Step(0x18, "TEMPERATURE SENSOR", b"\x80"),
            Step(0x22, "DISPLAY UPDATE CONTROL 2", b"\xb1"),
            Step(0x20, "MASTER ACTIVATION", busy=True),
            Step(0x4E, "SET RAM X ADDRESS COUNTER", b"\x00\x00"),
            Step(0x4F, "SET RAM Y ADDRESS COUNTER", b"\xaf\x02"),
        ),
        frame=(
            Step(0x24, "WRITE RAM (black/white)", 58_080),
            Step(0x26, "WRITE RAM (red)", 58_080),
        ),
        refresh=(
            Step(0x22, "DISPLAY UPDATE CONTROL 2", b"\xc7"),
            Step(0x20, "MASTER ACTIVATION", busy=True),
        ),
        sleep=(Step(0x10, "DEEP SLEEP MODE", b"\x01"),),
        busy_level=1,
        power_on=None,
        refresh_command=0x20,
        refresh_follows=0x22,
    ),
}


@dataclass(frozen=True)
class Command:
    """A command the fake received, with all of its data."""

    command: int
    data: bytes


class FakeSPI:
    """Stands in for ``spidev.SpiDev``; every write goes to the controller simulation."""

    def __init__(self, controller: FakeController) -> None:
        self._controller = controller
        self.max_speed_hz = 0
        self.mode = 0
        self.is_open = False
        self.opened = 0  # times opened, to check handles are released and re-acquired

    def open(self, bus: int, device: int) -> None:
        """Open the bus (it must be the one the controller sits on, and not already open)."""
        controller = self._controller
        if self.is_open:
            controller.fail("SPI device opened twice without close()")
        if (bus, device) != (controller.spi_bus, controller.spi_device):
            controller.fail(
                f"opened /dev/spidev{bus}.{device}; the panel is on "
                f"/dev/spidev{controller.spi_bus}.{controller.spi_device}"
            )
        self.is_open = True
        self.opened += 1

    def close(self) -> None:
        """Close the bus (closing twice is harmless, as with spidev)."""
        if self.is_open:
            self._controller.finish_command()
        self.is_open = False

    def writebytes(self, values: list[int]) -> None:
        """Write a short list of bytes; like spidev, refuses more than 4096."""
        if len(values) > 4096:
            raise OverflowError("Argument list size exceeds 4096 bytes.")
        self._controller.spi_write(bytes(values))

    def writebytes2(self, values: bytes | bytearray | memoryview) -> None:
        """Write a buffer of any size in one call."""
        self._controller.spi_write(bytes(values))


class FakeGPIO:
    """Stands in for the ``RPi.GPIO`` module (BCM numbering); pins are wired to the controller."""

    BCM = 11
    BOARD = 10
    OUT = 0
    IN = 1
    LOW = 0
    HIGH = 1
    PUD_OFF = 20
    PUD_DOWN = 21
    PUD_UP = 22

    def __init__(self, controller: FakeController) -> None:
        self._controller = controller
        self._mode: int | None = None
        self.directions: dict[int, int] = {}  # claimed pins -> OUT/IN
        self.levels: dict[int, int] = {}
        self.pulls: dict[int, int] = {}  # claimed inputs -> PUD_OFF/PUD_DOWN/PUD_UP

    def setwarnings(self, flag: bool) -> None:
        """Accepted and ignored."""

    def setmode(self, mode: int) -> None:
        """Select the numbering; the fake only knows BCM."""
        if mode != self.BCM:
            self._controller.fail("GPIO numbering must be BCM")
        self._mode = mode

    def getmode(self) -> int | None:
        """The numbering set by ``setmode``."""
        return self._mode

    def setup(
        self, channel: int, direction: int, pull_up_down: int = PUD_OFF, initial: int = -1
    ) -> None:
        """Claim a pin as input or output."""
        controller = self._controller
        if self._mode is None:
            controller.fail("GPIO.setup() before GPIO.setmode()")
        hardware_cs = SPI_CHIP_SELECT_PINS.get((controller.spi_bus, controller.spi_device))
        if direction == self.OUT and channel == hardware_cs:
            controller.fail(
                f"GPIO {channel} is the SPI device's own chip select; claiming it as an output "
                "takes it away from the SPI controller"
            )
        self.directions[channel] = direction
        if direction == self.OUT:
            self.pulls.pop(channel, None)
            self.output(channel, self.LOW if initial == -1 else initial)
        else:
            self.pulls[channel] = pull_up_down

    def output(self, channel: int, value: int) -> None:
        """Drive an output pin."""
        if self.directions.get(channel) != self.OUT:
            self._controller.fail(f"GPIO.output({channel}) on a pin not set up as an output")
        level = 1 if value else 0
        previous = self.levels.get(channel, 0)  # a released pin floats low
        self.levels[channel] = level
        if previous != level:
            self._controller.pin_changed(channel, level)

    def input(self, channel: int) -> int:
        """Read an input pin (only BUSY is wired), or an output's level as RPi.GPIO does."""
        direction = self.directions.get(channel)
        if direction == self.OUT:
            return self.levels.get(channel, 0)
        if direction != self.IN:
            self._controller.fail(f"GPIO.input({channel}) on a pin not set up")
        return self._controller.read_pin(channel)

    def gpio_function(self, channel: int) -> int:
        """``OUT`` for a claimed output, else ``IN`` (a released pin is an input)."""
        return self.OUT if self.directions.get(channel) == self.OUT else self.IN

    def state(self, channel: int) -> str:
        """The pin now: ``high``/``low`` (output) or ``pull-down``/``pull-up``/``floating``."""
        if self.directions.get(channel) == self.OUT:
            return "high" if self.levels.get(channel) else "low"
        pull = self.pulls.get(channel, self.PUD_OFF)
        return {self.PUD_DOWN: "pull-down", self.PUD_UP: "pull-up"}.get(pull, "floating")

    def cleanup(self, channel: int | Iterable[int] | None = None) -> None:
        """Release some pins, or all of them: like RPi.GPIO, each becomes a floating input."""
        if channel is None:
            channels = list(self.directions)
        elif isinstance(channel, int):
            channels = [channel]
        else:
            channels = list(channel)
        for pin in channels:
            if self.directions.pop(pin, None) == self.OUT and self.levels.get(pin):
                self.levels[pin] = 0
                self._controller.pin_changed(pin, 0)
            self.levels.pop(pin, None)
            self.pulls.pop(pin, None)


class FakeController:
    """Simulates one panel's controller behind the HAT: SPI, GPIO, BUSY and a virtual clock.

    BUSY modes: ``normal`` and ``busy_for_n_polls`` hold BUSY for ``busy_polls`` reads after
    each command that makes the panel busy (0 = released as soon as it has risen);
    ``busy_forever`` never releases it; ``stuck_once`` hangs the first busy period until a
    hardware reset, then behaves normally. A hardware reset always releases BUSY. In every
    mode BUSY reads idle for ``busy_rise_s`` after the command, while the controller is
    already busy: an SPI write in that window is a violation.
    """

    def __init__(
        self,
        panel: str = "waveshare_epd7in5b_v2",
        *,
        pins: Pins | None = None,
        spi_bus: int = 0,
        spi_device: int = 0,
        mode: BusyMode = "normal",
        busy_polls: int = 2,
        busy_rise_s: float = BUSY_RISE_S,
    ) -> None:
        self.panel = panel_spec(panel)
        self.protocol = PROTOCOLS[self.panel.name]
        self.pins = pins or Pins()
        self.spi_bus = spi_bus
        self.spi_device = spi_device
        self.mode = mode
        self.busy_polls = busy_polls
        self.busy_rise_s = busy_rise_s
        self.spi = FakeSPI(self)
        self.gpio = FakeGPIO(self)
        self.now = 0.0
        # What happened, for tests to assert on.
        self.commands: list[Command] = []
        self.frames: list[bytes] = []  # the planes of every refreshed frame, joined
        self.violations: list[str] = []
        self.spi_calls = 0
        self.spi_bytes = 0
        self.spi_calls_by_command: dict[int, int] = {}  # command byte -> SPI writes for it
        self.polls = 0
        # Per busy period, seconds from the busy command to the driver's first BUSY read.
        self.first_busy_reads: list[float] = []
        self.resets = 0
        self.deep_sleeps = 0
        self.power_offs: list[str] = []  # controller state at each supply cut: asleep/busy/awake
        # Controller state.
        self._needs_reset = True  # state is unknown until a hardware reset
        self._in_reset = False
        self._rst_low_since = 0.0
        self._stuck_used = False
        self._stuck = False
        self._busy_left = 0
        self._busy_since = 0.0
        self._read_since_busy = True
        self._restart()

    # -- hooks for the driver under test --------------------------------------------------

    def driver_options(self) -> dict[str, Any]:
        """Keyword arguments that wire a hardware driver to this fake."""
        return {
            "spi": self.spi,
            "gpio": self.gpio,
            "pins": self.pins,
            "spi_bus": self.spi_bus,
            "spi_device": self.spi_device,
            "sleep": self.sleep,
            "monotonic": self.monotonic,
        }

    def sleep(self, seconds: float) -> None:
        """Advance the virtual clock instead of sleeping."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.now += seconds

    def monotonic(self) -> float:
        """The virtual clock, in seconds."""
        return self.now

    # -- state, for assertions --------------------------------------------------------------

    @property
    def powered(self) -> bool:
        """Whether the HAT's PWR switch is on (always, if there is no PWR pin)."""
        return self.pins.pwr is None or self.gpio.levels.get(self.pins.pwr, 0) == 1

    @property
    def asleep(self) -> bool:
        """Whether the controller is in deep sleep."""
        return self._asleep

    @property
    def rising(self) -> bool:
        """Whether the controller is busy but BUSY has not risen yet (it still reads idle)."""
        return self._busy_cause != "" and self.now < self._busy_since + self.busy_rise_s

    @property
    def busy(self) -> bool:
        """Whether the controller is busy (BUSY asserted, or about to rise)."""
        return self.rising or self._stuck or self._busy_left > 0

    @property
    def open_handles(self) -> int:
        """SPI device (if open) plus GPIO pins still claimed: 0 between pushes.

        A PWR line held low (an output driven low, or an input pulled down) is not counted:
        keeping the panel's supply off is what it is held for.
        """
        pins = set(self.gpio.directions)
        if self.pins.pwr is not None and self.gpio.state(self.pins.pwr) in ("low", "pull-down"):
            pins.discard(self.pins.pwr)
        return int(self.spi.is_open) + len(pins)

    @property
    def rest_problems(self) -> list[str]:
        """What is left wrong for a panel at rest between pushes (empty when all is well)."""
        problems = []
        if self.spi.is_open:
            problems.append("the SPI device is still open")
        pwr = self.pins.pwr
        if pwr is not None and self.gpio.state(pwr) not in ("low", "pull-down"):
            problems.append(
                f"PWR (GPIO {pwr}) is {self.gpio.state(pwr)}: the panel's supply switch must be "
                "held off (driven low or pulled down)"
            )
        others = sorted(set(self.gpio.directions) - {pwr})
        if others:
            problems.append(f"GPIO {others} still claimed")
        return problems

    @property
    def spi_bytes_by_command(self) -> dict[int, int]:
        """Data bytes received per command byte, over all commands so far."""
        totals: dict[int, int] = {}
        for record in self.commands:
            totals[record.command] = totals.get(record.command, 0) + len(record.data)
        return totals

    def fail(self, message: str) -> None:
        """Record a protocol violation and raise it (only the first one raises)."""
        self.violations.append(message)
        if len(self.violations) == 1:
            raise ProtocolError(f"{self.panel.name}: {message}")

    # -- the simulation ---------------------------------------------------------------------

    def _restart(self) -> None:
        """Forget the command sequence: after a reset or power-up, start from init again."""
        self._position = 0
        self._current: Step | None = None
        self._chunks: list[bytes] = []
        self._received = 0
        self._previous: int | None = None
        self._powered_on = False
        self._asleep = False
        self._refreshed = False
        self._planes: list[bytes] = []
        self._busy_left = 0
        self._stuck = False
        self._busy_cause = ""
        self._read_since_busy = True

    def pin_changed(self, pin: int, level: int) -> None:
        """React to an output pin edge (RST, PWR)."""
        if pin == self.pins.rst:
            if level == 0:
                self._in_reset = True
                self._rst_low_since = self.now
            elif self._in_reset:
                self._in_reset = False
                if self.powered and self.now - self._rst_low_since >= MIN_RESET_PULSE_S:
                    self.resets += 1
                    self._needs_reset = False
                    self._restart()  # a reset also ends a hang (BUSY released)
        elif pin == self.pins.pwr:
            if level == 0:
                state = "asleep" if self._asleep else "busy" if self.busy else "awake"
                self.power_offs.append(state)
                if self._refreshed and state == "awake":
                    self.fail("supply cut after a refresh without deep sleep first")
                self._needs_reset = True
                self._restart()

    def read_pin(self, pin: int) -> int:
        """Level of an input pin: BUSY follows the simulated controller."""
        idle = 1 - self.protocol.busy_level
        if pin != self.pins.busy or not self.powered:
            return 0
        self.polls += 1
        if not self._read_since_busy:
            self._read_since_busy = True
            self.first_busy_reads.append(self.now - self._busy_since)
        if self.rising:
            return idle  # the line has not risen yet, though the controller is busy
        if self._stuck:
            return self.protocol.busy_level
        if self._busy_left > 0:
            self._busy_left -= 1
            return self.protocol.busy_level
        return idle

    def _start_busy(self) -> None:
        if self.mode == "busy_forever" or (self.mode == "stuck_once" and not self._stuck_used):
            self._stuck = True
            self._stuck_used = True
        else:
            self._busy_left = self.busy_polls

    def spi_write(self, data: bytes) -> None:
        """Handle one SPI write: a command byte when DC is low, data when it is high."""
        self.spi_calls += 1
        self.spi_bytes += len(data)
        if not self.spi.is_open:
            self.fail("SPI write on a closed device")
        if not self.powered:
            self.fail("SPI write while the panel's supply (PWR) is off")
        if self._in_reset:
            self.fail("SPI write while RST is held low")
        if self._needs_reset:
            self.fail("SPI write before a hardware reset (the controller's state is unknown)")
        if self._asleep:
            self.fail("SPI write after deep sleep without a hardware reset")
        if self.rising:
            waited = (self.now - self._busy_since) * 1e6
            self.fail(
                f"SPI write {waited:.0f} µs after {self._busy_cause}, before BUSY rose: the "
                "controller is busy and drops it (wait at least 1 ms before reading BUSY)"
            )
        elif self.busy:
            self.fail(f"SPI write while BUSY is asserted ({self._busy_cause})")
        cs = self.pins.cs
        if self.gpio.directions.get(cs) == FakeGPIO.OUT and self.gpio.levels.get(cs) != 0:
            self.fail(f"SPI write with the software chip select (GPIO {cs}) high")
        if self.gpio.levels.get(self.pins.dc, 0) == 0:
            for command in data:
                self._begin_command(command)
            key = data[-1] if data else None
        else:
            key = self._current.command if self._current is not None else None
            self._add_data(data)
        if key is not None:
            self.spi_calls_by_command[key] = self.spi_calls_by_command.get(key, 0) + 1

    def _begin_command(self, command: int) -> None:
        self.finish_command()
        protocol = self.protocol
        if command == protocol.refresh_command and self._position >= len(protocol.init):
            if protocol.power_on is not None and not self._powered_on:
                self.fail(f"refresh (0x{command:02X}) before power-on (0x{protocol.power_on:02X})")
            if protocol.refresh_follows is not None and self._previous != protocol.refresh_follows:
                self.fail(
                    f"0x{command:02X} without 0x{protocol.refresh_follows:02X} right before it"
                )
        script = protocol.script
        if self._position >= len(script):
            self.fail(f"0x{command:02X} after the end of the push sequence")
            return
        expected = script[self._position]
        if command != expected.command:
            stage = "init" if self._position < len(protocol.init) else "push"
            self.fail(
                f"{stage} step {self._position + 1}: expected {expected.label()}, "
                f"got 0x{command:02X}"
            )
        self._current = expected
        self._chunks = []
        self._received = 0
        if expected.length == 0:
            self._complete()

    def _add_data(self, data: bytes) -> None:
        step = self._current
        if step is None:
            self.fail("data written with no command before it (DC high too early)")
            return
        self._chunks.append(data)
        self._received += len(data)
        if self._received > step.length:
            self.fail(f"{step.label()} takes {step.length} data bytes, got {self._received}")
        elif self._received == step.length:
            self._complete()

    def finish_command(self) -> None:
        """Check the data of the command in progress when the next one starts (or SPI closes)."""
        step = self._current
        if step is not None and self._received != step.length:
            self.fail(f"{step.label()} takes {step.length} data bytes, got {self._received}")

    def _complete(self) -> None:
        step = self._current
        assert step is not None
        data = b"".join(self._chunks)
        self._current = None
        self.commands.append(Command(step.command, data))
        if isinstance(step.data, bytes) and data != step.data:
            self.fail(f"{step.label()} expects data {step.data.hex(' ')}, got {data.hex(' ')}")
        protocol = self.protocol
        if step in protocol.frame:
            self._planes.append(data)
        if step.command == protocol.power_on:
            self._powered_on = True
        self._position += 1
        self._previous = step.command
        if step is protocol.refresh[-1]:
            self._refreshed = True
            self.frames.append(b"".join(self._planes))
        if step is protocol.sleep[-1]:
            self._asleep = True
            self.deep_sleeps += 1
        if step.busy:
            self._busy_cause = step.label()
            self._busy_since = self.now
            self._read_since_busy = False
            self._start_busy()
