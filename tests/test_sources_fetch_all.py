"""fetch_all: each source fails alone, refresh intervals, changed_at, logged once, counts."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sources_fixtures import (
    LA,
    NOW,
    data,
    read_bytes,
    read_json,
    requests_to,
    session,
    write_config,
)

from homeboard.errors import SourceError
from homeboard.model import (
    SPECIAL,
    WEATHER,
    CalendarEvent,
    Snapshot,
    calendar_source,
    compose,
    snapshot_from_json,
    snapshot_to_json,
)
from homeboard.sources import Source, build_sources, check_deadline, fetch_all, is_due, make_session
from homeboard.sources.base import deadline_for

__all__ = ["session"]


class FakeSource:
    """A source that returns what it is told, or raises it."""

    kind = "calendar"

    def __init__(self, name: str, result, refresh: timedelta | None = None) -> None:
        self.name = calendar_source(name)
        self.label = name
        self.refresh = refresh
        self.result = result
        self.calls = 0

    def fetch(self, *, session, now):
        self.calls += 1
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


def event(title: str) -> CalendarEvent:
    start = datetime(2025, 1, 20, 10, tzinfo=LA)
    return CalendarEvent(title=title, start=start, end=start + timedelta(hours=1),
                         calendar="A", uid=title)


def test_sources_follow_the_protocol(tmp_path) -> None:
    (tmp_path / "x.ics").write_text("")
    config = write_config(tmp_path, """
        location: {latitude: 1, longitude: 2}
        calendars: [{name: A, ics_url: x.ics}]
    """)
    sources = build_sources(config)
    assert [s.name for s in sources] == [WEATHER, "calendar:A", SPECIAL]
    assert all(isinstance(s, Source) for s in sources)
    assert [s.kind for s in sources] == ["weather", "calendar", "special"]
    no_weather = write_config(tmp_path, "weather: {enabled: false}\n")
    assert [s.name for s in build_sources(no_weather)] == [SPECIAL]


def test_success_sets_times_and_keeps_changed_at_when_data_are_equal() -> None:
    a = FakeSource("A", (event("Zumba"),))
    first = fetch_all([a], {}, session=None, now=NOW)  # type: ignore[arg-type]
    snap = first["calendar:A"]
    assert (snap.fetched_at, snap.changed_at, snap.attempted_at, snap.last_error) == (
        NOW, NOW, NOW, None)
    # the same data later, even after a JSON round trip through the cache
    cached = {"calendar:A": snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snap))))}
    later = NOW + timedelta(minutes=15)
    second = fetch_all([a], cached, session=None, now=later)["calendar:A"]  # type: ignore[arg-type]
    assert (second.fetched_at, second.changed_at) == (later, NOW)
    a.result = (event("Zumba"), event("Dentist"))
    third = fetch_all([a], {"calendar:A": second}, session=None,  # type: ignore[arg-type]
                      now=later + timedelta(minutes=15))["calendar:A"]
    assert third.changed_at == later + timedelta(minutes=15)


def test_failure_keeps_previous_data_and_times(caplog) -> None:
    good = FakeSource("A", (event("Zumba"),))
    prev = fetch_all([good], {}, session=None, now=NOW)  # type: ignore[arg-type]
    bad = FakeSource("A", SourceError("connection refused"))
    later = NOW + timedelta(minutes=15)
    caplog.set_level(logging.INFO, logger="homeboard.sources")
    snap = fetch_all([bad], prev, session=None, now=later)["calendar:A"]  # type: ignore[arg-type]
    assert snap.data == prev["calendar:A"].data
    assert (snap.fetched_at, snap.changed_at, snap.attempted_at) == (NOW, NOW, later)
    assert snap.last_error == "A: connection refused"
    # logged once: the same failure again is not repeated as a warning
    again = fetch_all([bad], {"calendar:A": snap}, session=None,  # type: ignore[arg-type]
                      now=later + timedelta(minutes=15))["calendar:A"]
    assert again.last_error == snap.last_error
    levels = [r.levelname for r in caplog.records if r.name == "homeboard.sources"]
    assert levels == ["WARNING", "INFO"]
    caplog.clear()
    fetch_all([good], {"calendar:A": again}, session=None, now=later)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == ["calendar:A: recovered"]


def test_an_unexpected_exception_fails_that_source_only(caplog) -> None:
    broken = FakeSource("Broken", KeyError("summary"))
    fine = FakeSource("Fine", (event("Zumba"),))
    snaps = fetch_all([broken, fine], {}, session=None, now=NOW)  # type: ignore[arg-type]
    assert snaps["calendar:Broken"].last_error == "Broken: unexpected error (KeyError)"
    assert snaps["calendar:Broken"].data is None
    assert snaps["calendar:Fine"].last_error is None and snaps["calendar:Fine"].data
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].exc_info is None  # no traceback at WARNING


def test_a_refresh_timeout_is_not_swallowed() -> None:
    class Stop(BaseException):
        pass

    with pytest.raises(Stop):
        fetch_all([FakeSource("A", Stop())], {}, session=None, now=NOW)  # type: ignore[arg-type]


def test_refresh_interval_skips_a_source_until_due() -> None:
    hourly = FakeSource("Big", (event("Zumba"),), refresh=timedelta(hours=1))
    every = FakeSource("Small", (event("Dentist"),))
    first = fetch_all([hourly, every], {}, session=None, now=NOW)  # type: ignore[arg-type]
    later = NOW + timedelta(minutes=15)
    second = fetch_all([hourly, every], first, session=None, now=later)  # type: ignore[arg-type]
    assert (hourly.calls, every.calls) == (1, 2)
    assert second["calendar:Big"] is first["calendar:Big"]  # the same object: nothing to save
    fetch_all([hourly, every], second, session=None, now=later, force=True)  # type: ignore[arg-type]
    assert hourly.calls == 2
    fetch_all([hourly], second, session=None, now=later, due_only=False)  # type: ignore[arg-type]
    assert hourly.calls == 3
    fetch_all([hourly], second, session=None, now=NOW + timedelta(hours=1))  # type: ignore[arg-type]
    assert hourly.calls == 4
    # a failed attempt does not count as a fetch: still due next time
    failed = Snapshot(name="calendar:Big", kind="calendar", data=None, fetched_at=None,
                      attempted_at=later, last_error="x")
    assert is_due(hourly, failed, later + timedelta(minutes=1))
    # a fetch time in the future (clock set back) is due
    assert is_due(hourly, first["calendar:Big"], NOW - timedelta(minutes=5))


# --------------------------------------------------------------------------- #
# One full refresh against one local server: one request per weather call, one per
# calendar; the wall time of a full fetch is measured in benchmarks/bench_fetch.py.
# --------------------------------------------------------------------------- #


def household(tmp_path: Path, httpserver) -> object:
    base = httpserver.url_for("").rstrip("/")
    pytest.importorskip("googleapiclient")
    (tmp_path / "client.json").write_text(json.dumps({"installed": {
        "client_id": "1-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-x",
        "auth_uri": base + "/auth", "token_uri": base + "/token"}}))
    (tmp_path / "token.json").write_text(json.dumps({
        "token": "ya29.TEST", "refresh_token": "1//r",
        "client_id": "1-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-x", "expiry": "2099-01-01T00:00:00Z",
        "scopes": ["https://www.googleapis.com/auth/calendar.readonly"]}))
    return write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        units: imperial
        location: {{latitude: 37.6819, longitude: -121.768, name: Livermore}}
        weather: {{base_url: "{base}"}}
        calendars:
          - {{name: Family, color: red, ics_url: "{base}/family.ics"}}
          - {{name: Work, ics_url: "webcal://{base.split('://')[1]}/outlook.ics"}}
          - {{name: School, ics_url: {data('ics/family.ics')}}}
          - name: Jess
            google: {{calendar_id: jess@example.com, credentials: client.json, token: token.json}}
        special_events:
          - {{name: Corinne, kind: birthday, date: "2017-01-20"}}
        seasons: true
        holidays: {{country: US, subdivision: CA}}
    """)


