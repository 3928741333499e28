"""The mock display: writes what the panel would show as PNG files, plus a push log."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from PIL import Image

from .base import Display
from .packing import unpack
from .panels import panel_spec

_FRAME_NAME = re.compile(r"^frame-(\d+)\.png$")
_LOG_TAIL_BYTES = 4096  # far more than one pushes.jsonl line


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MockDisplay(Display):
    """A stand-in for a panel that writes PNGs of exactly what the panel would show.

    Each push writes ``latest.png``, a numbered ``frame-NNNNNN.png`` and one line in
    ``pushes.jsonl`` (``seq``, ``time``, ``sha256``, ``panel``). The PNG is rebuilt from the
    packed bytes, so it shows the frame after packing, as the panel would. Numbering resumes
    after the highest frame already in ``output_dir``, so a restarted process never
    overwrites earlier frames.
    """

    #: A PNG file costs nothing to "refresh".
    min_interval: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        *,
        panel: str = "waveshare_epd7in5b_v2",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__(panel_spec(panel))
        self.output_dir = Path(output_dir)
        self._clock = clock

    @property
    def log_path(self) -> Path:
        """The push log, one JSON object per line."""
        return self.output_dir / "pushes.jsonl"

    @property
    def latest_path(self) -> Path:
        """The PNG of the most recent push."""
        return self.output_dir / "latest.png"

    def _push(self, data: bytes, digest: str) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        # Recomputed on every push: another process (a one-off CLI refresh) may have pushed
        # into the same directory since this one last did.
        seq = self._last_seq() + 1
        image = unpack(data, self.panel)
        self._write_png(image, self.output_dir / f"frame-{seq:06d}.png")
        self._write_png(image, self.latest_path)
        record = {
            "seq": seq,
            "time": self._clock().astimezone(UTC).isoformat(),
            "sha256": digest,
            "panel": self.panel.name,
        }
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")

    def _last_seq(self) -> int:
        """Highest sequence number used so far, from the frame files and the push log."""
        highest = 0
        for entry in os.scandir(self.output_dir):
            match = _FRAME_NAME.match(entry.name)
            if match:
                highest = max(highest, int(match.group(1)))
        return max(highest, self._last_logged_seq())

    def _last_logged_seq(self) -> int:
        """The ``seq`` of the last complete line of the push log (0 if none)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - _LOG_TAIL_BYTES))
                tail = log.read()
        except FileNotFoundError:
            return 0
        for line in reversed(tail.splitlines()):
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line (crash mid-write) or the cut-off first one
        return 0

    @staticmethod
    def _write_png(image: Image.Image, path: Path) -> None:
        """Write ``image`` to ``path`` atomically, so readers never see a half-written PNG."""
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, format="PNG")
            os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; previews are for everyone
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
