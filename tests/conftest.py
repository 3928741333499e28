"""Shared fixtures: real redis-server processes, a fixed moment, the CLI runner."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A real ``redis-server`` on a free loopback port, started and stopped by the test."""

    def __init__(self, workdir: Path, *, port: int | None = None, persist: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; see README.md, 'Running the tests'")
        self.binary = binary
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.persist = persist
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of this server (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.workdir), "--daemonize", "no", "--protected-mode", "yes",
            "--logfile", str(self.workdir / "redis.log"),
        ]
        if self.persist:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        else:
            args += ["--appendonly", "no", "--save", ""]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            if self.ping():
                return self
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def ping(self) -> bool:
        """True if the server answers PING (raw RESP, no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server politely (SIGTERM) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def client(self):  # type: ignore[no-untyped-def]
        """A redis-py client for this server."""
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh, empty redis-server on a free loopback port, stopped after the test."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[type]:
    """Build extra RedisServer instances (not started); all are stopped after the test."""
    made: list[RedisServer] = []

    def make(name: str = "redis", **kwargs: object) -> RedisServer:
        server = RedisServer(tmp_path / name, **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server

    try:
        yield make  # type: ignore[misc]
    finally:
        for server in made:
            server.stop()


@pytest.fixture
def fixed_now() -> datetime:
    """A fixed moment: Wednesday 25 November 2026, 09:20 in Los Angeles."""
    return datetime(2026, 11, 25, 9, 20, tzinfo=ZoneInfo("America/Los_Angeles"))


@pytest.fixture
def runner():  # type: ignore[no-untyped-def]
    """click's CliRunner."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOMEBOARD_* variables leak in from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("HOMEBOARD_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def fake_weather() -> Iterator[object]:
    """A local Open-Meteo look-alike (tests/boardkit.py) that can be slow, fail or go down."""
    from boardkit import FakeOpenMeteo

    server = FakeOpenMeteo().start()
    try:
        yield server
    finally:
        server.down()
