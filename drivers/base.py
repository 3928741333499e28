"""The ``Display`` interface shared by the panel drivers and the mock display."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from datetime import timedelta
from types import TracebackType
from typing import ClassVar, Self

from PIL import Image

from .errors import DisplayError
from .packing import pack
from .palette import new_frame
from .panels import PanelSpec
from .policy import PANEL_MIN_INTERVAL


class Display(ABC):
    """A three-colour panel, or a stand-in for one, that shows whole frames.

    ``show(frame)`` takes a landscape frame of ``size`` (or its portrait transpose, see
    ``drivers.packing.landscape``), packs it with ``drivers.pack`` and pushes it, returning
    the SHA-256 hex digest of the packed bytes. Skipping unchanged frames is the caller's job
    (``decide_push``); a display pushes every frame it is given.
    """

    #: Shortest gap between refreshes that the panel tolerates (used with ``decide_push``).
    min_interval: ClassVar[timedelta] = PANEL_MIN_INTERVAL

    def __init__(self, panel: PanelSpec) -> None:
        self.panel = panel
        self._closed = False

    @property
    def size(self) -> tuple[int, int]:
        """The panel's landscape size (width, height) in pixels."""
        return self.panel.size

    def show(self, frame: Image.Image) -> str:
        """Push ``frame`` to the panel and return the SHA-256 hex digest of its packed bytes."""
        return self.show_packed(pack(frame, self.panel))

    def show_packed(self, data: bytes) -> str:
        """Push bytes already packed with ``drivers.pack`` for this panel; return their SHA-256.

        For a caller that packed the frame anyway (to compare it with the last push), so
        that it is not packed twice.
        """
        if self._closed:
            raise DisplayError(f"{type(self).__name__} is closed")
        if len(data) != self.panel.frame_bytes:
            raise DisplayError(
                f"{self.panel.name} takes {self.panel.frame_bytes} bytes per frame, not {len(data)}"
            )
        digest = hashlib.sha256(data).hexdigest()
        self._push(data, digest)
        return digest

    def clear(self) -> str:
        """Push an all-white frame (the panel then sleeps, as after every push)."""
        return self.show(new_frame(self.size))

    def close(self) -> None:
        """Release the display; further ``show`` calls raise ``DisplayError``."""
        self._closed = True

    @abstractmethod
    def _push(self, data: bytes, digest: str) -> None:
        """Send already packed bytes to the panel (or its stand-in)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
