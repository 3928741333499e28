"""The ``Source`` protocol every provider implements, and small helpers they share."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

import requests

from homeboard.errors import SourceError
from homeboard.model import SourceData, SourceKind


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


def read_secret(path: Path | str | None, what: str) -> str | None:
    """The first line of a secret file (API key, password), or None without a path.

    Read at every fetch, so a rotated secret is used without a restart. The error
    names the setting, never the file's content.
    """
    if path is None:
        return None
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise SourceError(f"cannot read {what} (not UTF-8 text)") from None
    lines = text.strip().splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise SourceError(f"{what} is empty")
    return secret


__all__ = ["Source", "read_secret"]
