"""'Refresh now': ask the service for one refresh through the broker, once, and follow it.

The page never refreshes the board itself (it would need the panel, the network and
the lock): it sends the service's own refresh task, as beat does, and reads the
outcome from the board's history. A marker in Redis (``web:refresh``) remembers the
request, so that a second click, from the same phone or another one, is told that a
refresh is already coming instead of queueing another.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from homeboard.config import Config
    from homeboard.store import Store

log = logging.getLogger("homeboard.web")

TRIGGER = "web"
#: The service's queue (``homeboard.tasks.QUEUE``; not imported: that would load Celery,
#: about 7 MB the page would keep for good).
QUEUE = "refresh"
#: How long the outcome of a request stays on the page after its message expired.
SHOWN_AFTER = 600.0
#: Longest the sending process may take (it starts Python and loads Celery).
SEND_TIMEOUT = 60.0

Asked = Literal["sent", "running", "twice", "failed"]
StateKind = Literal["waiting", "running", "done", "failed", "not-taken"]


@dataclass(frozen=True)
class RequestState:
    """Where the last 'refresh now' is: waiting, running, done, failed or not taken."""

    kind: StateKind
    asked_at: datetime
    record: dict[str, Any] | None = None
    since: datetime | None = None

    @property
    def pending(self) -> bool:
        """Still to come: waiting in the queue or running."""
        return self.kind in ("waiting", "running")


def _parse(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


class RefreshRequests:
    """Sends 'refresh now' requests for one board and tells how they went."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def marker(self, store: Store) -> str:
        """The Redis key of the pending request."""
        return store.key("web:refresh")

    def state(self, store: Store, now: datetime) -> RequestState | None:
        """How the last request went, while it is worth saying (None: nothing to say)."""
        raw = store.client.get(self.marker(store))
        if not raw:
            return None
        try:
            marker = json.loads(raw)
            asked_at = _parse(marker.get("asked_at"))
            expires = float(marker.get("expires", SEND_TIMEOUT))
        except (ValueError, AttributeError, TypeError):
            return None
        if asked_at is None:
            return None
        if marker.get("error"):
            return RequestState("failed", asked_at, record={"error": marker["error"]})
        for rec in store.recent():
            started = _parse(rec.get("started_at"))
            if (
                rec.get("trigger") == TRIGGER
                and started is not None
                and started.timestamp() >= asked_at.timestamp() - 1.0
            ):
                kind: StateKind = "failed" if rec.get("outcome") == "failed" else "done"
                return RequestState(kind, asked_at, record=rec)
        running = store.running()
        if running and running.get("trigger") == TRIGGER:
            return RequestState("running", asked_at, since=_parse(running.get("started_at")))
        if now.timestamp() - asked_at.timestamp() > expires:
            return RequestState("not-taken", asked_at)
        return RequestState("waiting", asked_at)

    def ask(self, store: Store, now: datetime) -> Asked:
        """Send one refresh unless one is running or waiting already.

        Raises ``redis.RedisError`` when Redis does not answer (nothing was sent).
        """
        import redis

        if store.lock_holder_ttl() is not None or store.running():
            return "running"
        if store.client.llen(store.key(QUEUE)) > 0:
            return "twice"
        key = self.marker(store)
        schedule = self.config.schedule
        # The message's own expiry is shorter than any interval: kept this long, the marker
        # outlives it, and the outcome stays on the page a while longer.
        longest = max(
            schedule.interval,
            schedule.quiet_hours.interval if schedule.quiet_hours else schedule.interval,
        )
        ttl_ms = int((longest.total_seconds() + SHOWN_AFTER) * 1000)
        marker: dict[str, Any] = {"asked_at": now.isoformat()}
        with store.client.pipeline(transaction=True) as pipe:
            try:
                # WATCH first: a click from another phone between our look and our write
                # makes the write fail instead of sending a second refresh.
                pipe.watch(key)
                state = self.state(store, now)
                if state is not None and state.pending:
                    return "twice"
                pipe.multi()
                pipe.set(key, json.dumps(marker), px=ttl_ms)
                pipe.execute()
            except redis.WatchError:
                return "twice"
        if self.config.path is None:
            store.client.delete(key)
            return "failed"
        self._launch(store, key, marker)
        return "sent"

    def _launch(self, store: Store, key: str, marker: dict[str, Any]) -> None:
        """Start the sending process and watch it from a thread (the page does not wait)."""
        command = [sys.executable, "-m", "homeboard.web.send", str(self.config.path)]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
        )
        threading.Thread(
            target=self._reap, args=(proc, store, key, marker), name="refresh-sender", daemon=True
        ).start()

    def _reap(
        self, proc: subprocess.Popen[bytes], store: Store, key: str, marker: dict[str, Any]
    ) -> None:
        """Wait for the sending process; note the message's expiry, or why it failed."""
        import redis

        try:
            out, err = proc.communicate(timeout=SEND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err = f"gave up after {SEND_TIMEOUT:g} s".encode()
        if proc.returncode == 0:
            log.info("refresh asked for from the household page")
            try:
                update: dict[str, Any] = {"expires": float(out.decode().split()[0])}
            except (ValueError, IndexError):
                return
        else:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {proc.returncode}"
            log.warning("could not ask the service for a refresh: %s", reason)
            update = {"error": reason}
        with contextlib.suppress(redis.RedisError):
            store.client.set(key, json.dumps({**marker, **update}), keepttl=True)


__all__ = ["QUEUE", "TRIGGER", "RefreshRequests", "RequestState"]
