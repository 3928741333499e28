"""The systemd unit: it verifies, it is locked down, and the board still runs inside it."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from conftest import RedisServer

from homeboard.config import DisplayConfig
from homeboard.config.models import REFRESH_TIMEOUT_MAX
from homeboard.service import HARD_GRACE_MAX

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "homeboard.service"
EXAMPLE = REPO / "config.example.yaml"
BIN = Path(sys.executable).with_name("homeboard")
ANALYZE = shutil.which("systemd-analyze")
STRACE = shutil.which("strace")

# What `systemd-analyze security` gave the unit before it was hardened.
OLD_EXPOSURE = 3.9


def unit_entries(path: Path = UNIT) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in order (keys may repeat)."""
    entries = []
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def values(key: str, section: str = "Service") -> list[str]:
    """Every value given to `key` in `section` (words of repeated keys, in order)."""
    return [v for s, k, v in unit_entries() if s == section and k == key]


def one(key: str, section: str = "Service") -> str:
    """The value of a key given once."""
    found = values(key, section)
    assert len(found) == 1, f"{key}= in [{section}]: {found}"
    return found[0]


_SPAN_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def seconds(span: str) -> float:
    """A systemd time span (``90``, ``11min``, ``1h 30min``) in seconds."""
    if re.fullmatch(r"[0-9]+", span):
        return float(span)
    total = 0.0
    for amount, unit in re.findall(r"([0-9]+)\s*([a-z]+)", span):
        total += int(amount) * _SPAN_UNITS[unit]
    assert total > 0, span
    return total


