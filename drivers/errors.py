"""Exceptions raised by the panel drivers (the application wraps or re-raises them)."""

from __future__ import annotations

PI_EXTRA_HINT = (
    "install the hardware extra: pip install 'homeboard[pi]' "
    "(on a Raspberry Pi 5 install rpi-lgpio, the RPi.GPIO drop-in, instead of RPi.GPIO)"
)


class DisplayError(Exception):
    """A display could not show a frame (wrong frame, hardware missing or not answering)."""


class PanelBusyTimeout(DisplayError, TimeoutError):
    """The panel kept its BUSY line asserted past the timeout, even after a reset and retry."""


class MissingHardware(DisplayError, ImportError):
    """A hardware driver was opened where spidev or RPi.GPIO cannot be imported."""

    def __init__(self, driver: str, missing: str, detail: str = "") -> None:
        message = f"display driver {driver!r} needs the {missing} module: {PI_EXTRA_HINT}"
        if detail:
            message += f" ({detail})"
        super().__init__(message, name=missing)