def serve_household(httpserver) -> None:
    httpserver.expect_request("/v1/forecast").respond_with_json(
        read_json("open_meteo/forecast_imperial.json"))
    httpserver.expect_request("/family.ics").respond_with_data(
        read_bytes("ics/family.ics"), content_type="text/calendar")
    httpserver.expect_request("/outlook.ics").respond_with_data(
        read_bytes("ics/outlook.ics"), content_type="text/calendar")
    httpserver.expect_request("/calendar/v3/calendars/jess@example.com/events").respond_with_json(
        read_json("google/events.json"))


def test_one_request_per_source_in_a_full_refresh(tmp_path, httpserver, monkeypatch) -> None:
    # webcal:// is https; the test server speaks http, so map it back for this test.
    monkeypatch.setattr("homeboard.sources.ics.normalise_url",
                        lambda url: url.replace("webcal://", "http://"))
    config = household(tmp_path, httpserver)
    serve_household(httpserver)
    sources = build_sources(config)
    for source in sources:
        if source.name == "calendar:Jess":
            source.api_endpoint = httpserver.url_for("/calendar/v3/")  # type: ignore[attr-defined]
    with make_session(config) as s:
        snaps = fetch_all(sources, {}, session=s, now=NOW)
    paths = sorted(r.path for r in requests_to(httpserver))
    assert paths == sorted(["/v1/forecast", "/family.ics", "/outlook.ics",
                            "/calendar/v3/calendars/jess@example.com/events"])
    assert all(snap.last_error is None for snap in snaps.values()), snaps
    state = compose(config, snaps, NOW)
    assert [s.status for s in state.sources] == ["fresh"] * 6  # weather, 4 calendars, holidays
    assert state.attribution == ("Weather: Open-Meteo.com (CC BY 4.0)",)
    assert state.days[0].special is not None and state.days[0].special.title == "Corinne turns 8"
    assert state.updated_at == NOW
    # nothing changed a refresh later: "Updated" keeps the time the data last changed
    later = NOW + timedelta(minutes=15)
    with make_session(config) as s:
        again = fetch_all(sources, snaps, session=s, now=later)
    assert compose(config, again, later).updated_at == NOW


