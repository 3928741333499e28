"""The Redis cache of one board: last good data, the refresh lock, counters and history.

Every key lives under ``homeboard:{board}:`` so several boards can share one Redis.
Values are JSON (never pickle). The keys:

- ``snapshots`` (hash): one field per source, its last good data and fetched-at time;
- ``lock``: the redis-py token lock that keeps refreshes one at a time;
- ``counters`` (hash): started, completed, skipped_locked, expired, pushes, unchanged;
- ``recent`` (list, newest first, capped at ``RECENT_MAX``): one JSON record per refresh;
- ``running``: the refresh in flight, if any (expires with the lock);
- ``last_push`` (JSON): the sha256 of the packed frame on the panel and when it was pushed;
- ``next_run`` (JSON): when the scheduler will next send a refresh (kept a day, so that a
  scheduler that stopped shows as a next run in the past);
- ``frame`` (hash): the frame on the panel now as a true-colour PNG, whatever pushed it,
  with its panel, orientation, sha256 and push time (read by ``homeboard web``);
- ``web:*``: the household page's session key and its pending "refresh now" request;
- ``deferred`` (JSON): a changed frame held back by ``display.min_interval``, and the moment
  it may be pushed; the scheduler sends a refresh then (cleared by the next push).

The broker's own keys use the same prefix (see ``homeboard.tasks``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from homeboard.model import Snapshot, snapshot_from_json, snapshot_to_json

if TYPE_CHECKING:
    from redis import Redis
    from redis.lock import Lock

    from homeboard.config import Config
    from homeboard.diskstate import DiskState

log = logging.getLogger(__name__)

Outcome = Literal["pushed", "unchanged", "deferred", "held", "skipped-locked", "failed"]
OUTCOMES: tuple[Outcome, ...] = (
    "pushed",
    "unchanged",
    "deferred",
    "held",
    "skipped-locked",
    "failed",
)
COUNTERS: tuple[str, ...] = (
    "started",
    "completed",
    "skipped_locked",
    "expired",
    "pushes",
    "unchanged",
)
RECENT_MAX = 20
#: How long the published next run is kept: a scheduler that died leaves it in the past.
NEXT_RUN_KEEP = 86400.0
#: A next run this far in the past means the scheduler is not running.
NEXT_RUN_GRACE = 30.0

#: Redis error codes meaning "I answer, but I refuse writes", and what to tell the owner.
_REFUSALS = {
    "MISCONF": "it cannot save to disk (disk full or not writable?)",
    "OOM": "it is over its maxmemory limit",
    "NOREPLICAS": "not enough replicas (min-replicas-to-write)",
    "READONLY": "it is a read-only replica",
}


def write_refusal(exc: BaseException) -> str | None:
    """``Redis refuses writes: MISCONF ...`` when ``exc`` is such a refusal, else None."""
    import redis

    if not isinstance(exc, redis.ResponseError):
        return None
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, redis.exceptions.OutOfMemoryError) and not text.startswith("OOM"):
        text = f"OOM {text}"
    elif isinstance(exc, redis.exceptions.ReadOnlyError) and not text.startswith("READONLY"):
        text = f"READONLY {text}"
    code = text.split(" ", 1)[0]
    if code not in _REFUSALS:
        return None
    first = text.split(". ")[0].rstrip(".")
    if len(first) > 160:
        first = first[:159] + "…"
    return f"Redis refuses writes: {first} — {_REFUSALS[code]}"


def key_prefix(board: str) -> str:
    """The prefix of every Redis key of ``board``."""
    return f"homeboard:{board}:"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def parse_iso(text: Any) -> datetime | None:
    """An ISO 8601 moment as stored (or in the status document), or None."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RefreshRecord:
    """What one refresh did, as kept in ``recent`` and shown by ``homeboard status``."""

    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    trigger: str = "schedule"
    fetch_s: float = 0.0
    render_s: float = 0.0
    push_s: float = 0.0
    sha256: str | None = None
    error: str | None = None
    warning: str | None = None  # e.g. Redis refused writes, yet the frame was drawn

    @property
    def duration(self) -> float:
        """Seconds from start to end (real seconds, also across a DST change)."""
        return max(0.0, self.ended_at.timestamp() - self.started_at.timestamp())

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (``started_at``, ``ended_at``, ``outcome`` first)."""
        return {
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "outcome": self.outcome,
            "trigger": self.trigger,
            "fetch_s": round(self.fetch_s, 3),
            "render_s": round(self.render_s, 3),
            "push_s": round(self.push_s, 3),
            "sha256": self.sha256,
            "error": self.error,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class PushRecord:
    """The frame on the panel: the sha256 of its packed bytes and when it was pushed."""

    sha256: str | None
    at: datetime
    display: str | None = None  # which display got it (see service.display_identity)


def _push_json(push: PushRecord) -> str:
    data: dict[str, Any] = {"sha256": push.sha256, "time": _iso(push.at)}
    if push.display is not None:
        data["display"] = push.display
    return _dumps(data)


def _frame_meta(raw: Any) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        meta = json.loads(raw)
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and meta.get("panel") else None


class Store:
    """One board's keys in Redis."""

    def __init__(self, client: Redis, board: str) -> None:
        self.client = client
        self.board = board
        self.prefix = key_prefix(board)

    def key(self, name: str) -> str:
        """The full Redis key of ``name``."""
        return self.prefix + name

    # ------------------------------------------------------------------ snapshots

    def load_snapshots(self) -> dict[str, Snapshot]:
        """Every cached snapshot; a malformed one is logged and treated as absent."""
        raw = self.client.hgetall(self.key("snapshots"))
        out: dict[str, Snapshot] = {}
        for field, value in raw.items():
            name = field.decode("utf-8", "replace") if isinstance(field, bytes) else str(field)
            try:
                snap = snapshot_from_json(json.loads(value))
            except ValueError as exc:  # json.JSONDecodeError is a ValueError too
                log.warning("cached data of %s is unreadable and is ignored: %s", name, exc)
                continue
            out[snap.name] = snap
        return out

    def save_snapshots(
        self, snapshots: Mapping[str, Snapshot], *, keep: Iterable[str] | None = None
    ) -> None:
        """Write the snapshots; with ``keep``, forget sources no longer configured."""
        key = self.key("snapshots")
        pipe = self.client.pipeline(transaction=True)
        if snapshots:
            pipe.hset(
                key,
                mapping={name: _dumps(snapshot_to_json(snap)) for name, snap in snapshots.items()},
            )
        if keep is not None:
            pipe.hkeys(key)
        results = pipe.execute()
        if keep is not None:
            wanted = set(keep) | set(snapshots)
            gone = [
                f for f in results[-1] if (f.decode() if isinstance(f, bytes) else f) not in wanted
            ]
            if gone:
                self.client.hdel(key, *gone)

    # ------------------------------------------------------------------ the lock

    def lock(self, timeout: timedelta) -> Lock:
        """The refresh lock: token-based, non-blocking, expiring after ``timeout``."""
        from redis.lock import Lock

        # thread_local=False: the token is the lock's, not the thread's, so any code
        # holding this object (a signal handler, a watchdog) releases the same lock.
        return Lock(
            self.client,
            self.key("lock"),
            timeout=timeout.total_seconds(),
            blocking=False,
            thread_local=False,
        )

    def lock_holder_ttl(self) -> float | None:
        """Seconds until the lock expires, or None when nobody holds it."""
        ttl = self.client.pttl(self.key("lock"))
        return None if ttl is None or ttl < 0 else ttl / 1000.0

    # ------------------------------------------------------------------ counters

    def incr(self, counter: str, amount: int = 1) -> None:
        """Add to one of ``COUNTERS``."""
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        self.client.hincrby(self.key("counters"), counter, amount)

    def counters(self) -> dict[str, int]:
        """All counters, zero when never incremented."""
        raw = self.client.hgetall(self.key("counters"))
        got = {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
        return {name: got.get(name, 0) for name in COUNTERS}

    # ------------------------------------------------------------------ refreshes

    def begin_refresh(self, started_at: datetime, *, trigger: str, ttl: timedelta) -> None:
        """Count a refresh that took the lock and mark it as running."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(self.key("counters"), "started", 1)
        pipe.set(
            self.key("running"),
            _dumps({"started_at": _iso(started_at), "trigger": trigger}),
            px=max(1, int(ttl.total_seconds() * 1000)),
        )
        pipe.execute()

    def end_refresh(self, record: RefreshRecord, *, push: PushRecord | None = None) -> None:
        """Record a finished (or skipped) refresh: history, counters, the pushed frame."""
        pipe = self.client.pipeline(transaction=True)
        counters = self.key("counters")
        if record.outcome == "skipped-locked":
            pipe.hincrby(counters, "skipped_locked", 1)
        else:
            pipe.delete(self.key("running"))
            if record.outcome not in ("failed", "held"):
                pipe.hincrby(counters, "completed", 1)
            if record.outcome == "pushed":
                pipe.hincrby(counters, "pushes", 1)
            elif record.outcome == "unchanged":
                pipe.hincrby(counters, "unchanged", 1)
            if record.outcome in ("pushed", "unchanged"):
                pipe.delete(self.key("deferred"))  # the panel shows the current frame
        if push is not None:
            pipe.set(self.key("last_push"), _push_json(push))
        pipe.lpush(self.key("recent"), _dumps(record.to_json()))
        pipe.ltrim(self.key("recent"), 0, RECENT_MAX - 1)
        pipe.execute()

    def recent(self) -> list[dict[str, Any]]:
        """The last refreshes, newest first."""
        out = []
        for raw in self.client.lrange(self.key("recent"), 0, RECENT_MAX - 1):
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
        return out

    def running(self) -> dict[str, Any] | None:
        """The refresh in flight, if any."""
        raw = self.client.get(self.key("running"))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def last_push(self) -> PushRecord | None:
        """The frame on the panel, if any push was recorded."""
        raw = self.client.get(self.key("last_push"))
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        at = parse_iso(data.get("time"))
        if at is None:
            return None
        return PushRecord(sha256=data.get("sha256"), at=at, display=data.get("display"))

    def save_push(self, push: PushRecord) -> None:
        """Record what is now on the panel (``sha256`` None: unknown, push again)."""
        self.client.set(self.key("last_push"), _push_json(push))

    # ------------------------------------------------------------------ schedule

    def set_deferred(self, not_before: datetime, *, now: datetime) -> None:
        """Say that a changed frame waits for ``not_before`` (``display.min_interval``)."""
        ttl = max(0.0, not_before.timestamp() - now.timestamp()) + 3600.0
        self.client.set(
            self.key("deferred"),
            _dumps({"not_before": _iso(not_before), "since": _iso(now)}),
            px=int(ttl * 1000),
        )

    def deferred(self) -> datetime | None:
        """When a deferred frame may be pushed, if one waits."""
        raw = self.client.get(self.key("deferred"))
        if not raw:
            return None
        try:
            return parse_iso(json.loads(raw).get("not_before"))
        except (ValueError, AttributeError):
            return None

    def set_next_run(self, when: datetime, *, now: datetime) -> None:
        """Publish when the scheduler sends the next refresh (kept a day after it)."""
        ttl = max(0.0, when.timestamp() - now.timestamp()) + NEXT_RUN_KEEP
        self.client.set(
            self.key("next_run"),
            _dumps({"time": _iso(when), "written_at": _iso(now)}),
            px=int(ttl * 1000),
        )

    def next_run(self) -> datetime | None:
        """When the scheduler said it sends the next refresh (None: no scheduler running)."""
        raw = self.client.get(self.key("next_run"))
        if not raw:
            return None
        try:
            return parse_iso(json.loads(raw).get("time"))
        except ValueError:
            return None

    # ------------------------------------------------------------------ the frame shown

    def record_frame(self, png: bytes, *, panel: str, orientation: str, sha256: str,
                     pushed_at: datetime, what: str = "board") -> None:
        """Keep the PNG of the frame just pushed to the panel (one atomic write)."""
        meta = {"panel": panel, "orientation": orientation, "sha256": sha256,
                "pushed_at": _iso(pushed_at), "what": what}
        self.client.hset(self.key("frame"), mapping={"meta": _dumps(meta), "png": png})

    def frame_meta(self) -> dict[str, Any] | None:
        """What the last recorded frame is (panel, orientation, sha256, pushed_at, what)."""
        return _frame_meta(self.client.hget(self.key("frame"), "meta"))

    def frame(self) -> tuple[dict[str, Any], bytes] | None:
        """The last recorded frame: its meta data and PNG, or None."""
        meta_raw, data = self.client.hmget(self.key("frame"), ["meta", "png"])
        meta = _frame_meta(meta_raw)
        if meta is None or not data:
            return None
        return meta, bytes(data)

    # ------------------------------------------------------------------ status

    def write_refusal(self) -> str | None:
        """Try one tiny write: None when Redis takes writes, else why it refuses them."""
        import redis

        try:
            self.client.set(self.key("probe"), "1", px=1000)
        except redis.ResponseError as exc:
            return write_refusal(exc) or f"Redis refuses writes: {exc}"
        return None

    def status(
        self, config: Config, now: datetime, *, disk: DiskState | None = None
    ) -> dict[str, Any]:
        """The ``homeboard status --json`` document (reads Redis, and the state directory).

        Besides the documented keys: ``faults`` (one line per thing that needs the owner:
        Redis refusing writes, a scheduler whose next run is in the past, a clock too wrong
        to draw the date) and ``redis`` (``writable``, ``error``).
        """
        from homeboard.diskstate import newest_snapshots
        from homeboard.model import compose, public_name

        # First: under MISCONF Redis refuses even the PING that opens a connection's
        # health check, so the first command would fail; the probe takes that answer.
        refusal = self.write_refusal()
        snapshots = self.load_snapshots()
        if disk is not None:
            snapshots = newest_snapshots(snapshots, disk.load_snapshots())
        state = compose(config, snapshots, now)
        sources: dict[str, dict[str, Any]] = {}
        for src in state.sources:
            age = now.timestamp() - src.fetched_at.timestamp() if src.fetched_at else None
            sources[public_name(src.name)] = {
                "fetched_at": _iso(src.fetched_at),
                "status": src.status,
                "last_error": src.last_error,
                "age_seconds": round(age, 1) if age is not None else None,
            }
        recent = self.recent()
        last = recent[0] if recent else None
        kept = disk.last_refresh() if disk is not None else None
        if kept is not None and (last is None or _started(kept) > _started(last)):
            last = kept  # Redis refused to record it
        push = self.last_push()
        on_disk = disk.last_push() if disk is not None else None
        if on_disk is not None and (push is None or on_disk.at > push.at):
            push = on_disk
        next_run = self.next_run()
        faults: list[str] = []
        if refusal:
            faults.append(refusal)
        overdue = next_run is not None and now.timestamp() - next_run.timestamp() > NEXT_RUN_GRACE
        if overdue and next_run is not None:
            faults.append(
                f"the next run ({_iso(next_run.astimezone(now.tzinfo))}) is in the "
                "past: the scheduler is not running (is the service running?)"
            )
        if last is not None and last.get("outcome") == "held" and last.get("error"):
            faults.append(str(last["error"]))
        return {
            "board": self.board,
            "now": _iso(now),
            "counters": self.counters(),
            "last_refresh": last,
            "running": self.running(),
            "recent": recent,
            "last_push": {"sha256": push.sha256, "time": _iso(push.at)} if push else None,
            "next_run": _iso(next_run.astimezone(now.tzinfo) if next_run else None),
            "updated_at": _iso(state.updated_at),
            "next_run_overdue": overdue,
            "deferred_until": _iso(d.astimezone(now.tzinfo)) if (d := self.deferred()) else None,
            "redis": {"writable": refusal is None, "error": refusal},
            "faults": faults,
            "sources": sources,
        }


def _started(record: Mapping[str, Any]) -> float:
    moment = parse_iso(record.get("started_at"))
    return moment.timestamp() if moment is not None else float("-inf")


__all__ = [
    "COUNTERS",
    "NEXT_RUN_GRACE",
    "OUTCOMES",
    "parse_iso",
    "RECENT_MAX",
    "Outcome",
    "PushRecord",
    "RefreshRecord",
    "Store",
    "key_prefix",
    "write_refusal",
]
