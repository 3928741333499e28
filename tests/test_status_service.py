"""``homeboard status`` says why the service stopped: systemd's word, and the service's own.

``systemctl`` is a small script on PATH here, printing what ``systemctl show`` prints on a
Pi for each case (a stand-in for the OS, like the SPI fakes); everything else is real:
Redis, the ``homeboard`` command, and ``homeboard run`` as a subprocess.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from boardkit import (
    ServiceProcess,
    clean_environment,
    run_worker_whose_scheduler_dies,
    wait_for,
    write_config,
)

BIN = Path(sys.executable).with_name("homeboard")
REPO = Path(__file__).resolve().parent.parent

# What `systemctl show homeboard.service --property=...` prints (systemd 252, Raspberry Pi
# OS bookworm): its own order, not the order asked for; ExecMainCode 1 = exited,
# 2 = killed, 3 = dumped; ExecMainStatus the exit status or the signal's number.
START_LIMIT_HIT = """\
Result=start-limit-hit
NRestarts=5
ExecMainCode=1
ExecMainStatus=1
StateChangeTimestamp=Tue 2026-12-01 20:05:12 UTC
ActiveEnterTimestamp=Tue 2026-12-01 20:04:41 UTC
LoadState=loaded
ActiveState=failed
SubState=failed
"""
OOM_KILLED = """\
Result=oom-kill
NRestarts=2
ExecMainCode=2
ExecMainStatus=9
StateChangeTimestamp=Tue 2026-12-01 20:05:12 UTC
ActiveEnterTimestamp=Tue 2026-12-01 19:58:03 UTC
LoadState=loaded
ActiveState=activating
SubState=auto-restart
"""
BEAT_DIED = """\
Result=exit-code
NRestarts=0
ExecMainCode=1
ExecMainStatus=76
StateChangeTimestamp=Tue 2026-12-01 20:05:12 UTC
ActiveEnterTimestamp=Tue 2026-12-01 19:58:03 UTC
LoadState=loaded
ActiveState=failed
SubState=failed
"""
KILLED = """\
Result=signal
NRestarts=0
ExecMainCode=2
ExecMainStatus=9
StateChangeTimestamp=Tue 2026-12-01 20:05:12 UTC
ActiveEnterTimestamp=Tue 2026-12-01 19:58:03 UTC
LoadState=loaded
ActiveState=failed
SubState=failed
"""
RUNNING = """\
Result=success
NRestarts=1
ExecMainCode=0
ExecMainStatus=0
StateChangeTimestamp=Tue 2026-12-01 20:05:42 UTC
ActiveEnterTimestamp=Tue 2026-12-01 20:05:42 UTC
LoadState=loaded
ActiveState=active
SubState=running
"""
NOT_INSTALLED = """\
Result=success
NRestarts=0
ExecMainCode=0
ExecMainStatus=0
StateChangeTimestamp=
ActiveEnterTimestamp=
LoadState=not-found
ActiveState=inactive
SubState=dead
"""


def fake_systemctl(bin_dir: Path, output: str, *, exit_code: int = 0, stderr: str = "") -> Path:
    """A ``systemctl`` that prints ``output`` and records its arguments (shell builtins only)."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "systemctl"
    lines = " ".join("'" + line + "'" for line in output.splitlines())
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{bin_dir}/systemctl.args"\n'
        + (f"printf '%s\\n' {lines}\n" if lines else "")
        + (f"echo '{stderr}' >&2\n" if stderr else "")
        + f"exit {exit_code}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def board(tmp_path: Path, redis_server) -> Path:  # type: ignore[no-untyped-def]
    """A board config on a real Redis (the service is not running)."""
    return write_config(
        tmp_path / "config.yaml",
        redis_url=redis_server.url,
        weather_url="http://127.0.0.1:9",
        output_dir=tmp_path / "out",
    )


