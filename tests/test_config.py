"""The config file: typed model, errors that name FILE:LINE and the field, lookup, schema."""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import free_port
from hypothesis import given, settings
from hypothesis import strategies as st

from homeboard import config as config_module
from homeboard.config import (
    DURATION_PATTERN,
    CalendarConfig,
    Config,
    DateRule,
    DisplayConfig,
    EventDate,
    GoogleCalendar,
    QuietHours,
    config_schema,
    find_config_path,
    format_duration,
    load_config,
    parse_duration,
    parse_event_date,
    parse_rule,
)
from homeboard.config import reader as config_reader
from homeboard.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.yaml"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, so problems read `config.yaml:LINE: ...`."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str, name: str = "config.yaml") -> Path:
    """Write dedented YAML to `name` in the current directory."""
    path = Path(name)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(text: str, *, env: dict[str, str] | None = None) -> Config:
    """Load YAML text from config.yaml, with an empty environment unless given."""
    return load_config(write(text), env={} if env is None else env)


def problems(text: str, *, env: dict[str, str] | None = None) -> list[str]:
    """The problem lines that loading this YAML text reports."""
    with pytest.raises(ConfigError) as info:
        load(text, env=env)
    return info.value.problems


# --------------------------------------------------------------------------- the model


def test_defaults_need_no_file() -> None:
    config = Config()
    assert config.board == "home"
    assert config.tz.key == "UTC"
    assert config.weather == config_module.WeatherConfig()
    assert config.calendars == ()
    assert config.display.driver == "waveshare_epd7in5b_v2"
    assert config.display.effective_min_interval == timedelta(seconds=180)
    assert config.schedule.interval == timedelta(minutes=15)
    assert config.schedule.quiet_hours is None
    assert hash(config) == hash(Config())


def test_mock_has_no_min_interval_unless_set() -> None:
    assert DisplayConfig(driver="mock").effective_min_interval == timedelta(0)
    mock = DisplayConfig(driver="mock", min_interval=timedelta(seconds=5))
    assert mock.effective_min_interval == timedelta(seconds=5)


def test_a_real_driver_is_its_own_panel() -> None:
    assert DisplayConfig(driver="waveshare_epd7in5b_v1").panel == "waveshare_epd7in5b_v1"
    mock = DisplayConfig(driver="mock", panel="waveshare_epd7in5b_hd")
    assert mock.panel == "waveshare_epd7in5b_hd"


def test_calendar_kind_and_label() -> None:
    ics = CalendarConfig(name="School", ics_url="https://example.org/s.ics")
    assert (ics.kind, ics.label) == ("ics", "School")
    google = CalendarConfig(
        name="Family", label="Fam", google=GoogleCalendar(credentials=Path("k"))
    )
    assert (google.kind, google.label) == ("google", "Fam")
    with pytest.raises(ValueError, match="has no ics_url, google or caldav"):
        _ = CalendarConfig(name="Nothing").kind


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        ("21:00", "07:00", ["21:00", "23:59", "00:00", "06:59"], ["07:00", "12:00", "20:59"]),
        ("01:00", "05:00", ["01:00", "04:59"], ["00:59", "05:00", "23:00"]),
    ],
)
def test_quiet_hours_cover_their_window(
    start: str, end: str, inside: list[str], outside: list[str]
) -> None:
    hours = QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end))
    assert [hours.covers(time.fromisoformat(t)) for t in inside] == [True] * len(inside)
    assert [hours.covers(time.fromisoformat(t)) for t in outside] == [False] * len(outside)


def test_rules_give_the_verified_dates() -> None:
    # Thanksgiving 2025-2030 and Memorial Day, against the published dates.
    thanksgiving = parse_rule("4th thursday of november")
    assert [thanksgiving.date_in(y) for y in range(2025, 2031)] == [
        date(2025, 11, 27), date(2026, 11, 26), date(2027, 11, 25),
        date(2028, 11, 23), date(2029, 11, 22), date(2030, 11, 28),
    ]  # fmt: skip
    memorial = parse_rule("Last Monday of May")
    assert [memorial.date_in(2025), memorial.date_in(2026)] == [
        date(2025, 5, 26),
        date(2026, 5, 25),
    ]
    assert parse_rule("2nd sun of may").date_in(2026) == date(2026, 5, 10)
    # February 2026 has four Sundays only.
    assert DateRule(nth=5, weekday=6, month=2).date_in(2026) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4th thursday in november", "is not a rule (use '<1st..5th or last> <weekday> of"),
        ("6th thursday of november", "'6th' is not 1st..5th or last"),
        ("4th thurday of november", "unknown weekday 'thurday' (did you mean 'thursday'?)"),
        ("last monday of mai", "unknown month 'mai' (did you mean 'may'?)"),
        ("thanksgiving", "is not a rule"),
    ],
)
def test_bad_rules_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_rule(text)
    assert message in str(info.value)


def test_event_dates() -> None:
    assert parse_event_date("03-14") == EventDate(month=3, day=14)
    assert parse_event_date("2016-03-14") == EventDate(month=3, day=14, year=2016)
    assert parse_event_date("02-29") == EventDate(month=2, day=29)
    assert parse_event_date("2000-02-29").year == 2000
    for bad in ("02-30", "2023-02-29", "13-01", "March 14", "2016/03/14"):
        with pytest.raises(ValueError):
            parse_event_date(bad)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5s", timedelta(seconds=5)),
        ("2s", timedelta(seconds=2)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        ("0s", timedelta(0)),
    ],
)
def test_durations_parse(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "m", "15", "15 minutes", "1.5h", "-5m", "30m1h", "1h1h", "15M", "1w", True, -3]
)
def test_bad_durations_are_refused(text: str | int) -> None:
    if text == "15":
        assert parse_duration(text) == timedelta(seconds=15)  # a bare number is seconds
        return
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_huge_duration_is_refused_not_crashed() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999d")