# --------------------------------------------------------------------------- #
# Deadlines: each source has its own, and one past it costs only itself
# --------------------------------------------------------------------------- #


class SleepySource(FakeSource):
    """A source stuck in code that never checks its deadline (a C call, a DNS lookup)."""

    def __init__(self, name: str, seconds: float, deadline: float) -> None:
        super().__init__(name, (event("Late"),))
        self.seconds = seconds
        self.deadline = deadline
        self.finished = threading.Event()

    def fetch(self, *, session, now):
        time.sleep(self.seconds)
        self.finished.set()
        return super().fetch(session=session, now=now)


def test_a_source_that_ignores_its_deadline_is_abandoned() -> None:
    stuck = SleepySource("Stuck", seconds=2.0, deadline=0.2)  # grace: half of it
    fine = FakeSource("Fine", (event("Zumba"),))
    prev = {"calendar:Stuck": Snapshot(name="calendar:Stuck", kind="calendar",
                                       data=(event("Old"),), fetched_at=NOW - timedelta(hours=1),
                                       changed_at=NOW - timedelta(hours=1))}
    started = time.monotonic()
    snaps = fetch_all([stuck, fine], prev, session=None, now=NOW)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.8  # deadline + grace, not the 2 s it sleeps
    snap = snaps["calendar:Stuck"]
    assert snap.last_error == "Stuck: took longer than 0.2 s (cut)" and snap.cut
    assert snap.data == (event("Old"),) and snap.fetched_at == NOW - timedelta(hours=1)
    assert snaps["calendar:Fine"].last_error is None
    # the abandoned fetch ends later; what it brings goes nowhere
    assert stuck.finished.wait(5)
    time.sleep(0.1)
    assert snaps["calendar:Stuck"] is snap and snap.data == (event("Old"),)


def test_data_that_come_after_the_deadline_count_as_a_failure() -> None:
    late = SleepySource("Late", seconds=0.75, deadline=0.6)  # within the grace (0.3 s)
    snap = fetch_all([late], {}, session=None, now=NOW)["calendar:Late"]  # type: ignore[arg-type]
    assert late.finished.is_set()  # it did bring its data, late
    assert snap.last_error == "Late: took longer than 0.6 s (cut)" and snap.data is None


def test_the_budget_bounds_the_whole_fetch() -> None:
    # Two stuck sources with the default 60 s deadline: the budget (as a refresh gives
    # it) cuts the first, and the rest fail at once, keeping their data.
    first = SleepySource("First", seconds=3.0, deadline=60)
    second = SleepySource("Second", seconds=3.0, deadline=60)
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("homeboard.sources.DEADLINE_GRACE", 0.2)
        snaps = fetch_all([first, second], {}, session=None, now=NOW,  # type: ignore[arg-type]
                          budget=0.5)
    assert time.monotonic() - started < 1.5
    assert snaps["calendar:First"].last_error == "First: took longer than 0.5 s (cut)"
    assert snaps["calendar:Second"].last_error == "Second: no time left in this refresh"


def test_special_days_come_first_whatever_slow_calendars_spend() -> None:
    # The special days are computed here in milliseconds: listed last, they used to
    # find the budget spent by a stuck calendar ("no time left") and their banners
    # vanished from `homeboard state`. They run first, and the order of the result
    # stays the order of the sources.
    slow = SleepySource("Slow", seconds=3.0, deadline=60)

    class Special(FakeSource):
        kind = "special"

    special = Special("Birthdays", (event("Corinne"),))
    special.name = "special"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("homeboard.sources.DEADLINE_GRACE", 0.2)
        snaps = fetch_all([slow, special], {}, session=None, now=NOW,  # type: ignore[arg-type]
                          budget=0.5)
    assert snaps["special"].last_error is None and snaps["special"].data
    assert snaps["calendar:Slow"].last_error.startswith("Slow: took longer than 0.")
    assert list(snaps) == ["calendar:Slow", "special"]


