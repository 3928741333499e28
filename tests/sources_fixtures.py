"""Fixtures and helpers of the source tests: recorded-shape payloads, a fixed moment, configs.

Imported by the ``tests/test_sources_*.py`` modules (``from sources_fixtures import …``);
the HTTP server is pytest-httpserver's ``httpserver`` fixture: a real server on
loopback, so requests go through the real session, adapters and retries.
"""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from homeboard.config import Config, load_config
from homeboard.sources.http import build_session, make_retry

DATA = Path(__file__).resolve().parent / "data" / "sources"
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday morning in the household's zone: the days shown are Jan 20-23.
NOW = datetime(2025, 1, 20, 9, 0, tzinfo=LA)
NWS_HOST = "https://api.weather.gov"


def data(relative: str) -> Path:
    """The path of a recorded payload under tests/data/sources."""
    return DATA / relative


def read_bytes(relative: str) -> bytes:
    """A recorded payload's bytes."""
    return data(relative).read_bytes()


def read_json(relative: str, *, nws_base: str | None = None) -> Any:
    """A recorded JSON payload; ``nws_base`` replaces the NWS host in its links."""
    text = data(relative).read_text(encoding="utf-8")
    if nws_base is not None:
        text = text.replace(NWS_HOST, nws_base.rstrip("/"))
    return json.loads(text)


def fast_session() -> requests.Session:
    """The product's session, with the same retry counts but no backoff sleep."""
    return build_session(retry=make_retry().new(backoff_factor=0))


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A session like the product's (see ``fast_session``), closed after the test."""
    with fast_session() as s:
        yield s


def write_config(tmp_path: Path, text: str) -> Config:
    """Write ``text`` (YAML, dedented) as config.yaml in ``tmp_path`` and load it."""
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, env={})


def closed_port() -> int:
    """A loopback port on which nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The base URL of a server that accepts connections and never answers (read timeouts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def requests_to(server: Any, path: str | None = None) -> list[Any]:
    """The requests ``server`` (pytest-httpserver) received, optionally those to ``path``."""
    return [req for req, _ in server.log if path is None or req.path == path]


__all__ = [
    "BERLIN", "DATA", "LA", "NOW", "NWS_HOST", "closed_port", "data", "fast_session",
    "read_bytes", "read_json", "requests_to", "session", "silent_server", "write_config",
]