@given(st.integers(min_value=0, max_value=10**9 * 86400 // 100))
def test_durations_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    text = format_duration(value)
    assert re.fullmatch(r"([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?", text)
    assert parse_duration(text) == value


@given(st.text(alphabet="0123456789dhms x", max_size=12))
def test_schema_pattern_matches_the_parser(text: str) -> None:
    try:
        parse_duration(text)
        parsed = True
    except ValueError as error:
        if "too long" in str(error):
            return
        parsed = False
    assert bool(re.search(DURATION_PATTERN, text)) == parsed


# ------------------------------------------------------------------------ a good file


def test_example_loads_and_says_what_it_means() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.path == EXAMPLE
    assert config.tz.key == "America/Los_Angeles"
    assert (config.units, config.clock) == ("imperial", "12h")
    assert [(c.name, c.kind, c.color) for c in config.calendars] == [
        ("Family", "google", "black"),
        ("School", "ics", "red"),
        ("Soccer", "ics", "black"),
    ]
    assert config.calendars[1].refresh == timedelta(hours=1)
    thanksgiving = next(e for e in config.special_events if e.name == "Thanksgiving")
    assert thanksgiving.date_rule == DateRule(nth=4, weekday=3, month=11)
    assert config.special_events[0].event_date == EventDate(month=3, day=14, year=2016)
    assert config.holidays is not None and config.holidays.categories == ("public", "unofficial")
    assert config.schedule.quiet_hours == QuietHours(
        start=time(21, 0), end=time(7, 0), interval=timedelta(hours=1)
    )


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    # Written as `key:` on a line of its own, used or commented out.
    written = set(re.findall(r"^[ #-]*([a-z_]+):", text, flags=re.MULTILINE))
    schema = config_schema()
    every_key = set(schema["properties"])
    for definition in schema["$defs"].values():
        every_key |= set(definition["properties"])
    assert len(every_key) > 60
    assert every_key - written == set()


def test_a_full_config(in_tmp: Path) -> None:
    config = load(
        """\
        board: kitchen-2
        timezone: Europe/Berlin
        location: {latitude: 52.52, longitude: 13.405, name: Berlin}
        display:
          driver: mock
          output_dir: frames
          min_interval: 0
          pins: {rst: 5}
        weather:
          provider: nws
          contact: https://example.com/contact
          refresh: 30m
        calendars:
          - name: Work
            caldav: {url: "https://dav.example.com/", username: me, password_file: ~/dav.pw}
          - name: Local
            ics_url: cal/local.ics
          - name: Team
            ics_url: file:///srv/team.ics
        schedule:
          interval: 2s
          quiet_hours: {start: "22:30", end: "06:00"}
        redis_url: unix:///run/redis/redis.sock
        """
    )
    assert config.board == "kitchen-2"
    assert config.display.output_dir == in_tmp / "frames"  # relative to the config file
    assert config.display.effective_min_interval == timedelta(0)
    assert config.display.pins.rst == 5 and config.display.pins.dc == 25
    assert config.weather is not None and config.weather.refresh == timedelta(minutes=30)
    caldav = config.calendars[0].caldav
    assert caldav is not None and caldav.password_file == Path.home() / "dav.pw"
    assert config.calendars[1].ics_url == str(in_tmp / "cal" / "local.ics")
    assert config.calendars[2].ics_url == "file:///srv/team.ics"
    assert config.schedule.interval == timedelta(seconds=2)
    assert config.schedule.quiet_hours == QuietHours(start=time(22, 30), end=time(6, 0))


def test_an_empty_file_is_all_defaults_then_validated() -> None:
    assert problems("") == [
        "config.yaml:1: location: is required when weather is enabled (or set weather: null)"
    ]
    assert load("# nothing but a comment\nweather: null\n") == Config(weather=None)
    assert load("weather: {enabled: false}\n").weather_enabled is False


def test_empty_sections_mean_defaults() -> None:
    config = load("weather:\ncalendars:\ndisplay:\nschedule:\n")
    assert config == Config(weather=None)


def test_yaml_1_1_surprises_are_read_as_written() -> None:
    config = load(
        """\
        weather: null
        holidays: {country: NO, subdivision: 03}
        special_events:
          - {name: Midsummer, date: 2020-06-20}
        schedule:
          quiet_hours: {start: 21:00, end: 7:00}
        """
    )
    assert config.holidays is not None
    assert (config.holidays.country, config.holidays.subdivision) == ("NO", "03")
    assert config.special_events[0].date == "2020-06-20"
    assert config.schedule.quiet_hours == QuietHours(start=time(21, 0), end=time(7, 0))


def test_anchors_and_merge_keys() -> None:
    config = load(
        """\
        weather: null
        calendars:
          - &school
            name: School
            ics_url: https://example.org/school.ics
            color: red
            refresh: 1h
          - <<: *school
            name: Sports
            ics_url: https://example.org/sports.ics
        """
    )
    assert [(c.name, c.color, c.refresh) for c in config.calendars] == [
        ("School", "red", timedelta(hours=1)),
        ("Sports", "red", timedelta(hours=1)),
    ]


def test_remote_redis_needs_consent() -> None:
    for url in (
        "redis://localhost:6379/1",
        "redis://127.0.0.5/0",
        "redis://[::1]:6379",
    ):
        assert load(f"weather: null\nredis_url: '{url}'\n").redis_url == url
    text = "weather: null\nredis_url: redis://nas.example.com:6379/0\nallow_remote_redis: true\n"
    assert load(text).allow_remote_redis is True


# ------------------------------------------------------------------ errors, one by one

CASES = {
    "unknown key, did you mean": (
        """\
        weather: null
        timezon: Europe/Paris
        """,
        ["config.yaml:2: timezon: unknown key 'timezon' (did you mean 'timezone'?)"],
    ),
    "unknown key in a list item": (
        """\
        weather: null
        calendars:
          - name: Family
            ics_url: https://example.org/f.ics
          - name: School
            ics_url: https://example.org/s.ics
            colr: red
        """,
        ["config.yaml:7: calendars[1].colr: unknown key 'colr' (did you mean 'color'?)"],
    ),
    "unknown key, nothing close": (
        """\
        location:
          latitude: 1
          longitude: 2
          elevation: 300
        """,
        [
            "config.yaml:4: location.elevation: unknown key 'elevation'"
            " (valid keys: latitude, longitude, name)"
        ],
    ),
    "wrong types": (
        """\
        weather: null
        layout:
          days: four
          show_attribution: maybe
        board: [a, b]
        """,
        [
            "config.yaml:3: layout.days: must be a whole number, not 'four'",
            "config.yaml:4: layout.show_attribution: must be true or false, not 'maybe'",
            "config.yaml:5: board: must be text, not a list",
        ],
    ),
    "out of range": (
        """\
        location:
          latitude: 91
          longitude: -180.5
        layout: {days: 8}
        """,
        [
            "config.yaml:2: location.latitude: must be between -90 and 90, not 91.0",
            "config.yaml:3: location.longitude: must be between -180 and 180, not -180.5",
            "config.yaml:4: layout.days: must be between 1 and 7, not 8",
        ],
    ),
    "bad enum values": (
        """\
        weather: null
        units: metrc
        display:
          driver: epd7in5
        calendars:
          - {name: A, ics_url: a.ics, color: blue}
        """,
        [
            "config.yaml:2: units: must be one of metric, imperial, not 'metrc'"
            " (did you mean 'metric'?)",
            "config.yaml:4: display.driver: must be one of waveshare_epd7in5b_v2,"
            " waveshare_epd7in5b_v1, waveshare_epd7in5b_hd, mock, not 'epd7in5'",
            "config.yaml:6: calendars[0].color: must be one of black, red, not 'blue'",
        ],
    ),
    "bad durations": (
        """\
        weather: null
        schedule:
          interval: 15 minutes
          refresh_timeout: 0
        display: {busy_timeout: -5s}
        """,
        [
            "config.yaml:3: schedule.interval: '15 minutes' is not a duration"
            " (use e.g. 30s, 15m, 1h30m, 2d or a number of seconds)",
            "config.yaml:4: schedule.refresh_timeout: must be at least 1s, not 0s",
            "config.yaml:5: display.busy_timeout: '-5s' is not a duration"
            " (use e.g. 30s, 15m, 1h30m, 2d or a number of seconds)",
        ],
    ),
    "bad time zone": (
        """\
        weather: null
        timezone: America/LosAngeles
        """,
        [
            "config.yaml:2: timezone: unknown time zone 'America/LosAngeles'"
            " (use an IANA name; did you mean 'America/Los_Angeles'?)"
        ],
    ),
    "bad times": (
        """\
        weather: null
        schedule:
          quiet_hours:
            start: 7pm
            end: "24:00"
        """,
        [
            "config.yaml:4: schedule.quiet_hours.start: '7pm' is not a time of day"
            " (use HH:MM in 24-hour form, e.g. 07:00)",
            "config.yaml:5: schedule.quiet_hours.end: '24:00' is not a time of day"
            " (use HH:MM in 24-hour form, e.g. 07:00)",
        ],
    ),
    "missing required fields": (
        """\
        weather: null
        location:
          latitude: 48.85
        holidays: {}
        calendars:
          - ics_url: https://example.org/a.ics
        """,
        [
            "config.yaml:2: location.longitude: is required",
            "config.yaml:4: holidays.country: is required",
            "config.yaml:6: calendars[0].name: is required",
        ],
    ),
    "mutually exclusive and missing sources": (
        """\
        weather: null
        calendars:
          - name: Family
            ics_url: https://example.org/f.ics
            google:
              credentials: key.json
          - name: Nothing
            color: red
        special_events:
          - name: Both
            date: 05-01
            rule: 1st monday of may
          - name: Neither
        """,
        [
            "config.yaml:5: calendars[0].google: cannot be combined with ics_url"
            " (give exactly one of ics_url, google, caldav)",
            "config.yaml:7: calendars[1]: needs one of ics_url, google, caldav",
            "config.yaml:12: special_events[0].rule: cannot be combined with date"
            " (give exactly one of date, rule)",
            "config.yaml:13: special_events[1]: needs one of date, rule",
        ],
    ),
    "duplicate calendar names": (
        """\
        weather: null
        calendars:
          - name: Family
            ics_url: https://example.org/a.ics
          - name: School
            ics_url: https://example.org/b.ics
          - name: Family
            ics_url: https://example.org/c.ics
        """,
        [
            "config.yaml:7: calendars[2].name: duplicate name 'Family'"
            " (already used by calendars[0])"
        ],
    ),
    "duplicate keys": (
        """\
        weather: null
        board: one
        board: two
        """,
        ["config.yaml:3: board: duplicate key 'board' (first given on line 2)"],
    ),
    "inline secrets": (
        """\
        weather:
          api_key: abc123
        location: {latitude: 1, longitude: 2}
        calendars:
          - name: Work
            caldav:
              url: https://dav.example.com/
              username: sam
              password: hunter2
        """,
        [
            "config.yaml:2: weather.api_key: secrets are not written in the config file:"
            " put the api_key in a file only the service can read, and give its path as"
            " api_key_file",
            "config.yaml:9: calendars[0].caldav.password: secrets are not written in the config"
            " file: put the password in a file only the service can read, and give its path"
            " as password_file",
        ],
    ),
    "urls": (
        """\
        weather:
          base_url: ftp://weather.example.com
        location: {latitude: 1, longitude: 2}
        calendars:
          - {name: A, ics_url: "gopher://example.org/a.ics"}
          - {name: B, ics_url: "https:///no-host.ics"}
          - {name: C, caldav: {url: dav.example.com}}
        redis_url: http://127.0.0.1:6379
        """,
        [
            "config.yaml:2: weather.base_url: 'ftp://weather.example.com' is not an http/https"
            " URL (e.g. https://example.com/...)",
            "config.yaml:5: calendars[0].ics_url: unsupported URL scheme 'gopher'"
            " (use http, https, webcal or file, or a file path)",
            "config.yaml:6: calendars[1].ics_url: 'https:///no-host.ics' has no host name",
            "config.yaml:7: calendars[2].caldav.url: 'dav.example.com' is not an http/https URL"
            " (e.g. https://example.com/...)",
            "config.yaml:8: redis_url: 'http://127.0.0.1:6379' is not a redis://, rediss:// or"
            " unix:// URL (e.g. redis://127.0.0.1:6379/0)",
        ],
    ),
    "nws needs a contact": (
        """\
        location: {latitude: 38.9, longitude: -77.0}
        weather:
          provider: nws
          api_key_file: key.txt
        """,
        [
            "config.yaml:2: weather.contact: is required for the nws provider (an e-mail"
            " address or URL for the User-Agent, as api.weather.gov asks)",
            "config.yaml:4: weather.api_key_file: only applies to the open-meteo provider",
        ],
    ),
    "refresh longer than max_age": (
        """\
        weather: null
        calendars:
          - name: Big
            ics_url: https://example.org/big.ics
            refresh: 6h
        """,
        [
            "config.yaml:5: calendars[0].refresh: must be shorter than max_age (6h), or the"
            " data turns stale between fetches"
        ],
    ),
    "basic auth is for ics only": (
        """\
        weather: null
        calendars:
          - name: Family
            google: {credentials: key.json}
            username: me
        """,
        [
            "config.yaml:5: calendars[0].username: only applies to ics_url"
            " (for caldav, put it under caldav)"
        ],
    ),
    "lock must outlive a refresh": (
        """\
        weather: null
        schedule:
          refresh_timeout: 10m
          lock_timeout: 10m
        """,
        [
            "config.yaml:4: schedule.lock_timeout: must be longer than refresh_timeout (10m),"
            " or a slow refresh loses its lock to the next one"
        ],
    ),
    "remote redis": (
        """\
        weather: null
        redis_url: redis://nas.example.com:6379/0
        """,
        [
            "config.yaml:2: redis_url: host 'nas.example.com' is not this machine; the board"
            " keeps its lock and cache in a local Redis (set allow_remote_redis: true if you"
            " mean it)"
        ],
    ),
    "special events": (
        """\
        weather: null
        special_events:
          - {name: A, date: 02-30}
          - {name: B, date: 2023-02-29}
          - {name: C, kind: birthday, rule: 2nd sunday of may}
          - {name: D, kind: anniversary, date: 06-20, message: "{years} years"}
          - {name: E, date: 01-01, message: "Hello {nmae}"}
          - {name: F, kind: party, date: 01-01}
          - {name: "", date: 01-01}
        """,
        [
            "config.yaml:3: special_events[0].date: '02-30' is not a date on the calendar",
            "config.yaml:4: special_events[1].date: '2023-02-29' is not a date on the calendar",
            "config.yaml:5: special_events[2].rule: a birthday falls on its date each year:"
            " give date, not rule",
            "config.yaml:6: special_events[3].message: {years} and {age} need a date with a year"
            " (YYYY-MM-DD)",
            "config.yaml:7: special_events[4].message: unknown placeholder {nmae}"
            " (use {name}, {years} or {age})",
            "config.yaml:8: special_events[5].kind: must be one of birthday, anniversary,"
            " holiday, event, not 'party'",
            "config.yaml:9: special_events[6].name: must not be empty",
        ],
    ),
    "holidays": (
        """\
        weather: null
        holidays:
          country: us
          categories: [public, Bank Holidays]
        """,
        [
            "config.yaml:3: holidays.country: 'us' is not an upper-case two-letter country code"
            " (e.g. US)",
            "config.yaml:4: holidays.categories[1]: 'Bank Holidays' is not a category name"
            " (e.g. public, unofficial)",
        ],
    ),
    "no holiday categories": (
        "weather: null\nholidays: {country: US, categories: []}\n",
        [
            "config.yaml:2: holidays.categories: must name at least one category"
            " (or set holidays: null)"
        ],
    ),
    "pins": (
        """\
        weather: null
        display:
          pins:
            dc: 17
            busy: 28
        """,
        ["config.yaml:5: display.pins.busy: must be between 0 and 27, not 28"],
    ),
    "shared pins": (
        """\
        weather: null
        display:
          pins:
            dc: 17
        """,
        ["config.yaml:4: display.pins.dc: GPIO 17 is already used by rst"],
    ),
    "board name": (
        "weather: null\nboard: Home Board\n",
        [
            "config.yaml:2: board: 'Home Board' is not a board name"
            " (a-z, 0-9, _ and -, up to 32 characters)"
        ],
    ),
    "sections of the wrong shape": (
        """\
        weather: null
        display: mock
        calendars:
          name: Family
        special_events:
          - just a name
        """,
        [
            "config.yaml:2: display: must be a mapping (key: value lines), not 'mock'",
            "config.yaml:3: calendars: must be a list, not a mapping",
            "config.yaml:6: special_events[0]: must be a mapping (key: value lines),"
            " not 'just a name'",
        ],
    ),
    "a key with no value": (
        "weather: null\nboard:\ntimezone: ~\n",
        [
            "config.yaml:2: board: must have a value (remove the line to use the default)",
            "config.yaml:3: timezone: must have a value (remove the line to use the default)",
        ],
    ),
    "quiet hours that are empty": (
        """\
        weather: null
        schedule:
          quiet_hours: {start: "06:00", end: "06:00"}
        """,
        [
            "config.yaml:3: schedule.quiet_hours.end: equals start, so the window is empty"
            " (remove quiet_hours instead)"
        ],
    ),
    "unsafe yaml tags": (
        "weather: null\nseasons: !!python/name:os.system\n",
        [
            "config.yaml:2: seasons: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not"
            " supported here"
        ],
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_problem_names_the_line_and_the_field(case: str) -> None:
    text, expected = CASES[case]
    assert problems(text) == expected


def test_a_time_zone_directory_is_no_zone() -> None:
    # The suggestion depends on the installed time zone database; the start does not.
    (line,) = problems("weather: null\ntimezone: America\n")
    assert line.startswith("config.yaml:2: timezone: unknown time zone 'America' (use an IANA")


def test_every_problem_is_reported_at_once() -> None:
    assert problems(
        """\
        board: Home
        timezone: Mars/Olympus_Mons
        units: metrc
        location:
          latitude: 91
          longitude: east
        weather:
          provider: nws
          max_age: 3 hours
        calendars:
          - name: Family
            ics_url: https://example.org/family.ics
            colr: red
          - name: Family
            ics_url: https://example.org/other.ics
        schedule:
          interval: 0
          lock_timeout: 1m
        """
    ) == [
        "config.yaml:1: board: 'Home' is not a board name (a-z, 0-9, _ and -, up to 32 characters)",
        "config.yaml:2: timezone: unknown time zone 'Mars/Olympus_Mons' (use an IANA name;"
        " e.g. Europe/Paris)",
        "config.yaml:3: units: must be one of metric, imperial, not 'metrc'"
        " (did you mean 'metric'?)",
        "config.yaml:5: location.latitude: must be between -90 and 90, not 91.0",
        "config.yaml:6: location.longitude: must be a number, not 'east'",
        "config.yaml:7: weather.contact: is required for the nws provider (an e-mail address"
        " or URL for the User-Agent, as api.weather.gov asks)",
        "config.yaml:9: weather.max_age: '3 hours' is not a duration (use e.g. 30s, 15m,"
        " 1h30m, 2d or a number of seconds)",
        "config.yaml:13: calendars[0].colr: unknown key 'colr' (did you mean 'color'?)",
        "config.yaml:14: calendars[1].name: duplicate name 'Family' (already used by calendars[0])",
        "config.yaml:17: schedule.interval: must be at least 1s, not 0s",
        "config.yaml:18: schedule.lock_timeout: must be longer than refresh_timeout (5m),"
        " or a slow refresh loses its lock to the next one",
    ]


def test_the_icon_list_comes_from_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # (Languages are CLDR's, checked in tests/test_i18n.py.)
    text = """\
        weather: null
        special_events:
          - {name: A, date: 01-01, icon: cake}
        """
    fake_icons = types.SimpleNamespace(ICON_NAMES=("birthday", "heart"))
    monkeypatch.setitem(sys.modules, "homeboard.render.icons", fake_icons)
    assert problems(text) == [
        "config.yaml:3: special_events[0].icon: must be one of birthday, heart, not 'cake'",
    ]
    # Without that module: any icon name.
    monkeypatch.setitem(sys.modules, "homeboard.render.icons", None)
    assert load(text).special_events[0].icon == "cake"


# --------------------------------------------------------------- files that are not YAML


def test_yaml_syntax_errors_give_the_line() -> None:
    assert problems("weather: null\nlocation:\n  latitude: 1\n longitude: 2\n") == [
        "config.yaml:4: yaml: while parsing a block mapping on line 1: expected <block end>,"
        " but found '<block mapping start>' (check the indentation)"
    ]
    assert problems('weather: null\nboard: "home\n') == [
        "config.yaml:3: yaml: while scanning a quoted scalar on line 2: found unexpected end"
        " of stream"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- board: home\n") == [
        "config.yaml:1: (top level): must be a mapping of settings (key: value lines), not a list"
    ]
    assert problems("just words\n") == [
        "config.yaml:1: (top level): must be a mapping of settings (key: value lines),"
        " not 'just words'"
    ]


def test_unreadable_files(in_tmp: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(Path("missing.yaml"), env={})
    assert info.value.problems == ["missing.yaml: cannot read: No such file or directory"]
    assert info.value.exit_code == 2
    Path("adir").mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(Path("adir"), env={})
    assert info.value.problems == ["adir: cannot read: Is a directory"]
    Path("latin1.yaml").write_bytes(b"weather: null\nboard: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(Path("latin1.yaml"), env={})
    assert info.value.problems == [
        "latin1.yaml: cannot read: not UTF-8 text (byte 0xe9 at offset 24)"
    ]


def test_file_is_named_as_given(in_tmp: Path) -> None:
    path = in_tmp / "sub" / "home.yaml"
    path.parent.mkdir()
    path.write_text("weather: null\nunits: si\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems == [f"{path}:2: units: must be one of metric, imperial, not 'si'"]


keys = st.sampled_from(
    ["board", "timezone", "location", "latitude", "weather", "calendars", "name", "ics_url",
     "google", "schedule", "interval", "quiet_hours", "start", "display", "driver", "pins",
     "special_events", "date", "rule", "message", "holidays", "country", "<<", "redis_url"]
)  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
    st.sampled_from(["15m", "21:00", "02-29", "{age}", "{", "redis://[::1", "mock", "US"]),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(documents.map(lambda d: yaml.safe_dump(d)), st.text(max_size=60)))
def test_never_a_traceback(text: str) -> None:
    Path("fuzz.yaml").write_text(text, encoding="utf-8")
    try:
        config = load_config(Path("fuzz.yaml"), env={})
    except ConfigError as error:
        assert error.problems
        for line in error.problems:
            assert line.startswith("fuzz.yaml:"), line
    else:
        assert isinstance(config, Config)


# -------------------------------------------------------------------- the environment


DISPLAY_FILE = """\
weather: null
display:
  driver: waveshare_epd7in5b_hd
"""


def test_display_env_overrides_the_driver() -> None:
    config = load(DISPLAY_FILE, env={"HOMEBOARD_DISPLAY": "mock"})
    assert config.display.driver == "mock"
    # The mock emulates the panel the file names.
    assert config.display.panel == "waveshare_epd7in5b_hd"
    assert config.display.effective_min_interval == timedelta(0)
    assert load(DISPLAY_FILE, env={"HOMEBOARD_DISPLAY": ""}).display.driver == (
        "waveshare_epd7in5b_hd"
    )
    assert load("weather: null\n", env={"HOMEBOARD_DISPLAY": "mock"}).display.driver == "mock"


def test_display_env_is_validated_like_the_file() -> None:
    assert problems(DISPLAY_FILE + "units: si\n", env={"HOMEBOARD_DISPLAY": "epd"}) == [
        "config.yaml:4: units: must be one of metric, imperial, not 'si'",
        "$HOMEBOARD_DISPLAY: display.driver: must be one of waveshare_epd7in5b_v2,"
        " waveshare_epd7in5b_v1, waveshare_epd7in5b_hd, mock, not 'epd'",
    ]


def test_load_config_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEBOARD_DISPLAY", "mock")
    assert load_config(write(DISPLAY_FILE)).display.driver == "mock"


@pytest.fixture
def places(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Stand-ins for /etc/homeboard/config.yaml and ./config.yaml."""
    etc = in_tmp / "etc" / "config.yaml"
    etc.parent.mkdir()
    monkeypatch.setattr(config_reader, "DEFAULT_CONFIG_PATHS", (etc, Path("config.yaml")))
    return etc, Path("config.yaml")


def test_lookup_order(places: tuple[Path, Path]) -> None:
    etc, local = places
    local.write_text("weather: null\n")
    assert find_config_path(None, env={}) == local
    etc.write_text("weather: null\n")
    assert find_config_path(None, env={}) == etc
    assert find_config_path(None, env={"HOMEBOARD_CONFIG": "env.yaml"}) == Path("env.yaml")
    assert find_config_path("cli.yaml", env={"HOMEBOARD_CONFIG": "env.yaml"}) == Path("cli.yaml")
    assert find_config_path(None, env={"HOMEBOARD_CONFIG": ""}) == etc


def test_a_named_file_is_never_replaced_by_another(places: tuple[Path, Path]) -> None:
    etc, _ = places
    etc.write_text("weather: null\n")
    path = find_config_path(None, env={"HOMEBOARD_CONFIG": "typo.yaml"})
    assert path == Path("typo.yaml")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems == ["typo.yaml: cannot read: No such file or directory"]


def test_nothing_found_lists_the_places(places: tuple[Path, Path]) -> None:
    etc, _ = places
    with pytest.raises(ConfigError) as info:
        find_config_path(None, env={})
    assert info.value.problems == [
        f"no config file found: --config not given, $HOMEBOARD_CONFIG not set, and none of"
        f" {etc}, config.yaml exists (start from config.example.yaml)"
    ]


def test_find_config_path_reads_os_environ_by_default(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEBOARD_CONFIG", "from-env.yaml")
    assert find_config_path(None) == Path("from-env.yaml")


# ------------------------------------------------------------------------- the schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_describes_the_file(validator: jsonschema.Draft202012Validator) -> None:
    schema = validator.schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] == "Home Board configuration"
    assert schema["additionalProperties"] is False
    assert "path" not in schema["properties"]
    board = schema["properties"]["board"]
    assert (board["default"], board["description"]) == (
        "home",
        "Name of this board; namespaces its keys in Redis.",
    )
    calendar = schema["$defs"]["CalendarConfig"]
    assert calendar["required"] == ["name"]
    assert calendar["properties"]["color"]["enum"] == ["black", "red"]
    assert schema["$defs"]["Schedule"]["properties"]["interval"]["default"] == "15m"
    # Every model is closed to unknown keys.
    assert all(d["additionalProperties"] is False for d in schema["$defs"].values())


def test_schema_accepts_the_example(validator: jsonschema.Draft202012Validator) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []


def _errors(validator: jsonschema.Draft202012Validator, data: object) -> list[str]:
    return sorted(e.message for e in validator.iter_errors(data))


def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator,
) -> None:
    ics = {"name": "A", "ics_url": "https://example.org/a.ics"}
    assert _errors(validator, {"timezon": "UTC"}) == [
        "Additional properties are not allowed ('timezon' was unexpected)"
    ]
    assert _errors(validator, {"calendars": [{**ics, "colr": "red"}]}) == [
        "Additional properties are not allowed ('colr' was unexpected)"
    ]
    assert _errors(validator, {"units": "metrc"}) == [
        "'metrc' is not one of ['metric', 'imperial']"
    ]
    assert _errors(validator, {"schedule": {"interval": "15 minutes"}})
    assert _errors(validator, {"location": {"latitude": 91, "longitude": 0}})
    assert _errors(validator, {"calendars": [{"name": "A"}]})  # no source
    both = {**ics, "google": {"credentials": "k.json"}}
    assert _errors(validator, {"calendars": [both]})
    assert _errors(validator, {"calendars": [{**ics, "google": None}]}) == []
    assert _errors(validator, {"schedule": {"interval": 30, "quiet_hours": None}}) == []


def test_a_calendar_cannot_take_another_source_s_name(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("weather: null\ncalendars:\n  - name: weather\n    ics_url: file:///dev/null\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        f"{path}:3: calendars[0].name: 'weather' is the name of another source; choose another name"
    ]


# ------------------------------------------------------- what check-config accepts runs

# Each of these passed the loader once, then `run` died at start-up (a TypeError from
# kombu or redis-py, restarted every 5 s), silently used another database, or sent the
# password to DNS. Each line is what the user reads; no line shows a password.
BAD_REDIS_URLS = {
    "redis://127.0.0.1:6379/0?socket_timeout=5": (
        "'redis://127.0.0.1:6379/0?socket_timeout=5': option 'socket_timeout' is not"
        " supported (the board sets Redis's timeouts itself)"
    ),
    "redis://127.0.0.1:6379/0?password=s3cret": (
        "'redis://127.0.0.1:6379/0?password=***': option 'password' is not supported; write"
        " the credentials before the host: redis://USER:PASSWORD@127.0.0.1:6379/0"
    ),
    "redis://127.0.0.1:6379?db=2": (
        "'redis://127.0.0.1:6379?db=2': option 'db' only applies to unix:// URLs"
    ),
    "redis:/:s3cret@127.0.0.1:6379/0": (
        "'redis:/:***@127.0.0.1:6379/0' is not a redis://, rediss:// or unix:// URL"
        " (e.g. redis://127.0.0.1:6379/0)"
    ),
    "redis//:s3cret@127.0.0.1:6379/0": (
        "'***@127.0.0.1:6379/0' is not a redis://, rediss:// or unix:// URL"
        " (e.g. redis://127.0.0.1:6379/0)"
    ),
    "redis://s3cret@127.0.0.1:6379/0": (
        "'redis://***@127.0.0.1:6379/0' gives a user name but no password (a password alone"
        " is written redis://:PASSWORD@host, a user and password redis://USER:PASSWORD@host)"
    ),
    "redis://": "'redis://' names no host (e.g. redis://127.0.0.1:6379/0)",
    "redis://:s3cret@/0": "'redis://:***@/0' names no host (e.g. redis://127.0.0.1:6379/0)",
    "redis://127.0.0.1:99999/0": (
        "'redis://127.0.0.1:***/0': the port is not a number from 1 to 65535"
    ),
    "redis://127.0.0.1:port/0": (
        "'redis://127.0.0.1:***/0': the port is not a number from 1 to 65535"
    ),
    "redis://:s3cret/0": "'redis://:***/0': the port is not a number from 1 to 65535",
    "redis://me:s3cret/0": "'redis://me:***/0': the port is not a number from 1 to 65535",
    "redis://127.0.0.1:0/0": ("'redis://127.0.0.1:0/0': the port is not a number from 1 to 65535"),
    "redis://127.0.0.1:6379/16": (
        "'redis://127.0.0.1:6379/16': database '16' is not a number from 0 to 15"
        " (redis-server's databases)"
    ),
    "redis://127.0.0.1:6379/home": (
        "'redis://127.0.0.1:6379/home': database 'home' is not a number from 0 to 15"
        " (redis-server's databases)"
    ),
    "redis://127.0.0.1:6379/0#x": "'redis://127.0.0.1:6379/0#x' has a '#' part, which Redis"
    " URLs do not have",
    "redis://127.0.0.1:6379/0?ssl_cert_reqs=none": (
        "'redis://127.0.0.1:6379/0?ssl_cert_reqs=none': option 'ssl_cert_reqs' only applies"
        " to rediss:// URLs"
    ),
    "rediss://127.0.0.1:6379/0?ssl_cert_reqs=CERT_NONE": (
        "'rediss://127.0.0.1:6379/0?ssl_cert_reqs=CERT_NONE': ssl_cert_reqs must be one of"
        " required, optional, none, not 'CERT_NONE'"
    ),
    "rediss://127.0.0.1:6379/0?ssl_check_hostname=no": (
        "'rediss://127.0.0.1:6379/0?ssl_check_hostname=no': ssl_check_hostname must be true"
        " or false, not 'no'"
    ),
    "rediss://127.0.0.1:6379/0?ssl_ca_certs=ca.pem": (
        "'rediss://127.0.0.1:6379/0?ssl_ca_certs=ca.pem': ssl_ca_certs must be an absolute"
        " file path, not 'ca.pem'"
    ),
    "rediss://127.0.0.1:6379/0?ssl_ca_certs=": (
        "'rediss://127.0.0.1:6379/0?ssl_ca_certs=': option 'ssl_ca_certs' has no value"
    ),
    "unix:///run/redis/redis.sock?db=1&db=2": (
        "'unix:///run/redis/redis.sock?db=1&db=2': option 'db' is given twice"
    ),
    "unix:///run/redis/redis.sock?db=99": (
        "'unix:///run/redis/redis.sock?db=99': database '99' is not a number from 0 to 15"
        " (redis-server's databases)"
    ),
    "unix://localhost/run/redis/redis.sock": (
        "'unix://localhost/run/redis/redis.sock' names a host; a socket URL is"
        " unix:///path/to/redis.sock"
    ),
    "unix://": "'unix://' names no socket path (e.g. unix:///run/redis/redis.sock)",
    "redis://127.0.0.1 :6379/0": "'redis://127.0.0.1 :6379/0' contains a space",
}


@pytest.mark.parametrize("url", list(BAD_REDIS_URLS))
def test_a_redis_url_that_cannot_run_is_refused_with_its_password_masked(url: str) -> None:
    found = problems(f"weather: null\nredis_url: '{url}'\n")
    assert found == [f"config.yaml:2: redis_url: {BAD_REDIS_URLS[url]}"]
    assert "s3cret" not in found[0]


# Durations in the hundreds of years overflowed date arithmetic and Redis expiries at run
# time; each is bounded where the loader can say so.
DURATION_BOUNDS = {
    "display.min_interval": "1d",
    "display.busy_timeout": "10m",
    "weather.max_age": "7d",
    "weather.refresh": "1d",
    "weather.timeout": "5m",
    "calendars[0].max_age": "30d",
    "calendars[0].refresh": "7d",
    "calendars[0].timeout": "5m",
    "schedule.interval": "1d",
    "schedule.quiet_hours.interval": "1d",
    "schedule.lock_timeout": "1h",
    "schedule.refresh_timeout": "10m",
}


def durations_config(values: dict[str, str]) -> str:
    """A config that sets every bounded duration, from field path to text."""
    v = {f: "1s" for f in DURATION_BOUNDS}
    v |= {"weather.max_age": "1h", "calendars[0].max_age": "1h", "schedule.lock_timeout": "20m"}
    v |= values
    quiet = v["schedule.quiet_hours.interval"]
    return f"""\
location: {{latitude: 1, longitude: 2}}
display:
  min_interval: {v["display.min_interval"]}
  busy_timeout: {v["display.busy_timeout"]}
weather:
  max_age: {v["weather.max_age"]}
  refresh: {v["weather.refresh"]}
  timeout: {v["weather.timeout"]}
calendars:
  - name: Family
    ics_url: https://example.org/family.ics
    max_age: {v["calendars[0].max_age"]}
    refresh: {v["calendars[0].refresh"]}
    timeout: {v["calendars[0].timeout"]}
schedule:
  interval: {v["schedule.interval"]}
  quiet_hours: {{start: "21:00", end: "07:00", interval: {quiet}}}
  lock_timeout: {v["schedule.lock_timeout"]}
  refresh_timeout: {v["schedule.refresh_timeout"]}
"""


@pytest.mark.parametrize("field", list(DURATION_BOUNDS))
def test_a_duration_past_its_bound_is_refused_at_its_line(field: str) -> None:
    text = durations_config({field: "999999999d"})
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "999999999d" in row)
    assert problems(text) == [
        f"config.yaml:{line}: {field}: must be at most {DURATION_BOUNDS[field]}, not 999999999d"
    ]


def test_every_duration_at_its_bound_loads_and_computes() -> None:
    config = load(durations_config(DURATION_BOUNDS))
    assert config.schedule.refresh_timeout == timedelta(minutes=10)
    assert config.calendars[0].max_age == timedelta(days=30)
    # What the service does with them: a date past the longest one, a Redis expiry.
    longest = max(config.calendars[0].max_age, config.display.min_interval)
    assert datetime.now(config.tz) + longest > datetime.now(config.tz)


def test_schema_bounds_durations_like_the_loader() -> None:
    schedule = config_schema()["$defs"]["Schedule"]["properties"]["refresh_timeout"]
    assert {"type": "integer", "minimum": 1, "maximum": 600} in schedule["anyOf"]


def listening(port: int) -> Callable[[], bool]:
    """A check that something accepts connections on loopback ``port``."""

    def accepting() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    return accepting


def start_redis(workdir: Path, *args: str, ready: Callable[[], bool]) -> subprocess.Popen[bytes]:
    """A real redis-server with extra arguments (a socket, TLS), once `ready()` says so."""
    workdir.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed; see README.md"
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(workdir / "redis.log"),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = monotonic() + 10
    while monotonic() < deadline and proc.poll() is None:
        if ready():
            return proc
        sleep(0.02)
    proc.kill()
    proc.wait()
    log = (workdir / "redis.log").read_text(errors="replace")[-500:]
    raise RuntimeError(f"redis-server {' '.join(args)} did not start: {log}")


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started by `start_redis`."""
    proc.terminate()
    proc.wait(timeout=10)


def databases_seen(config: Config) -> tuple[int, int]:
    """The database the board's redis-py client and Celery's broker connection land in."""
    from homeboard.app import build_app
    from homeboard.tasks import create_celery

    app = build_app(config)
    try:
        client = app.redis()
        client.ping()
        lock_db = int(client.client_info()["db"])
        celery = create_celery(app)
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
            broker_db = int(connection.default_channel.client.client_info()["db"])
    finally:
        app.close()
    return lock_db, broker_db


def test_an_accepted_tcp_url_runs_both_clients_on_its_database(redis_server: Any) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/3"
    assert databases_seen(load(f"weather: null\nredis_url: '{url}'\n")) == (3, 3)


def test_a_password_with_url_characters_reaches_both_clients(tmp_path: Path) -> None:
    # Percent-escapes in the password are read the same way by redis-py and kombu.
    port = free_port()

    proc = start_redis(
        tmp_path / "pw", "--port", str(port), "--requirepass", "p@ss:w/rd", ready=listening(port)
    )
    try:
        url = f"redis://:p%40ss%3Aw%2Frd@127.0.0.1:{port}/2"
        assert databases_seen(load(f"weather: null\nredis_url: '{url}'\n")) == (2, 2)
    finally:
        stop_redis(proc)


def test_an_accepted_unix_socket_url_runs_both_clients_on_its_database(tmp_path: Path) -> None:
    # The documented unix:// form: redis-py refused its TCP keepalive option and kombu
    # has no `unix` transport (and would ignore `db`).
    sock = tmp_path / "r" / "redis.sock"
    proc = start_redis(
        tmp_path / "r",
        "--port",
        "0",
        "--unixsocket",
        str(sock),
        "--unixsocketperm",
        "700",
        ready=sock.exists,
    )
    try:
        for url, db in ((f"unix://{sock}?db=5", 5), (f"unix://{sock}", 0)):
            assert databases_seen(load(f"weather: null\nredis_url: '{url}'\n")) == (db, db)
    finally:
        stop_redis(proc)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A redis-server speaking TLS only, with a certificate for 127.0.0.1 from a test CA."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make the test certificates")
    d = tmp_path / "tls"
    d.mkdir()

    def ssl(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True)

    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=homeboard test CA",
    )
    ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ssl(
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.crt",
        "-days",
        "2",
        "-extfile",
        "ext",
    )
    port = free_port()

    proc = start_redis(
        d,
        "--port",
        "0",
        "--tls-port",
        str(port),
        "--tls-cert-file",
        str(d / "srv.crt"),
        "--tls-key-file",
        str(d / "srv.key"),
        "--tls-ca-cert-file",
        str(d / "ca.crt"),
        "--tls-auth-clients",
        "optional",
        ready=listening(port),
    )
    try:
        yield port, d
    finally:
        stop_redis(proc)


def test_accepted_tls_urls_run_both_clients_on_their_database(
    tls_redis: tuple[int, Path],
) -> None:
    port, d = tls_redis
    ca = d / "ca.crt"
    for query, db in (
        (f"ssl_ca_certs={ca}", 2),
        ("ssl_cert_reqs=none", 4),
        (f"ssl_cert_reqs=required&ssl_ca_certs={ca}&ssl_check_hostname=true", 1),
        (
            f"ssl_cert_reqs=optional&ssl_ca_certs={ca}&ssl_check_hostname=false"
            f"&ssl_certfile={d / 'srv.crt'}&ssl_keyfile={d / 'srv.key'}",
            7,
        ),
    ):
        url = f"rediss://localhost:{port}/{db}?{query}"
        assert databases_seen(load(f"weather: null\nredis_url: '{url}'\n")) == (db, db), url


@pytest.mark.parametrize(
    "query",
    ["socket_timeout=5", "password=pw", "db=2", "socket_keepalive=true", "ssl_cert_reqs=none"],
)
def test_what_the_loader_refuses_really_breaks_a_client(redis_server: Any, query: str) -> None:
    # Why the options are refused: each one breaks redis-py or the broker (TypeError,
    # KeyError) or lands the two in different databases.
    url = f"redis://127.0.0.1:{redis_server.port}/0?{query}"
    assert problems(f"weather: null\nredis_url: '{url}'\n")
    try:
        seen = databases_seen(dataclasses.replace(Config(weather=None), redis_url=url))
    except (TypeError, KeyError, ValueError):
        return
    assert seen[0] != seen[1], f"{url} runs: the loader need not refuse it"


# ----------------------------------------------------------------- hostile files


def merge_bomb(levels: int) -> str:
    """Nine merges of the level below per level: 9**levels mappings from a few lines."""
    lines = ["weather: null", "x0: &a0 {interval: 15m}"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"x{level}: &a{level} {{<<: [{refs}]}}")
    lines.append(f"schedule: {{<<: *a{levels}}}")
    return "\n".join(lines) + "\n"


def test_a_merge_key_bomb_fails_fast_with_its_line() -> None:
    text = merge_bomb(7)
    assert len(text) < 800
    # 9**7 mappings: minutes of work (and growing 9x per level) without a bound.
    assert problems(text) == [
        "config.yaml:3: yaml: '<<' merges expand to more than 1000 mappings (aliases nested"
        " in merges multiply); write the settings out or merge fewer levels"
    ]


def test_a_big_household_of_merges_still_loads() -> None:
    # 60 calendars, each merging two anchors (one of them merges a third): 180 merges.
    rows = [
        "weather: null",
        "calendars:",
        "  - &ink {name: C0, ics_url: 'https://example.org/0.ics', color: red}",
        "  - &age {<<: *ink, name: C1, max_age: 1d}",
    ]
    rows += [f"  - {{<<: [*age, *ink], name: C{i}}}" for i in range(2, 62)]
    config = load("\n".join(rows) + "\n")
    assert len(config.calendars) == 62
    assert {(c.color, c.max_age) for c in config.calendars[1:]} == {("red", timedelta(days=1))}


def test_deep_nesting_is_a_clear_error_not_a_crash() -> None:
    assert problems("weather: " + "[" * 5000 + "]" * 5000 + "\n") == [
        "config.yaml:1: yaml: lists or mappings nested too deeply"
    ]
