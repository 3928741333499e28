"""ICS calendars: recurrences, zones, all-day dates that never shift, and every failure alone."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sources_fixtures import (
    LA,
    NOW,
    closed_port,
    data,
    read_bytes,
    requests_to,
    session,
    silent_server,
    write_config,
)

from homeboard.model import CalendarEvent, calendar_source, compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.ics import ICSSource, normalise_url

__all__ = ["session", "silent_server"]


def ics_source(url: str, *, days: int = 4, **kw) -> ICSSource:
    return ICSSource(name="Family", url=url, tz=LA, days=days, **kw)


def elapsed(event: CalendarEvent) -> timedelta:
    """Real time between start and end (same-zone subtraction in Python ignores DST)."""
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    return event.end.astimezone(UTC) - event.start.astimezone(UTC)


def by_title(events: tuple[CalendarEvent, ...]) -> dict[str, CalendarEvent]:
    return {e.title: e for e in events}


def test_every_case_of_the_family_calendar(session) -> None:
    events = ics_source(str(data("ics/family.ics"))).fetch(session=session, now=NOW)
    ev = by_title(events)
    # RECURRENCE-ID override moved Monday's class; EXDATE removed Wednesday's.
    assert ev["Swim class (late)"].start == datetime(2025, 1, 20, 17, 30, tzinfo=LA)
    assert "Swim class" not in ev  # the 20th is overridden, the 22nd excluded
    # RDATE adds a Thursday to a first-Tuesday series.
    assert ev["Book club"].start == datetime(2025, 1, 23, 19, 0, tzinfo=LA)
    # all-day: local dates, end exclusive
    assert (ev["Recycling pickup"].start, ev["Recycling pickup"].end) == (
        date(2025, 1, 23), date(2025, 1, 24))
    assert ev["Recycling pickup"].all_day
    # multi-day that began yesterday, and one that begins on the extra day
    assert (ev["Grandma visiting"].start, ev["Grandma visiting"].end) == (
        date(2025, 1, 19), date(2025, 1, 22))
    assert ev["Ski trip"].start == date(2025, 1, 24)
    # across midnight
    assert ev["Night shift"].end == datetime(2025, 1, 22, 6, 0, tzinfo=LA)
    # CLASS:PRIVATE without a SUMMARY: no title (the board shows "Busy")
    assert ev[""].start == datetime(2025, 1, 20, 12, 0, tzinfo=LA)
    # UTC times land in the board's zone; DURATION instead of DTEND
    assert ev["Call with Oma in Berlin"].start == datetime(2025, 1, 22, 9, 0, tzinfo=LA)
    assert ev["School drop-off"].end == datetime(2025, 1, 20, 8, 45, tzinfo=LA)
    # a yearly all-day birthday series expands
    assert ev["Corinne's birthday"].start == date(2025, 1, 22)
    # cancelled and out-of-window events are gone
    assert "Cancelled playdate" not in ev and "Outside the window" not in ev
    assert all(isinstance(e.start, datetime) == (not e.all_day) for e in events)
    assert all(e.calendar == "Family" for e in events)


def test_board_places_every_event_on_every_day_it_covers(tmp_path, session) -> None:
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars: [{{name: Family, color: red, ics_url: {data('ics/family.ics')}}}]
    """)
    snaps = fetch_all(build_sources(config), {}, session=session, now=NOW)
    state = compose(config, snaps, NOW)
    titles = [[e.title for e in day.events] for day in state.days]
    assert [d.date for d in state.days] == [date(2025, 1, 20) + timedelta(days=i) for i in range(4)]
    assert titles[0] == ["Grandma visiting", "School drop-off", "Busy", "Swim class (late)"]
    assert titles[1] == ["Grandma visiting", "Teacher in-service day (no school)", "Night shift"]
    assert titles[2][:2] == ["Corinne's birthday", "Night shift"]  # all-day first, then by start
    assert titles[3] == ["Recycling pickup", "Book club"]
    night = state.days[2].events[1]
    assert night.continues_from and not night.continues_to


