"""Panel drivers for Home Board: Waveshare 7.5-inch three-colour e-paper panels and a mock.

Importable without the application and without hardware libraries: ``spidev`` and
``RPi.GPIO`` are imported only when a hardware driver is opened.
"""

from __future__ import annotations

from typing import Any

from .base import Display
from .errors import DisplayError, MissingHardware, PanelBusyTimeout
from .mock import MockDisplay
from .packing import PORTRAIT_TO_PANEL, PORTRAIT_TO_PANEL_INVERSE, landscape, pack, unpack
from .palette import BLACK, PALETTE_RGB, RED, WHITE, new_frame, to_palette
from .panels import PANELS, PanelSpec
from .pattern import test_pattern
from .policy import PushDecision, decide_push
from .waveshare import HARDWARE_DRIVERS, Pins, WaveshareDisplay

DRIVER_NAMES: tuple[str, ...] = (*PANELS, "mock")


def open_display(name: str, **options: Any) -> Display:
    """Open the display driver called ``name`` (see ``DRIVER_NAMES``) with its options.

    ``mock`` takes ``output_dir`` and optionally ``panel`` and ``clock``; the panel drivers take
    ``pins``, ``spi_bus``, ``spi_device``, ``spi_speed_hz``, ``busy_timeout``, ``busy_poll``
    (and ``spi``/``gpio``/``sleep``/``monotonic`` for tests). The mock is never chosen unless
    asked for by name.
    """
    if name == "mock":
        return MockDisplay(**options)
    driver = HARDWARE_DRIVERS.get(name)
    if driver is None:
        valid = ", ".join(DRIVER_NAMES)
        raise ValueError(f"unknown display driver {name!r}; valid drivers: {valid}")
    return driver(**options)


__all__ = [
    "BLACK",
    "DRIVER_NAMES",
    "PALETTE_RGB",
    "PANELS",
    "PORTRAIT_TO_PANEL",
    "PORTRAIT_TO_PANEL_INVERSE",
    "RED",
    "WHITE",
    "Display",
    "DisplayError",
    "MissingHardware",
    "MockDisplay",
    "PanelBusyTimeout",
    "PanelSpec",
    "Pins",
    "PushDecision",
    "WaveshareDisplay",
    "decide_push",
    "landscape",
    "new_frame",
    "open_display",
    "pack",
    "test_pattern",
    "to_palette",
    "unpack",
]