def status(config: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``homeboard status`` with only ``bin_dir`` on PATH (no real systemctl)."""
    env = clean_environment(PATH=str(bin_dir))
    return subprocess.run(
        [str(BIN), "--config", str(config), "status", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


CASES = [
    pytest.param(
        START_LIMIT_HIT,
        "service: failed — start-limit-hit after 5 restarts: systemd gave up restarting it "
        "(last exit: exit 1: an unexpected error (see the journal))",
        {"state": "failed", "result": "start-limit-hit", "restarts": 5},
        id="start-limit-hit",
    ),
    pytest.param(
        OOM_KILLED,
        "service: restarting after a failure — killed by the kernel for using too much "
        "memory (oom-kill), restarted 2 times",
        {"state": "activating", "sub_state": "auto-restart", "result": "oom-kill"},
        id="oom-kill",
    ),
    pytest.param(
        BEAT_DIED,
        "service: failed — exit 76: the scheduler thread died",
        {"state": "failed", "result": "exit-code", "restarts": 0},
        id="exit-76",
    ),
    pytest.param(
        KILLED,
        "service: failed — killed by SIGKILL",
        {"state": "failed", "result": "signal"},
        id="sigkill",
    ),
    pytest.param(
        RUNNING,
        "service: running since Tue 2026-12-01 20:05:42 UTC, restarted 1 time",
        {"state": "active", "result": "success", "restarts": 1},
        id="running",
    ),
]


@pytest.mark.parametrize(("shown", "line", "fields"), CASES)
def test_status_says_why_systemd_stopped_the_service(
    board: Path, tmp_path: Path, shown: str, line: str, fields: dict[str, object]
) -> None:
    bin_dir = tmp_path / "bin"
    fake_systemctl(bin_dir, shown)
    text = status(board, bin_dir)
    assert text.returncode == 0, text.stderr
    assert line in text.stdout.splitlines(), text.stdout
    args = (bin_dir / "systemctl.args").read_text()
    assert args.startswith("show homeboard.service ") and "Result" in args and "NRestarts" in args

    as_json = status(board, bin_dir, "--json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    service = doc["service"]
    assert service["unit"] == "homeboard.service"
    assert service["summary"] == line.removeprefix("service: ")
    assert {k: service[k] for k in fields} == fields
    # The documented keys are all still there.
    assert {"counters", "recent", "last_push", "sources"} <= doc.keys()


def test_the_unit_name_can_be_given(board: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_systemctl(bin_dir, RUNNING)
    result = status(board, bin_dir, "--unit", "homeboard-kitchen.service")
    assert result.returncode == 0, result.stderr
    assert (bin_dir / "systemctl.args").read_text().startswith("show homeboard-kitchen.service ")


@pytest.mark.parametrize(
    ("shown", "exit_code", "stderr"),
    [
        pytest.param(None, 0, "", id="no-systemctl"),
        pytest.param(NOT_INSTALLED, 0, "", id="unit-not-installed"),
        pytest.param(
            "",
            1,
            "System has not been booted with systemd as init system (PID 1).",
            id="no-systemd",
        ),
    ],
)
def test_status_works_and_says_nothing_of_the_service_when_systemd_cannot_say(
    board: Path, tmp_path: Path, shown: str | None, exit_code: int, stderr: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if shown is not None:
        fake_systemctl(bin_dir, shown, exit_code=exit_code, stderr=stderr)
    result = status(board, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "last refresh: never" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("service")]
    doc = json.loads(status(board, bin_dir, "--json").stdout)
    assert doc["service"] is None
    assert doc["counters"]["completed"] == 0


def test_a_service_stopped_by_systemd_records_why_and_status_says_it(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
    fake_weather,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        redis_url=redis_server.url,
        weather_url=fake_weather.url,
        output_dir=tmp_path / "out",
        interval="1h",
    )
    service = ServiceProcess(config, tmp_path / "service.log").start()
    try:
        wait_for(lambda: (tmp_path / "out" / "pushes.jsonl").exists(), 60, what="a first push")
    finally:
        code = service.stop()
    assert code == 0, service.log()[-3000:]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    result = status(config, bin_dir)  # no systemctl: the service's own word only
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("service")]
    assert len(lines) == 1 and lines[0].endswith(": exit 0: stopped normally"), result.stdout
    saved = json.loads(status(config, bin_dir, "--json").stdout)["service"]
    assert saved["unit"] is None and saved["summary"] is None
    assert saved["last_exit"]["status"] == 0


def test_a_service_whose_scheduler_died_records_why(
    tmp_path: Path,
    redis_server,  # type: ignore[no-untyped-def]
) -> None:
    from homeboard.exits import EXIT_BEAT_DIED

    config = write_config(
        tmp_path / "config.yaml",
        redis_url=redis_server.url,
        weather_url="http://127.0.0.1:9",
        output_dir=tmp_path / "out",
        interval="1h",
    )
    # The scheduler raises on its fourth tick, as it did with a malformed redis_url (the
    # config check refuses those now); the secret in the message must not be kept.
    proc = run_worker_whose_scheduler_dies(
        config, "cannot use redis://:hunter2@127.0.0.1:1/0", cwd=REPO
    )
    assert proc.returncode == EXIT_BEAT_DIED, proc.stderr[-3000:]
    bin_dir = tmp_path / "bin"
    fake_systemctl(bin_dir, BEAT_DIED)
    result = status(config, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "service: failed — exit 76: the scheduler thread died" in result.stdout
    last = [line for line in result.stdout.splitlines() if line.startswith("service last")]
    assert len(last) == 1, result.stdout
    assert "exit 76: the scheduler thread died (ValueError: cannot use redis://" in last[0]
    assert "hunter2" not in result.stdout
    saved = json.loads(status(config, bin_dir, "--json").stdout)["service"]["last_exit"]
    assert saved["status"] == EXIT_BEAT_DIED
    assert saved["reason"] == "exit 76: the scheduler thread died"


def test_the_product_exit_statuses_all_have_words() -> None:
    from homeboard import exits, service, tasks

    for code in (service.EXIT_HUNG, tasks.EXIT_WEDGED, tasks.EXIT_BEAT_DIED, 2):
        assert exits.exit_words(code) != f"exit {code}"
    assert exits.exit_words(128 + signal.SIGTERM) == "exit 143: ended by SIGTERM"
