"""Helpers for the service tests: a board config, a fake Open-Meteo, the service as a process.

Everything is real and local: an HTTP server on loopback that answers like Open-Meteo
(and can be told to be slow or to fail), an ICS file, ``homeboard run`` as a
subprocess with the mock display, and readers of what a user would look at: the
mock's push log and ``homeboard status``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

TZ = "America/Los_Angeles"


def wait_for(
    condition: Callable[[], Any], timeout: float, *, what: str, interval: float = 0.1
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- weather


class FakeOpenMeteo:
    """A local stand-in for Open-Meteo's /v1/forecast, with switches for faults.

    ``delay`` makes every answer that many seconds late; ``fail`` answers HTTP 400
    with Open-Meteo's error body (not retried); ``down()`` closes the port entirely.
    ``temperature`` changes the data (and so the frame).
    """

    def __init__(self) -> None:
        self.delay = 0.0
        self.fail = False
        self.temperature = 11.0
        # current.time, fixed so that the data (and the frame) change only when a test
        # says so; None follows the clock, as the real service does every 15 minutes.
        self.observed_at: str | None = datetime.now(ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M")
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base_url to configure."""
        return f"http://127.0.0.1:{self.port}"

    def body(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """An Open-Meteo-shaped answer for the query's time zone and days."""
        zone = ZoneInfo(query.get("timezone", [TZ])[0])
        days = int(query.get("forecast_days", ["5"])[0])
        today = datetime.now(zone).date()
        dates = [(today + timedelta(days=i)).isoformat() for i in range(days)]
        return {
            "latitude": 37.68,
            "longitude": -121.77,
            "timezone": str(zone),
            "current": {
                "time": self.observed_at
                or datetime.now(zone)
                .replace(second=0, microsecond=0, tzinfo=None)
                .isoformat(timespec="minutes"),
                "temperature_2m": self.temperature,
                "apparent_temperature": self.temperature,
                "weather_code": 2,
                "is_day": 1,
            },
            "daily": {
                "time": dates,
                "weather_code": [3] * days,
                "temperature_2m_max": [15.0] * days,
                "temperature_2m_min": [6.0] * days,
                "precipitation_probability_max": [20] * days,
            },
        }

    def start(self) -> FakeOpenMeteo:
        """Listen on a free loopback port (the same one again after ``down()``)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake.requests += 1
                if fake.delay:
                    time.sleep(fake.delay)
                parts = urlsplit(self.path)
                if fake.fail:
                    status, payload = 400, {"error": True, "reason": "test says no"}
                elif parts.path != "/v1/forecast":
                    status, payload = 404, {"error": True, "reason": "no such path"}
                else:
                    status, payload = 200, fake.body(parse_qs(parts.query))
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-open-meteo", daemon=True
        )
        self._thread.start()
        return self

    def down(self) -> None:
        """Close the port: connections are refused, as with no network."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# --------------------------------------------------------------------------- config


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//homeboard tests//EN
BEGIN:VEVENT
UID:dentist-1@test
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:{day}
DTEND;VALUE=DATE:{next_day}
SUMMARY:{title}
END:VEVENT
END:VCALENDAR
"""


def write_ics(path: Path, title: str = "Dentist", day: date | None = None) -> Path:
    """An ICS file with one all-day event today (board time)."""
    day = day or datetime.now(ZoneInfo(TZ)).date()
    path.write_text(
        ICS.format(
            day=day.strftime("%Y%m%d"),
            next_day=(day + timedelta(days=1)).strftime("%Y%m%d"),
            title=title,
        ).replace("\n", "\r\n"),
        encoding="utf-8",
    )
    return path


def write_config(
    path: Path,
    *,
    redis_url: str,
    weather_url: str,
    output_dir: Path,
    board: str = "test",
    interval: str = "2s",
    ics_url: str | None = None,
    weather_timeout: str = "10s",
    max_age: str = "1h",
    schedule_extra: str = "",
    refresh_timeout: str = "20s",
    lock_timeout: str = "30s",
    state_dir: Path | None = None,
    display_extra: str = "",
) -> Path:
    """A board config for the tests: mock display, the fake weather, one calendar.

    The state directory is ``state`` beside the config unless given, so that no test
    writes to the machine's /var/lib/homeboard.
    """
    state_dir = state_dir or path.parent / "state"
    calendars = ""
    if ics_url is not None:
        calendars = f"""calendars:
  - name: Family
    color: red
    ics_url: {ics_url}
    max_age: {max_age}
"""
    path.write_text(
        f"""board: {board}
timezone: {TZ}
location:
  latitude: 37.68
  longitude: -121.77
  name: Livermore
display:
  driver: mock
  output_dir: {output_dir}
{display_extra}weather:
  base_url: {weather_url}
  timeout: {weather_timeout}
  max_age: {max_age}
{calendars}schedule:
  interval: {interval}
  refresh_timeout: {refresh_timeout}
  lock_timeout: {lock_timeout}
{schedule_extra}redis_url: {redis_url}
state_dir: {state_dir}
""",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- the service


def clean_environment(**extra: str) -> dict[str, str]:
    """The test process's environment without HOMEBOARD_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEBOARD_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_worker_whose_scheduler_dies(
    config: Path, message: str, *, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The service's worker as a real process whose scheduler raises ``ValueError(message)``
    on its fourth tick (as it did with a malformed redis_url); returns when it ends."""
    script = (
        "import sys\n"
        "from homeboard import tasks\n"
        "from homeboard.app import build_app\n"
        "from homeboard.config import load_config\n"
        "ticks = []\n"
        "real = tasks.BoardScheduler.tick\n"
        "def tick(self, *a, **k):\n"
        "    ticks.append(1)\n"
        "    if len(ticks) > 3:\n"
        f"        raise ValueError({message!r})\n"
        "    return real(self, *a, **k)\n"
        "tasks.BoardScheduler.tick = tick\n"
        "sys.exit(tasks.run_worker(build_app(load_config(sys.argv[1]))))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=clean_environment(),
    )


class ServiceProcess:
    """``homeboard run`` as a real subprocess; its log goes to a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def start(self) -> ServiceProcess:
        """Start the service (returns at once)."""
        self._log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "homeboard", "run", "--config", str(self.config)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=clean_environment(),
        )
        return self

    @property
    def pid(self) -> int:
        """The service's process id."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        """Everything the service wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (what systemd sends) and wait; SIGKILL if it does not stop."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            code = self.proc.returncode
        self._close()
        return code

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def pushes(output_dir: Path) -> list[dict[str, Any]]:
    """The mock display's push log."""
    path = output_dir / "pushes.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def parse_time(text: str) -> datetime:
    """An ISO time from the status document."""
    return datetime.fromisoformat(text)


