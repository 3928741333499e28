"""Helpers for the household page's tests: a board config with a ``web`` section, the page
served by waitress on a free loopback port (in a thread or as ``homeboard web``)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from boardkit import TZ, clean_environment

PASSWORD = "correct horse battery"


def web_config(
    tmp_path: Path,
    redis_url: str,
    *,
    port: int,
    password: bool = True,
    extra: str = "",
    web_extra: str = "",
    board: str = "test",
) -> Path:
    """A board config (mock display, no weather: no network) with ``web.listen`` on ``port``."""
    path = tmp_path / "config.yaml"
    web = f"web:\n  listen: 127.0.0.1:{port}\n"
    if password:
        secret = tmp_path / "web-password"
        secret.write_text(PASSWORD + "\nsecond line is ignored\n", encoding="utf-8")
        web += f"  password_file: {secret}\n"
    path.write_text(
        f"""board: {board}
timezone: {TZ}
display:
  driver: mock
  output_dir: {tmp_path / "frames"}
weather: null
schedule:
  interval: 15m
  refresh_timeout: 20s
  lock_timeout: 30s
redis_url: {redis_url}
{web}{web_extra}{extra}""",
        encoding="utf-8",
    )
    return path


class ThreadedServer:
    """The page's WSGI app under waitress, in a thread of the test process."""

    def __init__(self, app: Any, port: int) -> None:
        import waitress.server

        self.port = port
        self.server = waitress.server.create_server(
            app, listen=f"127.0.0.1:{port}", threads=4, clear_untrusted_proxy_headers=False
        )
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="waitress", daemon=True)

    @property
    def url(self) -> str:
        """The page's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        """Start serving."""
        self.thread.start()
        return self

    def _run(self) -> None:
        # One select at a time, so that the sockets are closed by this thread between two
        # of them: closed from another thread, a select in progress fails with EBADF.
        from waitress import wasyncore

        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=self.server._map, count=1)
        # Worker threads first: a response still being written must not find the
        # server's wake-up pipe closed.
        self.server.task_dispatcher.shutdown(timeout=5)
        for dispatcher in list(self.server._map.values()):  # listener, connections, trigger
            dispatcher.close()

    def stop(self) -> None:
        """Stop serving and wait until the server's sockets are closed."""
        self._stopping.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the page's server did not stop"


class WebProcess:
    """``homeboard web`` as a real subprocess."""

    def __init__(self, config: Path, log: Path, port: int) -> None:
        self.config = config
        self.log_path = log
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The page's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> WebProcess:
        """Start the page and wait until /healthz answers (with any status)."""
        import requests

        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "homeboard", "web", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_environment(),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"homeboard web exited {self.proc.returncode}: " + self.log())
            try:
                requests.get(self.url + "/healthz", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("homeboard web did not answer: " + self.log())

    def log(self) -> str:
        """What the page wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
