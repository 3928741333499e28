"""The command line end to end, in subprocesses, as a user or systemd runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port
from PIL import Image

import drivers

BIN = Path(sys.executable).with_name("homeboard")


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEBOARD_")}
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or Path(__file__).parent,
        timeout=timeout,
    )


def test_quick_start_preview_is_a_png_of_the_panel_size(tmp_path: Path) -> None:
    out = tmp_path / "preview.png"
    result = run("render", "--demo", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (800, 480)
        assert image.mode == "RGB"
        colours = {c for _n, c in image.getcolors(maxcolors=16)}
    assert colours == {(255, 255, 255), (0, 0, 0), (255, 0, 0)}


@pytest.mark.parametrize("panel", sorted(drivers.PANELS))
def test_preview_for_each_panel(tmp_path: Path, panel: str) -> None:
    out = tmp_path / "p.png"
    result = run(
        "render", "--demo", "--panel", panel, "--now", "2026-11-25T09:20", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    spec = drivers.PANELS[panel]
    with Image.open(out) as image:
        assert image.size == (spec.width, spec.height)


def test_python_dash_m_works(tmp_path: Path) -> None:
    out = tmp_path / "m.png"
    result = subprocess.run(
        [sys.executable, "-m", "homeboard", "render", "--demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000


def test_state_json_has_the_documented_keys() -> None:
    result = run("state", "--demo", "--now", "2026-11-25T09:20", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["days"][0]["date"] == "2026-11-25"
    assert len(data["days"]) == 4
    first = data["days"][0]["events"][0]
    assert {"title", "start", "end", "all_day", "calendar"} <= set(first)
    assert data["days"][0]["special"]["message"] == "Happy Birthday, Corinne!"
    assert data["days"][0]["forecast"]["high"] is not None
    assert data["current"]["temperature"] is not None
    assert data["sources"]["weather"]["status"] == "fresh"
    assert "fetched_at" in data["sources"]["weather"]
    # An event under way at 09:20: Zumba 9:00-10:00.
    zumba = [e for e in data["days"][0]["events"] if e["title"] == "Zumba"]
    assert zumba and zumba[0]["underway"] is True


def test_same_data_renders_the_same_bytes_at_another_minute(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run("render", "--demo", "--now", "2026-11-25T09:16", "--out", str(a)).returncode == 0
    assert run("render", "--demo", "--now", "2026-11-25T09:29", "--out", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_bad_config_names_file_line_and_field_and_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "timezone: Europe/Berlin\nunits: kelvin\nlocation:\n  latitude: 123\n  longitude: 8\n"
    )
    result = run("check-config", "--config", str(cfg))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(re.fullmatch(rf"{re.escape(str(cfg))}:2: units: .*", ln) for ln in lines), lines
    assert any(
        re.fullmatch(rf"{re.escape(str(cfg))}:4: location\.latitude: .*", ln) for ln in lines
    ), lines
    assert "Traceback" not in result.stderr


def test_good_config_checks_ok(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: Europe/Berlin\nlocation: {latitude: 52.5, longitude: 13.4}\n")
    result = run("check-config", env={"HOMEBOARD_CONFIG": str(cfg)})
    assert result.returncode == 0, result.stderr


def test_example_config_checks_ok() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.yaml"
    result = run("check-config", "--config", str(example))
    assert result.returncode == 0, result.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run("check-config", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_now_and_unknown_panel_are_usage_errors(tmp_path: Path) -> None:
    bad_now = run("render", "--demo", "--now", "yesterday", "--out", str(tmp_path / "x.png"))
    assert bad_now.returncode == 2
    assert "--now" in bad_now.stderr
    bad_panel = run("render", "--demo", "--panel", "epd2in13", "--out", str(tmp_path / "x.png"))
    assert bad_panel.returncode == 2
    assert "waveshare_epd7in5b_v2" in bad_panel.stderr
    assert not (tmp_path / "x.png").exists()


def test_config_schema_is_json_schema() -> None:
    result = run("config-schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert "calendars" in schema["properties"]
    assert schema.get("additionalProperties") is False


def test_unknown_holiday_country_fails_check_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: Europe/Berlin\nweather: null\nholidays: {country: XX}\n")
    result = run("check-config", "--config", str(cfg))
    assert result.returncode == 2
    assert f"{cfg}: holidays:" in result.stderr and "XX" in result.stderr


@pytest.mark.parametrize("command", [("check-config",), ("state",), ("run",)])
def test_every_command_asks_the_holidays_package_about_the_config(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # What check-config refuses, run and state must refuse too (exit 2, one line), before
    # anything starts: a subdivision the holidays package does not know.
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "timezone: Europe/Berlin\nweather: null\nholidays: {country: DE, subdivision: ZZ}\n"
    )
    result = run(*command, "--config", str(cfg), timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"{cfg}: holidays:" in result.stderr and "ZZ" in result.stderr


def test_auth_google_names_the_calendars(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("weather: null\ncalendars:\n  - name: Family\n    ics_url: file:///dev/null\n")
    result = run("auth", "google", "Work", "--config", str(cfg))
    assert result.returncode == 2
    assert "no Google calendar named 'Work'" in result.stderr


def test_demo_takes_the_look_of_the_config_found_by_lookup(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("timezone: Europe/Berlin\nlanguage: de\nweather: null\n")
    result = run("state", "--demo", "--now", "2026-11-25T09:20", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["timezone"] == "Europe/Berlin" and data["language"] == "de"
    # The demo household's data stays: its calendars and birthday, in the board's language.
    assert data["days"][0]["special"]["message"] == "Alles Gute zum Geburtstag, Corinne!"


def test_unwritable_output_is_one_clear_line(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.png"
    result = run("render", "--demo", "--out", str(target))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("homeboard: error: cannot write")
    assert str(target) in result.stderr


def test_check_config_warns_about_missing_secret_files(tmp_path: Path) -> None:
    secret = tmp_path / "caldav-password"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "weather: null\ncalendars:\n  - name: Work\n    caldav:\n"
        "      url: https://dav.example.org/\n      username: me\n"
        f"      password_file: {secret}\n"
    )
    result = run("check-config", "--config", str(cfg))
    assert result.returncode == 0
    assert f"warning: calendars[0].caldav.password_file: no such file: {secret}" in result.stderr
    secret.write_text("hunter2\n")
    again = run("check-config", "--config", str(cfg))
    assert again.returncode == 0 and "warning" not in again.stderr
    assert "hunter2" not in again.stderr + again.stdout


# What check-config accepts must run; what it refuses is said at its line, password masked.
UNRUNNABLE = {
    "redis_url: redis://127.0.0.1:6379/0?socket_timeout=5": (
        "4: redis_url: 'redis://127.0.0.1:6379/0?socket_timeout=5': option 'socket_timeout'"
        " is not supported (the board sets Redis's timeouts itself)"
    ),
    "redis_url: redis://127.0.0.1:6379/0?password=s3cret": (
        "4: redis_url: 'redis://127.0.0.1:6379/0?password=***': option 'password' is not"
        " supported; write the credentials before the host: redis://USER:PASSWORD@127.0.0.1:6379/0"
    ),
    "redis_url: 'redis:/:s3cret@127.0.0.1:6379/0'": (
        "4: redis_url: 'redis:/:***@127.0.0.1:6379/0' is not a redis://, rediss:// or unix://"
        " URL (e.g. redis://127.0.0.1:6379/0)"
    ),
    "schedule: {interval: 999999999d}": (
        "4: schedule.interval: must be at most 1d, not 999999999d"
    ),
    "calendars: [{name: Zero, ics_url: /dev/zero}]": (
        "4: calendars[0].ics_url: '/dev/zero' is a device, pipe or socket, not a regular file"
    ),
}


@pytest.mark.parametrize("line", list(UNRUNNABLE))
def test_check_config_refuses_what_run_cannot_start(tmp_path: Path, line: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"timezone: Europe/Berlin\nweather: null\n# the suspect:\n{line}\n")
    result = run("check-config", "--config", str(cfg))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"{cfg}:{UNRUNNABLE[line]}"]
    assert "s3cret" not in result.stderr + result.stdout


def test_run_with_a_mistyped_redis_url_exits_2_without_its_password(tmp_path: Path) -> None:
    # It used to start, log the password and look it up in DNS, restarting every 5 s.
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "weather: null\ndisplay: {driver: mock, output_dir: frames}\n"
        "redis_url: 'redis:/:s3cret@127.0.0.1:6379/0'\n"
    )
    result = run("run", "--config", str(cfg), timeout=30)
    assert result.returncode == 2
    assert f"{cfg}:3: redis_url: 'redis:/:***@127.0.0.1:6379/0' is not" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


@pytest.mark.parametrize("userinfo", [":s3cret", "me:s3cret"])
def test_status_without_redis_masks_the_password(tmp_path: Path, userinfo: str) -> None:
    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"weather: null\nredis_url: 'redis://{userinfo}@127.0.0.1:{port}/0'\n")
    result = run("status", "--config", str(cfg))
    assert result.returncode == 1
    shown = "me:***" if userinfo.startswith("me:") else ":***"
    assert f"Redis at redis://{shown}@127.0.0.1:{port}/0 did not answer" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def test_a_password_without_its_colon_is_refused_masked_by_every_command(tmp_path: Path) -> None:
    # `s3cret@` is the typo of a forgotten ':': redis-py and Celery read it as a user
    # name, and Celery prints user names in its connection errors.
    cfg = tmp_path / "config.yaml"
    cfg.write_text("weather: null\nredis_url: 'redis://s3cret@127.0.0.1:6379/0'\n")
    for command in ("check-config", "status", "run"):
        result = run(command, "--config", str(cfg), timeout=30)
        assert result.returncode == 2, (command, result.stderr)
        assert f"{cfg}:2: redis_url: 'redis://***@127.0.0.1:6379/0' gives a user name" in (
            result.stderr
        )
        assert "s3cret" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "url",
    ["redis://me:s3cret@127.0.0.1:{port}/0", "unix://:s3cret@{dir}/none.sock?db=3"],
)
def test_run_never_logs_the_redis_password_while_it_retries(tmp_path: Path, url: str) -> None:
    # Redis is down: the service logs its start and Celery its retries, every line masked.
    cfg = tmp_path / "config.yaml"
    redis_url = url.format(port=free_port(), dir=tmp_path)
    cfg.write_text(
        f"weather: null\ndisplay: {{driver: mock, output_dir: frames}}\nredis_url: '{redis_url}'\n"
    )
    log = tmp_path / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEBOARD_")}
    with log.open("w") as out:
        service = subprocess.Popen(
            [str(BIN), "run", "--config", str(cfg)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            deadline = time.monotonic() + 60
            while "Cannot connect" not in log.read_text() and time.monotonic() < deadline:
                assert service.poll() is None, log.read_text()
                time.sleep(0.1)
        finally:
            service.terminate()
            service.wait(timeout=60)
    text = log.read_text()
    assert "service starting" in text and "Cannot connect" in text, text
    assert ":***@" in text
    assert "s3cret" not in text


def test_state_ends_within_a_refreshs_fetch_budget_with_two_dripping_calendars(
    tmp_path: Path,
    fake_weather,  # type: ignore[no-untyped-def]
) -> None:
    # Each calendar alone is within its own deadline (15 s), but two of them would hold
    # `state` for 30 s: the whole fetch has a refresh's budget (60 % of refresh_timeout).
    from hostile_http import HostileServer

    with HostileServer(drip_interval=0.2, max_seconds=40) as hostile:
        config = tmp_path / "config.yaml"
        config.write_text(
            f"""timezone: America/Los_Angeles
location: {{latitude: 37.68, longitude: -121.77, name: Livermore}}
weather: {{base_url: "{fake_weather.url}"}}
display: {{driver: mock, output_dir: {tmp_path / "out"}}}
calendars:
  - {{name: Drip one, ics_url: "{hostile.url("/drip")}", deadline: 15s}}
  - {{name: Drip two, ics_url: "{hostile.url("/drip")}", deadline: 15s}}
schedule: {{refresh_timeout: 4s, lock_timeout: 10s}}
state_dir: {tmp_path / "state"}
""",
            encoding="utf-8",
        )
        started = time.monotonic()
        result = run("state", "--json", "--config", str(config), timeout=90)
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took < 4 * 0.6 + 6, took  # the budget (2.4 s), plus starting Python and drawing
    sources = json.loads(result.stdout)["sources"]
    assert sources["weather"]["status"] == "fresh" and sources["weather"]["last_error"] is None
    for name in ("Drip one", "Drip two"):
        assert sources[name]["status"] == "unavailable", sources[name]
        assert sources[name]["last_error"].startswith(f"{name}: "), sources[name]