def installed_unit(tmp_path: Path) -> Path:
    """The unit as installed, but starting this checkout's `homeboard` (verify stats it)."""
    text = UNIT.read_text(encoding="utf-8").replace("/opt/homeboard/.venv/bin/homeboard", str(BIN))
    path = tmp_path / "homeboard.service"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------- systemd's own checks


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "homeboard.service" not in result.stderr, result.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_rates_the_exposure_well_below_the_old_unit(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for homeboard\.service: ([0-9.]+)", result.stdout)
    assert match is not None, result.stdout + result.stderr
    exposure = float(match[1])
    print(f"systemd-analyze security: exposure {exposure} (was {OLD_EXPOSURE})")
    assert exposure <= 1.6 < OLD_EXPOSURE


# ------------------------------------------------------------------ the directives themselves


def test_the_unit_is_locked_down() -> None:
    # The same promises checked without systemd-analyze (it may be missing in CI).
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectProc": "invisible",
        "RestrictNamespaces": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "DevicePolicy": "closed",
    }
    assert {key: one(key) for key in expected} == expected
    assert values("SystemCallFilter") == ["@system-service", "~@privileged @resources"]
    assert set(one("RestrictAddressFamilies").split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_only_the_panel_devices_are_allowed() -> None:
    allowed = {entry.split()[0]: entry.split()[1] for entry in values("DeviceAllow")}
    default = DisplayConfig()
    spi = f"/dev/spidev{default.spi_bus}.{default.spi_device}"
    assert allowed == {spi: "rw", "/dev/gpiomem": "rw", "/dev/gpiochip0": "rw"}


def test_a_stop_waits_for_the_longest_refresh_the_config_allows() -> None:
    # A refresh is stopped at schedule.refresh_timeout (at most REFRESH_TIMEOUT_MAX) and
    # the process ends HARD_GRACE_MAX later at worst; systemd must not SIGKILL before.
    longest = REFRESH_TIMEOUT_MAX.total_seconds() + HARD_GRACE_MAX
    assert seconds(one("TimeoutStopSec")) > longest


def test_restarts_are_rate_limited_so_a_crash_loop_ends() -> None:
    assert one("Restart") == "always"
    assert one("RestartPreventExitStatus") == "2"
    interval = seconds(one("StartLimitIntervalSec", "Unit"))
    burst = int(one("StartLimitBurst", "Unit"))
    # The limit only bites if `burst` restarts fit in the interval.
    assert burst * seconds(one("RestartSec")) < interval
    assert 3 <= burst <= 10


def test_the_service_waits_for_the_clock() -> None:
    # A Pi has no real-time clock: without this it may draw the date of its last shutdown.
    for key in ("After", "Wants"):
        assert "time-sync.target" in " ".join(values(key, "Unit")).split()


def writable_paths() -> list[PurePosixPath]:
    """The paths the unit lets the service write (ProtectSystem=strict: nothing else)."""
    paths = [PurePosixPath("/var/lib") / d for v in values("StateDirectory") for d in v.split()]
    paths += [PurePosixPath(p.lstrip("-")) for v in values("ReadWritePaths") for p in v.split()]
    return paths


def test_the_documented_google_token_path_is_writable_by_the_service() -> None:
    # The service rewrites the token when Google refreshes it (a temporary file next to
    # it, then a rename), so its directory must be writable inside the unit.
    documented = re.findall(r"#?\s*token:\s*(\S+)", EXAMPLE.read_text(encoding="utf-8"))
    assert len(documented) == 1, documented
    token = PurePosixPath(documented[0])
    assert any(token.parent.is_relative_to(p) for p in writable_paths()), (token, writable_paths())
    assert str(token) in (REPO / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------- the board runs inside those limits


def board_config(tmp_path: Path, redis_url: str) -> Path:
    """A board with the mock display and a local calendar: a full refresh, no network."""
    calendar = tmp_path / "family.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:1@test\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261201T090000Z\r\n"
        "DTEND:20261201T100000Z\r\nSUMMARY:Zumba\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "weather: null\n"
        f"display: {{driver: mock, output_dir: {tmp_path / 'frames'}}}\n"
        f"redis_url: {redis_url}\n"
        f"calendars:\n  - {{name: Family, ics_url: {calendar}}}\n"
    )
    return cfg


def expand_filter(group: str) -> set[str]:
    """The system calls in a systemd filter group, as this systemd names them."""
    assert ANALYZE is not None
    out = subprocess.run(
        [ANALYZE, "syscall-filter", "--no-pager", group],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        names |= expand_filter(word) if word.startswith("@") else {word}
    return names


def unit_filter() -> set[str]:
    """What the unit's SystemCallFilter= lines allow."""
    allowed: set[str] = set()
    for line in values("SystemCallFilter"):
        deny = line.startswith("~")
        words = set()
        for word in line.lstrip("~").split():
            words |= expand_filter(word) if word.startswith("@") else {word}
        allowed = allowed - words if deny else allowed | words
    return allowed


@pytest.fixture
def traced() -> Iterator[None]:
    """Skip unless strace and systemd-analyze can run here (ptrace may be forbidden)."""
    if STRACE is None or ANALYZE is None:
        pytest.skip("needs strace and systemd-analyze")
    probe = subprocess.run([STRACE, "-qq", "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode(errors='replace')}")
    yield


def syscalls_in(trace: Path) -> set[str]:
    """The system calls named in an `strace -f -o` file."""
    found = set()
    for line in trace.read_text(errors="replace").splitlines():
        match = re.match(r"^[0-9]+\s+([a-z0-9_]+)\(", line)
        if match:
            found.add(match[1])
    return found


def test_the_service_needs_no_system_call_the_filter_forbids(
    traced: None, tmp_path: Path, redis_server: RedisServer
) -> None:
    # A forbidden call would fail with EPERM on the Pi; the worker and a refresh that
    # draws and pushes must use only what @system-service minus the two groups allow.
    assert STRACE is not None
    cfg = board_config(tmp_path, redis_server.url)
    env = {**os.environ, "HOMEBOARD_CONFIG": str(cfg)}
    refresh_trace = tmp_path / "refresh.trace"
    done = subprocess.run(
        [STRACE, "-f", "-qq", "-o", str(refresh_trace), str(BIN), "refresh", "--force"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "pushed" in done.stdout

    run_trace = tmp_path / "run.trace"
    log = tmp_path / "run.log"
    with log.open("w") as out:
        service = subprocess.Popen(
            [STRACE, "-f", "-qq", "-o", str(run_trace), str(BIN), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 90
            while "refresh " not in log.read_text() and time.monotonic() < deadline:
                assert service.poll() is None, log.read_text()
                time.sleep(0.2)
            assert "refresh " in log.read_text(), log.read_text()
        finally:
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(timeout=60)
    used = syscalls_in(refresh_trace) | syscalls_in(run_trace)
    assert len(used) > 30, used  # the trace really saw the program
    # The read-only clock query (app.kernel_clock_synced) runs here, outside any filter;
    # under the unit's filter it is not made (test_the_clock_query_is_not_made_under_a_filter).
    assert sorted(used - unit_filter() - CLOCK_QUERY) == []


CLOCK_QUERY = {"adjtimex", "clock_adjtime", "clock_adjtime64"}


def test_the_clock_query_is_not_made_under_a_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under SystemCallFilter= (ProtectClock refuses adjtimex) the service asks the
    time service's flag file only, and says "unknown" without it."""
    from homeboard import app

    flag = tmp_path / "synchronized"
    monkeypatch.setattr(app, "TIMESYNC_FLAG", flag)
    monkeypatch.setattr(app, "_seccomp_filtered", lambda: True)
    assert app.kernel_clock_synced() is None
    flag.touch()
    assert app.kernel_clock_synced() is True
    assert CLOCK_QUERY.isdisjoint(unit_filter()), "the filter now allows the clock query"


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1  # linux/prctl.h, Linux 6.3+


def test_the_board_runs_without_writable_executable_memory(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # MemoryDenyWriteExecute=yes: the kernel's own switch for the same rule, when present.
    libc = ctypes.CDLL(None, use_errno=True)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import ctypes; exit(ctypes.CDLL(None).prctl({PR_SET_MDWE}, 1, 0, 0, 0))",
        ],
        capture_output=True,
    )
    if probe.returncode != 0 or not hasattr(libc, "prctl"):
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    script = (
        "import ctypes, sys\n"
        f"assert ctypes.CDLL(None).prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) == 0\n"
        "from homeboard.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    cfg = board_config(tmp_path, redis_server.url)
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(cfg), "refresh", "--force"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pushed"), done.stdout
    assert list((tmp_path / "frames").glob("*.png"))
