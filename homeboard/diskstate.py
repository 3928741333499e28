"""A copy of the board's last good data on disk, beside Redis: small JSON files, written atomically.

Redis is the cache; this is what is left when Redis loses it (a flushed cache, a wiped or
old dump file) or refuses writes (a full disk, ``maxmemory``). One folder per board under
the state directory (``state_dir``, else ``$STATE_DIRECTORY``, else ``/var/lib/homeboard``
when it exists):

- ``snapshots.json``: each source's last good data, with its fetch time;
- ``last_push.json``: the frame on the panel (sha256 and time);
- ``last_refresh.json``: the last refresh, kept when Redis could not record it;
- ``last_exit.json``: why the service last exited (status, reason, time), as it said itself;
- ``refresh.lock``: an ``flock`` beside the Redis lock, so two processes of this machine
  never drive the panel at once even when Redis refuses writes (the kernel drops it when
  the process dies).

JSON only, never pickle. A file that cannot be written is logged once and the refresh
goes on: the disk copy is a safety net, never a reason to stop drawing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeboard.model import Snapshot, snapshot_from_json, snapshot_to_json
from homeboard.store import PushRecord

if TYPE_CHECKING:
    from homeboard.config import Config

log = logging.getLogger("homeboard.diskstate")

#: Used when neither ``state_dir`` nor ``$STATE_DIRECTORY`` is set, if it exists.
DEFAULT_STATE_DIR = Path("/var/lib/homeboard")
VERSION = 1


def state_root(config: Config, env: Mapping[str, str] | None = None) -> Path | None:
    """The state directory: ``state_dir``, ``$STATE_DIRECTORY``, or the default if it exists."""
    env = os.environ if env is None else env
    if config.state_dir is not None:
        return Path(config.state_dir)
    systemd = env.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    return DEFAULT_STATE_DIR if DEFAULT_STATE_DIR.is_dir() else None


def _ts(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


def _has_data(snap: Snapshot) -> bool:
    return snap.data is not None and snap.fetched_at is not None


def newest_snapshots(*layers: Mapping[str, Snapshot]) -> dict[str, Snapshot]:
    """Per source, the snapshot with the newest good data among the layers (Redis, disk...).

    Data win by their fetch time; the outcome of the newest attempt (its error) is kept
    with them, so a source that failed since still says why.
    """
    out: dict[str, Snapshot] = {}
    for layer in layers:
        for name, snap in layer.items():
            have = out.get(name)
            if have is None or have is snap:
                out[name] = snap
                continue
            ranked = sorted((have, snap), key=lambda s: (_has_data(s), _ts(s.fetched_at)))
            worse, best = ranked
            if _ts(worse.attempted_at) > _ts(best.attempted_at):
                best = replace(
                    best,
                    last_error=worse.last_error,
                    attempted_at=worse.attempted_at,
                    cut=worse.cut,
                )
            out[name] = best
    return out


class DiskState:
    """One board's files in the state directory (all methods are no-ops without one)."""

    def __init__(self, root: Path | None, board: str) -> None:
        self.folder = root / board if root is not None else None
        self._warned: set[str] = set()
        self._snap_cache: tuple[tuple[int, int], dict[str, Snapshot]] | None = None
        self._written: dict[str, bytes] = {}

    @property
    def available(self) -> bool:
        """True when there is a state directory to use."""
        return self.folder is not None

    # ------------------------------------------------------------------ files

    def _path(self, name: str) -> Path | None:
        return self.folder / name if self.folder is not None else None

    def _warn_once(self, what: str, exc: OSError) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning(
                "cannot write %s in %s (%s); the board goes on without it",
                what,
                self.folder,
                exc.strerror or exc,
            )

    def _write(self, name: str, data: Any, *, durable: bool = True) -> bool:
        """Write ``data`` as JSON to ``name`` atomically (temporary file, fsync, rename)."""
        path = self._path(name)
        if path is None:
            return False
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if self._written.get(name) == payload:
            return True  # the same bytes are already there: spare the SD card
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(payload)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
            if durable:
                fd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            self._warn_once(name, exc)
            return False
        self._written[name] = payload
        return True

    def _read(self, name: str) -> Any:
        path = self._path(name)
        if path is None:
            return None
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("%s is unreadable and is ignored: %s", path, exc)
            return None

    # ------------------------------------------------------------------ snapshots

    def load_snapshots(self) -> dict[str, Snapshot]:
        """The snapshots on disk (read again only when the file changed)."""
        path = self._path("snapshots.json")
        if path is None:
            return {}
        try:
            st = path.stat()
        except OSError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        if self._snap_cache is not None and self._snap_cache[0] == stamp:
            return dict(self._snap_cache[1])
        raw = self._read("snapshots.json")
        out: dict[str, Snapshot] = {}
        if isinstance(raw, dict) and isinstance(raw.get("snapshots"), dict):
            for name, value in raw["snapshots"].items():
                try:
                    out[name] = snapshot_from_json(value)
                except ValueError as exc:
                    log.warning("saved data of %s are unreadable and are ignored: %s", name, exc)
        self._snap_cache = (stamp, out)
        return dict(out)

    def save_snapshots(self, snapshots: Mapping[str, Snapshot]) -> bool:
        """Replace the snapshots on disk with ``snapshots`` (the configured sources)."""
        data = {
            "version": VERSION,
            "snapshots": {name: snapshot_to_json(s) for name, s in sorted(snapshots.items())},
        }
        return self._write("snapshots.json", data)

    # ------------------------------------------------------------------ push, refresh

    def last_push(self) -> PushRecord | None:
        """The frame on the panel as recorded on disk."""
        raw = self._read("last_push.json")
        if not isinstance(raw, dict):
            return None
        try:
            at = datetime.fromisoformat(raw["time"])
        except (KeyError, TypeError, ValueError):
            return None
        return PushRecord(sha256=raw.get("sha256"), at=at, display=raw.get("display"))

    def save_push(self, push: PushRecord) -> bool:
        """Record the frame now on the panel."""
        return self._write(
            "last_push.json",
            {"sha256": push.sha256, "time": push.at.isoformat(), "display": push.display},
        )

    def last_refresh(self) -> dict[str, Any] | None:
        """The last refresh that Redis could not record, if any."""
        raw = self._read("last_refresh.json")
        return raw if isinstance(raw, dict) else None

    def save_refresh(self, record: Mapping[str, Any]) -> bool:
        """Keep a refresh record that Redis refused."""
        return self._write("last_refresh.json", dict(record), durable=False)

    def last_exit(self) -> dict[str, Any] | None:
        """Why the service last exited, as it recorded it (``time``, ``status``, ``reason``)."""
        raw = self._read("last_exit.json")
        return raw if isinstance(raw, dict) and isinstance(raw.get("reason"), str) else None

    def save_exit(self, at: datetime, status: int, reason: str, detail: str | None) -> bool:
        """Record why the service is exiting (durable: the process is about to end)."""
        return self._write(
            "last_exit.json",
            {"time": at.isoformat(), "status": status, "reason": reason, "detail": detail},
        )

    # ------------------------------------------------------------------ lock

    @contextlib.contextmanager
    def lock(self) -> Iterator[bool]:
        """Hold the panel's file lock without waiting: yields False when another holds it.

        Yields True when there is no state directory (or it cannot be written): the Redis
        lock alone then keeps refreshes apart.
        """
        path = self._path("refresh.lock")
        if path is None:
            yield True
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        except OSError as exc:
            self._warn_once("refresh.lock", exc)
            yield True
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing drops the flock


__all__ = ["DEFAULT_STATE_DIR", "DiskState", "newest_snapshots", "state_root"]
