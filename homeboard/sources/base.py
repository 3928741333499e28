"""The ``Source`` protocol every provider implements, and what bounds one fetch.

A fetch runs inside a ``fetch_scope`` (``fetch_one`` opens it): a wall-clock deadline
and byte caps for that source alone. The HTTP reader checks both between chunks, and
long-running parsers call ``check_deadline()`` now and then, so that a source past its
deadline stops itself and fails alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

import requests

from homeboard.errors import SourceError, SourceLimitExceeded
from homeboard.model import SourceData, SourceKind

MB = 1024 * 1024


@runtime_checkable
class Source(Protocol):
    """One provider of board data: fetches it, or raises ``SourceError`` with a short reason."""

    name: str  # the snapshot name: "weather", "calendar:<name>", "special", "holidays"
    kind: SourceKind
    label: str  # how logs and errors name it: "Weather", a calendar's label
    refresh: timedelta | None  # fetch at most this often; None: at every refresh

    def fetch(self, *, session: requests.Session, now: datetime) -> SourceData:
        """Fetch the data for the board as of ``now``; raise SourceError on failure."""
        ...


@dataclass(frozen=True)
class Limits:
    """What one fetch of a source may cost: bytes on the wire and bytes after decompression."""

    wire: int
    body: int

    def __post_init__(self) -> None:
        if self.wire <= 0 or self.body <= 0:
            raise ValueError("limits must be positive")


# A source's own ``deadline`` (a calendar's or the weather's setting) overrides this.
DEFAULT_DEADLINE = timedelta(seconds=60)
# Whole-history calendar exports run to tens of megabytes (24 MB seen); a weather
# answer is a few hundred kilobytes. Anything beyond is cut, not read. The body is
# held in memory while it is parsed: the calendar cap stays well under the unit's
# MemoryMax (150 MB).
CALENDAR_LIMITS = Limits(wire=32 * MB, body=32 * MB)
WEATHER_LIMITS = Limits(wire=4 * MB, body=8 * MB)
OTHER_LIMITS = Limits(wire=4 * MB, body=8 * MB)
# A secret file holds one line; a bigger one is a mistake (or /dev/zero).
SECRET_FILE_MAX = 64 * 1024


def limits_for(source: object) -> Limits:
    """The byte caps of ``source``: its own ``limits`` attribute, else its kind's default."""
    own = getattr(source, "limits", None)
    if isinstance(own, Limits):
        return own
    kind = getattr(source, "kind", None)
    return {"calendar": CALENDAR_LIMITS, "weather": WEATHER_LIMITS}.get(str(kind), OTHER_LIMITS)


def deadline_for(source: object) -> float:
    """Seconds one fetch of ``source`` may take: its own ``deadline``, else the default."""
    own = getattr(source, "deadline", None)
    if isinstance(own, timedelta):
        return max(own.total_seconds(), 0.001)
    if isinstance(own, int | float) and not isinstance(own, bool):
        return max(float(own), 0.001)
    return DEFAULT_DEADLINE.total_seconds()


@dataclass(frozen=True)
class _Scope:
    ends_at: float  # time.monotonic()
    seconds: float
    limits: Limits


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "homeboard_fetch_scope", default=None
)


@contextlib.contextmanager
def fetch_scope(seconds: float, limits: Limits | None = None) -> Iterator[None]:
    """Bound the fetch run inside the block: ``seconds`` of wall clock and ``limits``."""
    scope = _Scope(time.monotonic() + seconds, seconds, limits or OTHER_LIMITS)
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def deadline_message(seconds: float) -> str:
    """How a source past its deadline says so."""
    return f"took longer than {seconds:.3g} s (cut)"


def check_deadline() -> None:
    """Raise ``SourceLimitExceeded`` when the source being fetched is past its deadline.

    Cheap (one clock read): long loops (reading a body, expanding recurrences) call it
    often. Outside a fetch it does nothing.
    """
    scope = _SCOPE.get()
    if scope is not None and time.monotonic() >= scope.ends_at:
        raise SourceLimitExceeded(deadline_message(scope.seconds))


def time_left() -> float | None:
    """Seconds left before the current fetch's deadline (None outside a fetch)."""
    scope = _SCOPE.get()
    return None if scope is None else scope.ends_at - time.monotonic()


def current_limits() -> Limits:
    """The byte caps of the fetch in progress (the smallest default outside a fetch)."""
    scope = _SCOPE.get()
    return OTHER_LIMITS if scope is None else scope.limits


def read_local_file(path: Path, what: str, *, limit: int) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them.

    Devices (but ``/dev/null``), FIFOs and directories are refused (``/dev/zero``
    would never end, a FIFO would block); a file over ``limit`` raises
    ``SourceLimitExceeded``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SourceError(f"cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode) and str(path) != os.devnull:  # /dev/null: empty
        os.close(fd)
        raise SourceError(f"cannot read {what} (not a regular file)")
    with os.fdopen(fd, "rb", buffering=0) as f:
        if info.st_size > limit:
            raise SourceLimitExceeded(f"{what} is larger than {_size(limit)} (cut)")
        chunks: list[bytes] = []
        size = 0
        while True:
            check_deadline()
            chunk = f.read(min(MB, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise SourceLimitExceeded(f"{what} is larger than {_size(limit)} (cut)")
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n / 1024:g} KB"


def read_secret(path: Path | str | None, what: str) -> str | None:
    """The first line of a secret file (API key, password), or None without a path.

    Read at every fetch, so a rotated secret is used without a restart. The error
    names the setting, never the file's content.
    """
    if path is None:
        return None
    raw = read_local_file(Path(path).expanduser(), what, limit=SECRET_FILE_MAX)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"cannot read {what} (not UTF-8 text)") from None
    lines = text.strip().splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise SourceError(f"{what} is empty")
    return secret


__all__ = [
    "CALENDAR_LIMITS",
    "DEFAULT_DEADLINE",
    "WEATHER_LIMITS",
    "Limits",
    "Source",
    "check_deadline",
    "current_limits",
    "deadline_for",
    "deadline_message",
    "fetch_scope",
    "limits_for",
    "read_local_file",
    "read_secret",
    "time_left",
]