def test_all_day_event_queried_late_the_evening_before(tmp_path, session) -> None:
    # 23:30 local on the 20th is already the 21st in UTC: the in-service day (the 21st)
    # must appear on the 21st only, never a day early.
    late = datetime(2025, 1, 20, 23, 30, tzinfo=LA)
    for days in (1, 4):
        config = write_config(tmp_path, f"""
            timezone: America/Los_Angeles
            weather: null
            layout: {{days: {days}}}
            calendars: [{{name: Family, ics_url: {data('ics/family.ics')}}}]
        """)
        snaps = fetch_all(build_sources(config), {}, session=session, now=late)
        state = compose(config, snaps, late)
        today = [e.title for e in state.days[0].events]
        assert "Teacher in-service day (no school)" not in today
        if days > 1:
            assert "Teacher in-service day (no school)" in [e.title for e in state.days[1].events]
        events = snaps[calendar_source("Family")].data
        inservice = by_title(events)["Teacher in-service day (no school)"]  # type: ignore[arg-type]
        assert inservice.start == date(2025, 1, 21) and inservice.end == date(2025, 1, 22)


def test_a_day_on_which_the_clocks_change(tmp_path, session) -> None:
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars: [{{name: Family, ics_url: {data('ics/dst.ics')}}}]
    """)
    now = datetime(2025, 3, 9, 8, 0, tzinfo=LA)
    snaps = fetch_all(build_sources(config), {}, session=session, now=now)
    ev = by_title(snaps[calendar_source("Family")].data)  # type: ignore[arg-type]
    flight = ev["Red-eye flight home"]
    assert elapsed(flight) == timedelta(hours=6)  # 23:00 PST → 06:00 PDT
    assert ev["Sunday brunch"].start == datetime(2025, 3, 9, 10, 0, tzinfo=LA)
    assert ev["Sunday brunch"].start.utcoffset() == timedelta(hours=-7)
    state = compose(config, snaps, now)
    # the clock change itself is the day's banner (dst: true by default) and listed first
    assert state.days[0].special is not None and state.days[0].special.kind == "dst"
    assert [e.title for e in state.days[0].events] == [
        "Clocks go forward 1 hour", "Red-eye flight home", "Sunday brunch"]
    assert state.days[0].events[1].continues_from
    # the day the clocks go back: an event inside the repeated hour
    autumn = datetime(2025, 11, 1, 12, 0, tzinfo=LA)
    ev = by_title(ICSSource(name="F", url=str(data("ics/dst.ics")), tz=LA, days=4)
                  .fetch(session=session, now=autumn))
    movie = ev["Late movie marathon"]
    assert elapsed(movie) == timedelta(hours=4)  # 00:30 PDT → 03:30 PST


def test_outlook_windows_zone_names(session) -> None:
    ev = by_title(ics_source(str(data("ics/outlook.ics"))).fetch(session=session, now=NOW))
    assert ev["Team stand-up"].start == datetime(2025, 1, 21, 9, 0, tzinfo=LA)
    assert ev["Busy"].start == datetime(2025, 1, 22, 13, 0, tzinfo=LA)


def test_http_webcal_and_basic_auth(tmp_path, httpserver, session) -> None:
    password = tmp_path / "pw"
    password.write_text("hunter2\n")
    token = base64.b64encode(b"coach:hunter2").decode()
    httpserver.expect_request("/team/u10.ics", headers={"Authorization": f"Basic {token}"}) \
        .respond_with_data(read_bytes("ics/family.ics"), content_type="text/calendar")
    url = httpserver.url_for("/team/u10.ics")
    source = ics_source(url, username="coach", password_file=password)
    events = source.fetch(session=session, now=NOW)
    assert len(events) == 11 and len(requests_to(httpserver)) == 1
    assert normalise_url("webcal://example.com/a.ics") == "https://example.com/a.ics"
    assert normalise_url("WEBCALS://example.com/a.ics") == "https://example.com/a.ics"
    assert ICSSource(name="x", url="webcal://example.com/a.ics", tz=LA, days=1).url == (
        "https://example.com/a.ics")


def test_file_url(session) -> None:
    events = ics_source(data("ics/family.ics").as_uri()).fetch(session=session, now=NOW)
    assert len(events) == 11


def test_a_broken_series_is_skipped_not_the_calendar(session) -> None:
    events = ics_source(str(data("ics/broken_series.ics"))).fetch(session=session, now=NOW)
    assert [e.title for e in events] == ["Still shown"]


def test_events_are_sorted_and_stable(session) -> None:
    a = ics_source(str(data("ics/family.ics"))).fetch(session=session, now=NOW)
    b = ics_source(str(data("ics/family.ics"))).fetch(session=session, now=NOW)
    assert a == b  # equal data keeps changed_at
    starts = [e.start if isinstance(e.start, datetime)
              else datetime.combine(e.start, datetime.min.time(), LA) for e in a]
    assert starts == sorted(starts)


# --------------------------------------------------------------------------- #
# Failures, each alone; the secret address never shows.
# --------------------------------------------------------------------------- #

SECRET_PATH = "/calendar/ical/smith.family.home/private-5ecre7t0ken/basic.ics"


def _arrange(kind: str, httpserver, silent: str) -> tuple[str, str]:
    """Return (the calendar URL, the expected reason)."""
    url = httpserver.url_for(SECRET_PATH)
    route = httpserver.expect_request(SECRET_PATH)
    if kind == "timeout":
        return silent + SECRET_PATH, "timed out waiting for the server"
    if kind == "refused":
        return f"http://127.0.0.1:{closed_port()}{SECRET_PATH}", "connection refused"
    if kind == "404":
        route.respond_with_data("Not Found", status=404)
        return url, "HTTP 404 not found"
    if kind == "401":
        route.respond_with_data("", status=401, headers={"WWW-Authenticate": "Basic"})
        return url, "HTTP 401 not authorised"
    if kind == "500":
        route.respond_with_data("oops", status=500)
        return url, "HTTP 500 server error"
    if kind == "login-page":
        route.respond_with_data(read_bytes("ics/login_page.html"), content_type="text/html")
        return url, "not an iCalendar file"
    if kind == "truncated":
        route.respond_with_data(read_bytes("ics/truncated.ics"), content_type="text/calendar")
        return url, "malformed iCalendar data"
    if kind == "missing-file":
        return "/nonexistent/calendar.ics", "cannot read the calendar file (No such file"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["timeout", "refused", "404", "401", "500", "login-page",
                                  "truncated", "missing-file"])
def test_failure_keeps_last_good_events_and_leaves_the_rest(
    kind: str, tmp_path: Path, httpserver, session, silent_server: str, caplog,
) -> None:
    good_url = httpserver.url_for(SECRET_PATH)
    httpserver.expect_request(SECRET_PATH).respond_with_data(
        read_bytes("ics/family.ics"), content_type="text/calendar")
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - {{name: Family, color: red, max_age: 2h, ics_url: "{url}"}}
          - {{name: Work, ics_url: {work}}}
        special_events:
          - {{name: Corinne, kind: birthday, date: "2017-01-20"}}
    """
    work = data("ics/outlook.ics")
    config = write_config(tmp_path, yaml.format(url=good_url, work=work))
    earlier = NOW - timedelta(hours=3)
    good = fetch_all(build_sources(config), {}, session=session, now=earlier)
    assert good["calendar:Family"].last_error is None
    httpserver.clear()

    url, reason = _arrange(kind, httpserver, silent_server)
    failing = write_config(tmp_path, yaml.format(url=url, work=work))
    sources = build_sources(failing)
    sources[0].timeout = (0.5, 0.3)  # type: ignore[attr-defined]
    caplog.clear()
    after = fetch_all(sources, good, session=session, now=NOW)

    snap = after["calendar:Family"]
    assert snap.last_error is not None and snap.last_error.startswith(f"Family: {reason}")
    assert snap.data == good["calendar:Family"].data and snap.fetched_at == earlier
    assert after["calendar:Work"].last_error is None and after["calendar:Work"].fetched_at == NOW
    assert after["special"].fetched_at == NOW
    logged = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "5ecre7t0ken" not in logged and "5ecre7t0ken" not in snap.last_error

    state = compose(config, after, NOW)
    family = state.source("calendar:Family")
    assert family is not None and family.status == "stale"
    assert "Swim class (late)" in [e.title for e in state.days[0].events]  # last good data shown
    assert "Team stand-up" in [e.title for e in state.days[1].events]
    assert state.days[0].special is not None


