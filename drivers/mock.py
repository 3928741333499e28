"""The mock display: writes what the panel would show as PNG files, plus a push log.

Crash safety: every file is written to a temporary name, flushed to disk and renamed into
place, and a push is recorded by one append to ``pushes.jsonl``. All of it happens under an
exclusive ``flock`` on the output directory, so a temporary file seen by the lock holder was
left by a writer that died; it is removed. A frame file written just before a crash carries
its own log record (a PNG text chunk), and its line is added when the folder is next used.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image, PngImagePlugin

from .base import Display
from .errors import DisplayError
from .packing import pack, unpack
from .panels import panel_spec

log = logging.getLogger(__name__)

_FRAME_NAME = re.compile(r"^frame-(\d+)\.png$")
# What ``_write_atomically`` leaves behind when its process dies before the rename.
_TEMP_NAME = re.compile(r"^\.(?:frame-\d+|latest)\.png\..+\.tmp$")
_LOG_TAIL_BYTES = 4096  # far more than one pushes.jsonl line
_RECORD_KEY = "push"  # the PNG text chunk holding the frame's pushes.jsonl record
_RECORD_FIELDS = ("seq", "time", "sha256", "panel")

#: How many numbered frames the mock keeps unless told otherwise.
DEFAULT_KEEP_FRAMES = 50


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MockDisplay(Display):
    """A stand-in for a panel that writes PNGs of exactly what the panel would show.

    Each push writes ``latest.png``, a numbered ``frame-NNNNNN.png`` and one line in
    ``pushes.jsonl`` (``seq``, ``time``, ``sha256``, ``panel``). The PNG is rebuilt from the
    packed bytes, so it shows the frame after packing, as the panel would. Numbering resumes
    after the highest frame already in ``output_dir``, so a restarted process never
    overwrites earlier frames. Only the newest ``keep_frames`` numbered frames are kept;
    ``pushes.jsonl`` keeps every line.
    """

    #: A PNG file costs nothing to "refresh".
    min_interval: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        *,
        panel: str = "waveshare_epd7in5b_v2",
        clock: Callable[[], datetime] = _utc_now,
        keep_frames: int = DEFAULT_KEEP_FRAMES,
    ) -> None:
        super().__init__(panel_spec(panel))
        if keep_frames < 1:
            raise ValueError(f"keep_frames must be at least 1, not {keep_frames}")
        self.output_dir = Path(output_dir)
        self.keep_frames = keep_frames
        self._clock = clock
        if self.output_dir.is_dir():
            # Tidy up after a process that was killed mid-push, before anyone looks.
            with self._locked() as directory:
                self._recover(directory, repair_latest=True)

    @property
    def log_path(self) -> Path:
        """The push log, one JSON object per line."""
        return self.output_dir / "pushes.jsonl"

    @property
    def latest_path(self) -> Path:
        """The PNG of the most recent push."""
        return self.output_dir / "latest.png"

    def frame_path(self, seq: int) -> Path:
        """The numbered PNG of push ``seq``."""
        return self.output_dir / f"frame-{seq:06d}.png"

    def _push(self, data: bytes, digest: str) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        image = unpack(data, self.panel)
        with self._locked() as directory:
            # Recomputed on every push, under the lock: another process (a one-off CLI
            # refresh) may have pushed into the same directory since this one last did.
            frames, last = self._recover(directory, repair_latest=False)
            seq = last + 1
            record = {
                "seq": seq,
                "time": self._clock().astimezone(UTC).isoformat(),
                "sha256": digest,
                "panel": self.panel.name,
            }
            png = _encode_png(image, record)
            # The frame first, then its log line (the push counts from then on), then latest:
            # a crash in between leaves a frame whose line ``_recover`` writes from the PNG.
            self._write_atomically(self.frame_path(seq), png)
            os.fsync(directory)
            self._append_records([record])
            self._write_atomically(self.latest_path, png)
            os.fsync(directory)
            self._prune([*frames, seq], newest=seq)  # after latest: never without a frame

    # -- crash safety ---------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """Hold an exclusive lock on the output directory; yields the directory's descriptor."""
        directory = os.open(self.output_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(directory, fcntl.LOCK_EX)
            yield directory
        finally:
            os.close(directory)  # also releases the lock

    def _recover(self, directory: int, *, repair_latest: bool) -> tuple[list[int], int]:
        """Undo what a killed push left behind; return the frame numbers and the last seq.

        Removes temporary files, cuts a torn last log line, adds the log line of a frame
        written just before a crash, deletes frames past ``keep_frames`` and
        (``repair_latest``) makes ``latest.png`` the newest logged frame again. Runs under the
        lock, so no live writer is disturbed.
        """
        frames: list[int] = []
        changed = False
        with os.scandir(self.output_dir) as entries:
            for entry in entries:
                match = _FRAME_NAME.match(entry.name)
                if match:
                    frames.append(int(match.group(1)))
                elif _TEMP_NAME.match(entry.name):
                    log.info("removing %s, left by a push that did not finish", entry.path)
                    Path(entry.path).unlink(missing_ok=True)
                    changed = True
        frames.sort()
        self._cut_torn_line()
        logged = self._last_logged_seq()
        orphans = [record for seq in frames if seq > logged if (record := self._record_of(seq))]
        if orphans:
            log.info("adding the log lines of %d frame(s) written before a crash", len(orphans))
            self._append_records(orphans)
            logged = orphans[-1]["seq"]
            changed = True
        if repair_latest and frames and frames[-1] == logged:
            newest = self.frame_path(logged).read_bytes()
            try:
                current = self.latest_path.read_bytes()
            except FileNotFoundError:
                current = b""
            if current != newest:
                self._write_atomically(self.latest_path, newest)
                changed = True
        if changed:
            os.fsync(directory)
        last = max(logged, frames[-1] if frames else 0)
        return self._prune(frames, newest=last), last

    def _record_of(self, seq: int) -> dict[str, Any] | None:
        """The log record of a frame file that has none: its own, else rebuilt from the PNG.

        None for a file that is no frame of this panel (it is left alone).
        """
        path = self.frame_path(seq)
        try:
            with Image.open(path) as png:
                try:
                    record = json.loads(png.info.get(_RECORD_KEY, ""))
                except (TypeError, ValueError):
                    record = None
                if isinstance(record, dict) and record.get("seq") == seq:
                    return {field: record.get(field) for field in _RECORD_FIELDS}
                # A frame from a version that did not embed its record: rebuild it.
                packed = pack(png, self.panel)
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (OSError, DisplayError) as exc:  # Pillow's UnidentifiedImageError is an OSError
            log.warning("%s is not a frame of %s, left alone: %s", path, self.panel.name, exc)
            return None
        return {
            "seq": seq,
            "time": written.isoformat(),
            "sha256": hashlib.sha256(packed).hexdigest(),
            "panel": self.panel.name,
        }

    def _cut_torn_line(self) -> None:
        """Drop a partial last line (a crash mid-append), so the next line starts clean."""
        try:
            with self.log_path.open("rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                start = max(0, end - _LOG_TAIL_BYTES)
                handle.seek(start)
                tail = handle.read()
        except FileNotFoundError:
            return
        if not tail or tail.endswith(b"\n"):
            return  # the usual case: opened for reading only, so a read-only folder works
        newline = tail.rfind(b"\n")
        with self.log_path.open("r+b") as handle:
            if newline >= 0 or start == 0:
                handle.truncate(start + newline + 1)
            else:
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")  # a line longer than any of ours: end it, keep it
            handle.flush()
            os.fsync(handle.fileno())

    def _append_records(self, records: list[dict[str, Any]]) -> None:
        """Append records to the log in one write, and flush them to disk."""
        text = "".join(json.dumps(record) + "\n" for record in records).encode()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _prune(self, frames: list[int], *, newest: int) -> list[int]:
        """Delete the numbered frames older than the newest ``keep_frames``; return the rest."""
        oldest_kept = newest - self.keep_frames + 1
        for seq in frames:
            if seq < oldest_kept:
                self.frame_path(seq).unlink(missing_ok=True)
        return [seq for seq in frames if seq >= oldest_kept]

    def _last_logged_seq(self) -> int:
        """The ``seq`` of the last complete line of the push log (0 if none)."""
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - _LOG_TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return 0
        for line in reversed(tail.splitlines()):
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                continue  # the cut-off first line of the tail, or a line not ours
        return 0

    @staticmethod
    def _write_atomically(path: Path, content: bytes) -> None:
        """Write ``path`` whole or not at all: temporary file, fsync, rename."""
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; previews are for everyone
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _encode_png(image: Image.Image, record: dict[str, Any]) -> bytes:
    """The frame as PNG bytes, carrying its log record in a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text(_RECORD_KEY, json.dumps(record))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
