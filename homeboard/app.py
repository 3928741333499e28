"""The objects one board's process builds once, shared by the CLI and the Celery task.

``build_app(config)`` makes no connection and imports no heavy module: Redis, the
display driver and the HTTP session are made when first asked for, so a command that
needs none of them pays nothing for them (there are no module-level singletons).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeboard.errors import DisplayError, HomeboardError

if TYPE_CHECKING:
    import requests
    from redis import Redis

    from drivers.base import Display
    from homeboard.config import Config
    from homeboard.diskstate import DiskState
    from homeboard.model import Snapshot
    from homeboard.sources import Source
    from homeboard.store import Store

# A local Redis answers in microseconds; these only matter when it is gone or wedged,
# and then a refresh must notice within seconds rather than hang.
REDIS_SOCKET_TIMEOUT = 5.0
REDIS_CONNECT_TIMEOUT = 3.0
REDIS_HEALTH_CHECK_INTERVAL = 15


class RedisUnavailable(HomeboardError):
    """The board's Redis did not answer (it holds the lock, the cache and the queue)."""


def redis_client(url: str) -> Redis:
    """A redis-py client with timeouts, so a dead or wedged Redis is noticed quickly."""
    import redis

    # TCP keepalive means nothing on a Unix socket, and redis-py refuses it there.
    tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        health_check_interval=REDIS_HEALTH_CHECK_INTERVAL,
        **tcp,
    )


def safe_url(url: str) -> str:
    """``url`` without its password, for messages and logs (malformed URLs too)."""
    from homeboard.config import redact_url

    return redact_url(url)


def broker_url(url: str) -> str:
    """Celery's broker URL for ``redis_url``: the same Redis, in kombu's spelling.

    kombu has no ``unix://`` transport: it names a socket ``redis+socket://`` and takes
    the database as ``virtual_host`` (it would silently ignore redis-py's ``db``).
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = [
        ("virtual_host" if name == "db" else name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    # Not urlunsplit: it drops the '//' of an empty host, and kombu then reads a host name.
    return f"redis+socket://{parts.netloc}{parts.path}" + (f"?{urlencode(query)}" if query else "")


#: systemd-timesyncd creates this file once the clock is synchronised (Raspberry Pi OS).
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


def kernel_clock_synced() -> bool | None:
    """Whether the clock is known to be synchronised (NTP), None when it cannot tell.

    First systemd-timesyncd's flag file (readable inside the service's sandbox); then,
    outside a system-call filter, ``adjtimex`` in read-only mode, which returns
    TIME_ERROR (5) while the clock is not synchronised, as on a Pi without a battery
    clock before its time service has run. Under the unit's filter ``adjtimex`` is
    refused (ProtectClock), so it is not even asked.
    """
    import ctypes
    import ctypes.util

    if TIMESYNC_FLAG.exists():
        return True
    if _seccomp_filtered():
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        adjtimex = ctypes.CDLL(name).adjtimex
    except (OSError, AttributeError):
        return None
    buf = ctypes.create_string_buffer(512)  # struct timex, modes 0: read only
    state = adjtimex(buf)
    if state < 0:
        return None
    return state != 5


def _seccomp_filtered() -> bool:
    """True when this process runs under a system-call filter (systemd's SystemCallFilter=)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    return any(line.split()[1:] == ["2"] for line in status.splitlines()
               if line.startswith("Seccomp:"))


def _now_in(config: Config) -> Callable[[], datetime]:
    tz = config.tz
    return lambda: datetime.now(tz)


@dataclass
class App:
    """One board: its config and the factories of what a refresh talks to."""

    config: Config
    clock: Callable[[], datetime]
    clock_synced: Callable[[], bool | None] = kernel_clock_synced
    #: The last snapshots this process used: a long-running worker keeps drawing from
    #: them when Redis loses its cache or refuses writes.
    memory: dict[str, Snapshot] = field(default_factory=dict, repr=False)
    _redis: Redis | None = field(default=None, repr=False)
    _sources: list[Source] | None = field(default=None, repr=False)
    _disk: DiskState | None = field(default=None, repr=False)

    def now(self) -> datetime:
        """The current moment, in the board's time zone."""
        return self.clock()

    def redis(self) -> Redis:
        """The Redis client of this process (made once; it reconnects by itself)."""
        if self._redis is None:
            self._redis = redis_client(self.config.redis_url)
        return self._redis

    def store(self) -> Store:
        """The board's keys in Redis."""
        from homeboard.store import Store

        return Store(self.redis(), self.config.board)

    def disk(self) -> DiskState:
        """The board's files in the state directory (a no-op without one)."""
        if self._disk is None:
            from homeboard.diskstate import DiskState, state_root

            self._disk = DiskState(state_root(self.config), self.config.board)
        return self._disk

    def sources(self) -> list[Source]:
        """The configured sources (built once)."""
        if self._sources is None:
            from homeboard.sources import build_sources

            self._sources = list(build_sources(self.config))
        return self._sources

    def session(self) -> requests.Session:
        """A new HTTP session for one refresh (timeouts and retries set by the sources)."""
        from homeboard.sources import make_session

        return make_session(self.config)

    def open_display(self) -> Display:
        """Open the configured display; a driver failure becomes a ``DisplayError``."""
        import drivers

        options = display_options(self.config)
        try:
            return drivers.open_display(self.config.display.driver, **options)
        except drivers.DisplayError as exc:
            raise DisplayError(str(exc)) from exc

    def close(self) -> None:
        """Close the Redis connection pool."""
        if self._redis is not None:
            self._redis.close()
            self._redis = None


def display_options(config: Config) -> dict[str, Any]:
    """The keyword arguments of ``drivers.open_display`` for the configured display."""
    display = config.display
    if display.driver == "mock":
        return {
            "panel": display.panel,
            "output_dir": display.output_dir,
            "keep_frames": display.keep_frames,
        }
    pins = display.pins
    return {
        "busy_timeout": display.busy_timeout.total_seconds(),
        "spi_bus": display.spi_bus,
        "spi_device": display.spi_device,
        "spi_speed_hz": display.spi_speed_hz,
        "pins": {name: getattr(pins, name) for name in ("rst", "dc", "cs", "busy", "pwr")},
    }


def quiet_library_logs() -> None:
    """Silence urllib3's own retry warnings: they print the request's path and query,
    which for a secret calendar address is the secret. The sources log a redacted reason."""
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def build_app(config: Config, *, clock: Callable[[], datetime] | None = None,
              clock_synced: Callable[[], bool | None] | None = None) -> App:
    """Build the board's objects once from its config (no connection is made yet)."""
    quiet_library_logs()
    return App(config=config, clock=clock or _now_in(config),
               clock_synced=clock_synced or kernel_clock_synced)


__all__ = ["App", "RedisUnavailable", "broker_url", "build_app", "display_options",
           "kernel_clock_synced",
           "quiet_library_logs", "redis_client", "safe_url"]