def test_secret_address_of_a_known_host_is_not_in_the_repr() -> None:
    source = ics_source("https://calendar.google.com/calendar/ical/x/private-abc/basic.ics")
    assert "private-abc" not in repr(source)


# --------------------------------------------------------------------------- #
# Big feeds: the text prefilter gives the same events as a full parse.
# --------------------------------------------------------------------------- #


def _history_feed(events: int = 1500) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
             "X-WR-TIMEZONE:America/Los_Angeles"]
    for i in range(events):  # one event a day, from 2021 on
        day = date(2021, 1, 1) + timedelta(days=i)
        lines += ["BEGIN:VEVENT", f"UID:day-{i}@test", "DTSTAMP:20210101T000000Z",
                  f"DTSTART:{day:%Y%m%d}T090000", f"DTEND:{day:%Y%m%d}T100000",
                  f"SUMMARY:Day {i}", "END:VEVENT"]
    lines += [
        # a long trip that began months ago and ends in the window
        "BEGIN:VEVENT", "UID:sabbatical@test", "DTSTAMP:20240101T000000Z",
        "DTSTART;VALUE=DATE:20240901", "DTEND;VALUE=DATE:20250122", "SUMMARY:Sabbatical",
        "END:VEVENT",
        # a DURATION event that began long ago (kept: the scan does not add durations)
        "BEGIN:VEVENT", "UID:dur@test", "DTSTAMP:20240101T000000Z",
        "DTSTART;VALUE=DATE:20241220", "DURATION:P40D", "SUMMARY:Long duration",
        "END:VEVENT",
        # a series from 2022 whose override moved one instance into the window: the
        # override and its series are kept together
        "BEGIN:VEVENT", "UID:series@test", "DTSTAMP:20220101T000000Z",
        "DTSTART;TZID=America/Los_Angeles:20220103T180000", "DURATION:PT1H",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=3", "SUMMARY:Monthly", "END:VEVENT",
        "BEGIN:VEVENT", "UID:series@test", "DTSTAMP:20220101T000000Z",
        "RECURRENCE-ID;TZID=America/Los_Angeles:20250203T180000",
        "DTSTART;TZID=America/Los_Angeles:20250121T180000", "DURATION:PT1H",
        "SUMMARY:Monthly (moved)", "END:VEVENT",
        # a folded DTSTART line
        "BEGIN:VEVENT", "UID:folded@test", "DTSTAMP:20240101T000000Z",
        "DTSTART;TZID=America/Los_Ange", " les:20250122T070000", "SUMMARY:Folded",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize("moment", [NOW, datetime(2022, 6, 1, 12, tzinfo=LA),
                                    datetime(2025, 1, 31, 23, 30, tzinfo=LA)])
def test_prefilter_gives_the_same_events(moment: datetime, monkeypatch) -> None:
    from homeboard.sources import events as ev

    feed = _history_feed()
    window = ev.window_for(moment, LA, 4)
    assert len(ev.prefilter(feed, window).data) < len(feed) // 10
    fast = ev.events_from_ics(feed, calendar="F", window=window)
    monkeypatch.setattr(ev, "prefilter", lambda data, window, **kw: ev.Prefiltered(data, 0))
    full = ev.events_from_ics(feed, calendar="F", window=window)
    assert fast == full and fast
    if moment == NOW:
        titles = {e.title for e in fast}
        assert {"Sabbatical", "Long duration", "Monthly (moved)", "Folded", "Day 1480"} <= titles


@pytest.mark.parametrize("name", ["family.ics", "outlook.ics", "dst.ics", "broken_series.ics"])
def test_prefilter_on_every_fixture(name: str) -> None:
    from homeboard.sources import events as ev

    feed = read_bytes(f"ics/{name}")
    for moment in (NOW, datetime(2025, 3, 9, 8, tzinfo=LA), datetime(2025, 11, 1, tzinfo=LA)):
        window = ev.window_for(moment, LA, 4)
        cut = ev.prefilter(feed, window, min_bytes=0).data
        assert ev.events_from_ics(cut, calendar="F", window=window) == ev.events_from_ics(
            feed, calendar="F", window=window)
