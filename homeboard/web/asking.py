"""'Refresh now': ask the service for one refresh through the broker, once, and follow it.

The page never refreshes the board itself (it would need the panel, the network and
the lock): it sends the service's own refresh task, as beat does, and reads the
outcome from the board's history. A marker in Redis (``web:refresh``) remembers the
request, so that a second click, from the same phone or another one, is told that a
refresh is already coming instead of queueing another.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from celery import Celery

    from homeboard.config import Config
    from homeboard.store import Store

log = logging.getLogger("homeboard.web")

TRIGGER = "web"
#: How long the outcome of a request stays on the page after its message expired.
SHOWN_AFTER = 600.0

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

    def __init__(self, config: Config, *, sender: Callable[[Config], Celery] | None = None) -> None:
        from homeboard.store import key_prefix
        from homeboard.tasks import QUEUE, expires_seconds

        self.config = config
        self.expires = expires_seconds(config)
        self.queue_key = key_prefix(config.board) + QUEUE
        self._make_sender = sender
        self._sender: Celery | None = None
        self._lock = threading.Lock()

    def marker(self, store: Store) -> str:
        """The Redis key of the pending request."""
        return store.key("web:refresh")

    def state(self, store: Store, now: datetime) -> RequestState | None:
        """How the last request went, while it is worth saying (None: nothing to say)."""
        raw = store.client.get(self.marker(store))
        if not raw:
            return None
        try:
            asked_at = _parse(json.loads(raw).get("asked_at"))
        except (ValueError, AttributeError):
            asked_at = None
        if asked_at is None:
            return None
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
        if now.timestamp() - asked_at.timestamp() > self.expires:
            return RequestState("not-taken", asked_at)
        return RequestState("waiting", asked_at)

    def ask(self, store: Store, now: datetime) -> Asked:
        """Send one refresh unless one is running or waiting already.

        Raises ``redis.RedisError`` when Redis does not answer (nothing was sent).
        """
        import redis

        if store.lock_holder_ttl() is not None or store.running():
            return "running"
        if store.client.llen(self.queue_key) > 0:
            return "twice"
        key = self.marker(store)
        ttl_ms = int((self.expires + SHOWN_AFTER) * 1000)
        with store.client.pipeline(transaction=True) as pipe:
            try:
                # WATCH first: a click from another phone between our look and our write
                # makes the write fail instead of sending a second refresh.
                pipe.watch(key)
                state = self.state(store, now)
                if state is not None and state.pending:
                    return "twice"
                pipe.multi()
                pipe.set(key, json.dumps({"asked_at": now.isoformat()}), px=ttl_ms)
                pipe.execute()
            except redis.WatchError:
                return "twice"
        try:
            from homeboard.tasks import send_refresh

            send_refresh(self.sender(), self.config, trigger=TRIGGER)
        except Exception as exc:  # noqa: BLE001 - any send failure: say it, keep nothing
            log.warning(
                "could not ask the service for a refresh: %s",
                f"{type(exc).__name__}: {exc}".splitlines()[0],
            )
            store.client.delete(key)
            return "failed"
        log.info("refresh asked for from the household page")
        return "sent"

    def sender(self) -> Celery:
        """The Celery app that sends the task (made at the first request)."""
        with self._lock:
            if self._sender is None:
                from homeboard.tasks import refresh_sender

                self._sender = (self._make_sender or refresh_sender)(self.config)
            return self._sender


__all__ = ["TRIGGER", "RefreshRequests", "RequestState"]