def test_a_source_can_check_its_deadline() -> None:
    seen: list[float] = []

    class Careful(FakeSource):
        deadline = 0.3

        def fetch(self, *, session, now):
            while True:  # a long expansion that checks now and then
                seen.append(time.monotonic())
                check_deadline()
                time.sleep(0.05)

    started = time.monotonic()
    snap = fetch_all([Careful("Careful", ())], {}, session=None, now=NOW)  # type: ignore[arg-type]
    assert snap["calendar:Careful"].last_error == "Careful: took longer than 0.3 s (cut)"
    assert 0.3 <= time.monotonic() - started < 0.6
    check_deadline()  # outside a fetch: nothing to check


def test_deadlines_come_from_the_config(tmp_path) -> None:
    config = write_config(tmp_path, """
        location: {latitude: 1, longitude: 2}
        weather: {deadline: 20s}
        calendars: [{name: A, ics_url: "https://example.org/a.ics", deadline: 2m},
                    {name: B, ics_url: "https://example.org/b.ics"}]
    """)
    assert [deadline_for(s) for s in build_sources(config)] == [20, 120, 60, 60]


def test_a_dripping_calendar_no_longer_stops_the_refresh(tmp_path, redis_server,
                                                         fake_weather) -> None:
    # The reported case: a calendar that drips a byte at a time held the whole refresh
    # until refresh_timeout, and nothing was saved or pushed.
    from boardkit import pushes
    from boardkit import write_config as board_config
    from hostile_http import HostileServer

    from homeboard.app import build_app
    from homeboard.config import load_config
    from homeboard.service import refresh

    with HostileServer(drip_interval=0.2, max_seconds=20) as hostile:
        config = load_config(board_config(
            tmp_path / "config.yaml", redis_url=redis_server.url, weather_url=fake_weather.url,
            output_dir=tmp_path / "frames", ics_url=hostile.url("/drip"),
            refresh_timeout="4s", lock_timeout="10s"))
        app = build_app(config)
        started = time.monotonic()
        result = refresh(app)
        took = time.monotonic() - started
    assert result.outcome == "pushed", result.record.error
    assert took < 4  # within refresh_timeout: the calendar was cut at the fetch budget
    assert len(pushes(tmp_path / "frames")) == 1
    status = app.store().status(config, app.now())
    sources = status["sources"]
    assert sources["weather"]["status"] == "fresh"
    assert "took longer than" in sources["Family"]["last_error"]


def test_homeboard_state_finishes_in_bounded_time(tmp_path) -> None:
    from hostile_http import HostileServer

    with HostileServer(drip_interval=0.2, max_seconds=30) as hostile:
        path = tmp_path / "config.yaml"
        path.write_text(f"""
weather: {{enabled: false}}
display: {{driver: mock, output_dir: {tmp_path}}}
calendars:
  - {{name: Drip, ics_url: "{hostile.url('/drip')}", deadline: 2s}}
  - {{name: Fine, ics_url: "{hostile.url('/ok.ics')}"}}
""")
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "homeboard", "state", "--config", str(path),
                               "--json"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "HOMEBOARD_CONFIG": ""})
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took < 2 + 8  # its deadline, plus starting Python
    sources = json.loads(proc.stdout)["sources"]
    assert sources["Drip"]["last_error"] == "Drip: took longer than 2 s (cut)"
    assert sources["Drip"]["cut"] is True
    assert sources["Fine"]["last_error"] is None


def test_each_kind_of_source_has_its_caps(tmp_path) -> None:
    from homeboard.sources.base import CALENDAR_LIMITS, WEATHER_LIMITS, limits_for

    config = write_config(tmp_path, """
        location: {latitude: 1, longitude: 2}
        calendars: [{name: A, ics_url: "https://example.org/a.ics"}]
    """)
    weather, calendar, _special = build_sources(config)
    assert limits_for(weather) == WEATHER_LIMITS and WEATHER_LIMITS.body <= 8 * 1024 * 1024
    assert limits_for(calendar) == CALENDAR_LIMITS
    # a whole-history export (24 MB seen in the wild) still fits
    assert min(CALENDAR_LIMITS.wire, CALENDAR_LIMITS.body) >= 24 * 1024 * 1024
