"""The page's lock: the password file, the login throttle, CSRF tokens, the session key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from homeboard.errors import ConfigError

if TYPE_CHECKING:
    from redis import Redis

#: Wrong passwords from one address within ``WINDOW`` seconds before it gets 429.
MAX_FAILURES = 5
#: Wrong passwords from all addresses together within ``WINDOW`` before everyone gets 429.
MAX_FAILURES_ALL = 50
#: Seconds over which wrong passwords are counted (and the longest a block lasts).
WINDOW = 15 * 60
#: Addresses remembered at most (the oldest are forgotten first).
MAX_ADDRESSES = 1024


def read_password(path: Path) -> str:
    """The first line of the password file; a missing, unreadable or empty file is a config
    error (exit 2) that names the file, never its content."""
    field = "web.password_file"
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096)
    except FileNotFoundError:
        raise ConfigError([f"{field}: no such file: {path}"]) from None
    except OSError as exc:
        raise ConfigError([f"{field}: cannot read {path} ({exc.strerror or exc})"]) from None
    try:
        password = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ConfigError([f"{field}: {path} is not UTF-8 text"]) from None
    if not password.strip():
        raise ConfigError([f"{field}: the first line of {path} is empty"])
    return password


def password_matches(given: str, expected: str) -> bool:
    """Compare in constant time (the lengths only leak through the hash, not the text)."""
    a = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    b = hashlib.sha256(expected.encode("utf-8")).digest()
    return hmac.compare_digest(a, b)


class Throttle:
    """Counts wrong passwords per client address, and for all addresses together.

    Kept in the process: a restart forgets it, which costs an attacker a restart of the
    service they cannot cause. Behind a reverse proxy without ``web.behind_proxy`` every
    client has the proxy's address, so the limit is shared by all.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        per_address: int = MAX_FAILURES,
        overall: int = MAX_FAILURES_ALL,
        window: float = WINDOW,
    ) -> None:
        self.clock = clock
        self.per_address = per_address
        self.overall = overall
        self.window = window
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()

    def _trim(self, times: deque[float], now: float) -> None:
        while times and now - times[0] >= self.window:
            times.popleft()

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: it may try now)."""
        now = self.clock()
        with self._lock:
            waits = [0.0]
            times = self._failures.get(address)
            if times is not None:
                self._trim(times, now)
                if len(times) >= self.per_address:
                    waits.append(times[-self.per_address] + self.window - now)
            self._trim(self._all, now)
            if len(self._all) >= self.overall:
                waits.append(self._all[-self.overall] + self.window - now)
            return max(waits)

    def failed(self, address: str) -> None:
        """Count one wrong password from ``address``."""
        now = self.clock()
        with self._lock:
            times = self._failures.pop(address, None) or deque(maxlen=self.per_address)
            times.append(now)
            self._failures[address] = times
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
            self._all.append(now)
            while len(self._all) > self.overall:
                self._all.popleft()

    def succeeded(self, address: str) -> None:
        """Forget the wrong passwords of ``address``."""
        with self._lock:
            self._failures.pop(address, None)


def new_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Whether a submitted CSRF token is the session's."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class SessionKey:
    """The key that signs session cookies: random, kept in Redis, mixed with the password.

    Kept in Redis, it survives restarts of the page (nobody has to log in again after an
    update); mixed with the password, changing the password logs every session out. A
    cookie's signature cannot be used to guess the password offline, since the random
    part never leaves this machine. While Redis is away and the key was never read,
    there is no key: nobody can log in, and the page says Redis is down.
    """

    def __init__(self, client: Redis, redis_key: str, password: str | None) -> None:
        self.client = client
        self.redis_key = redis_key
        self.password = password or ""
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def get(self) -> bytes | None:
        """The signing key, or None while Redis cannot give it."""
        import redis

        if self._key is not None:
            return self._key
        with self._lock:
            if self._key is None:
                try:
                    self.client.set(self.redis_key, secrets.token_hex(32), nx=True)
                    stored = self.client.get(self.redis_key)
                except redis.RedisError:
                    return None
                if not stored:
                    return None
                secret = stored if isinstance(stored, bytes) else str(stored).encode()
                self._key = hmac.new(
                    secret, b"homeboard-web\0" + self.password.encode(), hashlib.sha256
                ).digest()
            return self._key


def is_loopback_host(host: str) -> bool:
    """Whether a Host header names this machine (``localhost``, 127.x, ``[::1]``)."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


__all__ = [
    "MAX_FAILURES",
    "WINDOW",
    "SessionKey",
    "Throttle",
    "is_loopback_host",
    "new_token",
    "password_matches",
    "read_password",
    "tokens_match",
]