class QueueWatcher:
    """Samples the board's broker queue in Redis every few ms while the service runs.

    Every message seen is kept (by id), so a test can check what beat and the start-up
    hook really sent: never an eta, always an expiry.
    """

    def __init__(self, port: int, board: str = "test") -> None:
        self.port = port
        self.board = board
        self.messages: dict[str, dict[str, Any]] = {}
        self.max_depth = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-watcher", daemon=True)

    def start(self) -> QueueWatcher:
        """Start sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=0.5
        )
        queue = f"homeboard:{self.board}:refresh"
        unacked = f"homeboard:{self.board}:unacked"
        while not self._stop.is_set():
            try:
                pipe = client.pipeline(transaction=False)
                pipe.lrange(queue, 0, -1)
                pipe.hvals(unacked)
                waiting, held = pipe.execute()
            except redis.RedisError:
                time.sleep(0.1)
                continue
            self.max_depth = max(self.max_depth, len(waiting))
            for raw in waiting:
                self._keep(json.loads(raw))
            for raw in held:  # unacked entries are [message, exchange, routing_key]
                self._keep(json.loads(raw)[0])
            time.sleep(0.02)
        client.close()

    def _keep(self, message: dict[str, Any]) -> None:
        headers = message.get("headers", {})
        self.messages[str(headers.get("id"))] = headers


class ConfiguredRedis:
    """``redis-server`` started with a config file (the one we ship for the Pi)."""

    def __init__(self, conf: Path, workdir: Path, port: int) -> None:
        self.conf = conf
        self.workdir = workdir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """redis:// URL, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ConfiguredRedis:
        """Start and wait for PING."""
        import redis

        self.proc = subprocess.Popen(
            [
                "redis-server",
                str(self.conf),
                "--port",
                str(self.port),
                "--dir",
                str(self.workdir),
                "--daemonize",
                "no",
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._ping(client), 10, what="redis-server to answer")
        client.close()
        return self

    @staticmethod
    def _ping(client: Any) -> bool:
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        """SIGTERM (what `systemctl restart redis-server` sends) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def broker_messages(client: Any, board: str = "test") -> list[dict[str, Any]]:
    """The refresh messages waiting in the board's broker queue, as kombu stored them.

    Each is the raw kombu envelope (``headers``, ``content-type``, ``properties``...) with
    ``args`` and ``kwargs`` decoded from its JSON body.
    """
    import base64

    out = []
    for raw in client.lrange(f"homeboard:{board}:refresh", 0, -1):
        message = json.loads(raw)
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, _embed = json.loads(body)
        out.append({**message, "args": args, "kwargs": kwargs})
    return out


def refuse_writes(client: Any, how: str, redis_dir: Path) -> None:
    """Make a real redis-server refuse writes, as a full disk or a full memory does.

    ``misconf``: with a save point set, a background save fails (its folder, the
    server's ``--dir``, is gone), and Redis then answers every write with MISCONF.
    ``oom``: ``maxmemory`` of one byte and the noeviction policy, so every write that
    may grow memory gets OOM. ``accept_writes`` undoes either.
    """
    import shutil

    if how == "oom":
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")
        return
    client.config_set("save", "3600 1")
    shutil.rmtree(redis_dir)  # the save cannot write its file: as good as a full disk
    client.bgsave()
    wait_for(
        lambda: (
            client.info("persistence")["rdb_bgsave_in_progress"] == 0
            and client.info("persistence")["rdb_last_bgsave_status"] == "err"
        ),
        10,
        what="the background save to fail",
    )


def accept_writes(client: Any) -> None:
    """Undo ``refuse_writes`` (so that the server can also stop without saving)."""
    client.config_set("save", "")
    client.config_set("maxmemory", "0")
