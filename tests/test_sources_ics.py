"""ICS calendars: recurrences, zones, all-day dates that never shift, and every failure alone."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
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

from homeboard.errors import SourceLimitExceeded
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
        date(2025, 1, 23),
        date(2025, 1, 24),
    )
    assert ev["Recycling pickup"].all_day
    # multi-day that began yesterday, and one that begins on the extra day
    assert (ev["Grandma visiting"].start, ev["Grandma visiting"].end) == (
        date(2025, 1, 19),
        date(2025, 1, 22),
    )
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
    config = write_config(
        tmp_path,
        f"""
        timezone: America/Los_Angeles
        weather: null
        calendars: [{{name: Family, color: red, ics_url: {data("ics/family.ics")}}}]
    """,
    )
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
        config = write_config(
            tmp_path,
            f"""
            timezone: America/Los_Angeles
            weather: null
            layout: {{days: {days}}}
            calendars: [{{name: Family, ics_url: {data("ics/family.ics")}}}]
        """,
        )
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
    config = write_config(
        tmp_path,
        f"""
        timezone: America/Los_Angeles
        weather: null
        calendars: [{{name: Family, ics_url: {data("ics/dst.ics")}}}]
    """,
    )
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
        "Clocks go forward 1 hour",
        "Red-eye flight home",
        "Sunday brunch",
    ]
    assert state.days[0].events[1].continues_from
    # the day the clocks go back: an event inside the repeated hour
    autumn = datetime(2025, 11, 1, 12, 0, tzinfo=LA)
    ev = by_title(
        ICSSource(name="F", url=str(data("ics/dst.ics")), tz=LA, days=4).fetch(
            session=session, now=autumn
        )
    )
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
    httpserver.expect_request(
        "/team/u10.ics", headers={"Authorization": f"Basic {token}"}
    ).respond_with_data(read_bytes("ics/family.ics"), content_type="text/calendar")
    url = httpserver.url_for("/team/u10.ics")
    source = ics_source(url, username="coach", password_file=password)
    events = source.fetch(session=session, now=NOW)
    assert len(events) == 11 and len(requests_to(httpserver)) == 1
    assert normalise_url("webcal://example.com/a.ics") == "https://example.com/a.ics"
    assert normalise_url("WEBCALS://example.com/a.ics") == "https://example.com/a.ics"
    assert ICSSource(name="x", url="webcal://example.com/a.ics", tz=LA, days=1).url == (
        "https://example.com/a.ics"
    )


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
    starts = [
        e.start
        if isinstance(e.start, datetime)
        else datetime.combine(e.start, datetime.min.time(), LA)
        for e in a
    ]
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


@pytest.mark.parametrize(
    "kind", ["timeout", "refused", "404", "401", "500", "login-page", "truncated", "missing-file"]
)
def test_failure_keeps_last_good_events_and_leaves_the_rest(
    kind: str,
    tmp_path: Path,
    httpserver,
    session,
    silent_server: str,
    caplog,
) -> None:
    good_url = httpserver.url_for(SECRET_PATH)
    httpserver.expect_request(SECRET_PATH).respond_with_data(
        read_bytes("ics/family.ics"), content_type="text/calendar"
    )
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
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "X-WR-TIMEZONE:America/Los_Angeles",
    ]
    for i in range(events):  # one event a day, from 2021 on
        day = date(2021, 1, 1) + timedelta(days=i)
        lines += [
            "BEGIN:VEVENT",
            f"UID:day-{i}@test",
            "DTSTAMP:20210101T000000Z",
            f"DTSTART:{day:%Y%m%d}T090000",
            f"DTEND:{day:%Y%m%d}T100000",
            f"SUMMARY:Day {i}",
            "END:VEVENT",
        ]
    lines += [
        # a long trip that began months ago and ends in the window
        "BEGIN:VEVENT",
        "UID:sabbatical@test",
        "DTSTAMP:20240101T000000Z",
        "DTSTART;VALUE=DATE:20240901",
        "DTEND;VALUE=DATE:20250122",
        "SUMMARY:Sabbatical",
        "END:VEVENT",
        # a DURATION event that began long ago (kept: the scan does not add durations)
        "BEGIN:VEVENT",
        "UID:dur@test",
        "DTSTAMP:20240101T000000Z",
        "DTSTART;VALUE=DATE:20241220",
        "DURATION:P40D",
        "SUMMARY:Long duration",
        "END:VEVENT",
        # a series from 2022 whose override moved one instance into the window: the
        # override and its series are kept together
        # (its long UID folded, as Exchange writes it, at different places)
        "BEGIN:VEVENT",
        "UID:040000008200E00074C5B7101A82E00800000000017E1BADC42E",
        " D601000000000000000010000000FBF1FBAE2E9FBC4D81F16854E2F4D51B",
        "DTSTAMP:20220101T000000Z",
        "DTSTART;TZID=America/Los_Angeles:20220103T180000",
        "DURATION:PT1H",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=3",
        "SUMMARY:Monthly",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:040000008200E00074C5B7101A82E00800000000017E1BADC42ED6010000",
        " 00000000000010000000FBF1FBAE2E9FBC4D81F16854E2F4D51B",
        "DTSTAMP:20220101T000000Z",
        "RECURRENCE-ID;TZID=America/Los_Angeles:20250203T180000",
        "DTSTART;TZID=America/Los_Angeles:20250121T180000",
        "DURATION:PT1H",
        "SUMMARY:Monthly (moved)",
        "END:VEVENT",
        # a folded DTSTART line
        "BEGIN:VEVENT",
        "UID:folded@test",
        "DTSTAMP:20240101T000000Z",
        "DTSTART;TZID=America/Los_Ange",
        " les:20250122T070000",
        "SUMMARY:Folded",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize(
    "moment", [NOW, datetime(2022, 6, 1, 12, tzinfo=LA), datetime(2025, 1, 31, 23, 30, tzinfo=LA)]
)
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
            feed, calendar="F", window=window
        )


# --------------------------------------------------------------------------- #
# Generated feeds: floating times, Exchange series, caps, crowded days, mutations
# --------------------------------------------------------------------------- #

AUCKLAND = ZoneInfo("Pacific/Auckland")


def _vevent(uid: str, *lines: str, title: str | None = None) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20250101T000000Z",
        f"SUMMARY:{title or uid}",
        *lines,
        "END:VEVENT",
    ]


def _calendar(*events: list[str], head: tuple[str, ...] = (), pad_to: int = 0) -> bytes:
    """A feed of ``events``; ``pad_to`` adds past one-off events until the feed is that big
    (so that the text prefilter, which starts at 64 KB, is at work)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *head]
    for event in events:
        lines += event
    size, i = sum(len(line) + 2 for line in lines), 0
    while size < pad_to:  # one an hour from 2015 on: 2 MB reach into 2017
        start = datetime(2015, 1, 1, 10) + timedelta(hours=i)
        block = _vevent(
            f"old-{i}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}Z",
            f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%S}Z",
            title=f"Old {i}",
        )
        lines += block
        size += sum(len(line) + 2 for line in block)
        i += 1
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _fetch(
    tmp_path: Path,
    feed: bytes,
    *,
    tz=LA,
    now: datetime = NOW,
    days: int = 4,
    name: str = "feed.ics",
) -> tuple[CalendarEvent, ...]:
    path = tmp_path / name
    path.write_bytes(feed)
    source = ICSSource(name="Family", url=str(path), tz=tz, days=days)
    with requests.Session() as s:
        return source.fetch(session=s, now=now)


def _board(
    tmp_path: Path, feed: bytes, *, timezone: str, now: datetime, previous: dict | None = None
):
    """Fetch ``feed`` as the household's one calendar (path: feed.ics) and compose the board."""
    (tmp_path / "feed.ics").write_bytes(feed)
    config = write_config(
        tmp_path,
        f"""
        timezone: {timezone}
        weather: null
        calendars:
          - {{name: Family, ics_url: {tmp_path / "feed.ics"}}}
          - {{name: Work, ics_url: {data("ics/outlook.ics")}}}
    """,
    )
    with requests.Session() as s:
        snaps = fetch_all(build_sources(config), previous or {}, session=s, now=now)
    return snaps, compose(config, snaps, now)


def _titles_by_day(state) -> dict[date, list[str]]:
    return {day.date: [e.title for e in day.events] for day in state.days}


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles", "Europe/Berlin"])
@pytest.mark.parametrize("padded", [False, True])
def test_floating_times_are_the_households_wall_clock(tmp_path, zone: str, padded: bool) -> None:
    # No TZID and no X-WR-TIMEZONE: "07:30" is 07:30 wherever the household lives,
    # on the day written, including a series that crosses the spring clock change.
    tz = ZoneInfo(zone)
    feed = _calendar(
        _vevent("piano", "DTSTART:20250121T073000", "DTEND:20250121T083000", title="Piano lesson"),
        _vevent("late", "DTSTART:20250120T233000", "DTEND:20250121T003000", title="Late call"),
        _vevent(
            "choir", "DTSTART:20250105T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY", title="Choir"
        ),
        pad_to=70_000 if padded else 0,
    )
    now = datetime(2025, 1, 20, 6, 0, tzinfo=tz)
    snaps, state = _board(tmp_path, feed, timezone=zone, now=now)
    days = _titles_by_day(state)
    assert "Late call" in days[date(2025, 1, 20)] and "Piano lesson" in days[date(2025, 1, 21)]
    ev = by_title(snaps["calendar:Family"].data)  # type: ignore[arg-type]
    assert ev["Piano lesson"].start == datetime(2025, 1, 21, 7, 30, tzinfo=tz)
    assert ev["Late call"].end == datetime(2025, 1, 21, 0, 30, tzinfo=tz)
    # the weekly series keeps 09:00 on the wall clock after the clocks change
    for day in (date(2025, 3, 2), date(2025, 3, 9), date(2025, 3, 30), date(2025, 4, 6)):
        later = datetime.combine(day, datetime.min.time(), tz)
        choir = by_title(_fetch(tmp_path, feed, tz=tz, now=later, name="again.ics"))["Choir"]
        assert choir.start == datetime.combine(day, datetime.min.time(), tz).replace(hour=9)
        assert choir.start.astimezone(tz).hour == 9


EXCHANGE_ZONES = {
    "GMT Standard Time": ("+0000", "+0100"),
    "W. Europe Standard Time": ("+0100", "+0200"),
}


def _exchange_feed(zone: str, until: str, *, x_wr: str | None = None) -> bytes:
    """An Exchange export: a VTIMEZONE by Windows name and an all-day fortnightly series
    whose UNTIL is the UTC instant of local midnight starting the last day."""
    std, dst = EXCHANGE_ZONES[zone]
    head = (f"X-WR-TIMEZONE:{x_wr}",) if x_wr else ()
    tzlines = [
        "BEGIN:VTIMEZONE",
        f"TZID:{zone}",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        f"TZOFFSETFROM:{dst}",
        f"TZOFFSETTO:{std}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        f"TZOFFSETFROM:{std}",
        f"TZOFFSETTO:{dst}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
    ]
    series = _vevent(
        "bins",
        "DTSTART;VALUE=DATE:20200903",
        "DTEND;VALUE=DATE:20200904",
        f"RRULE:FREQ=WEEKLY;UNTIL={until};INTERVAL=2;BYDAY=TH;WKST=MO",
        "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
        title="Garden waste",
    )
    return _calendar(tzlines, series, head=("PRODID:Microsoft Exchange Server 2010", *head))


@pytest.mark.parametrize(
    ("zone", "until", "last", "x_wr"),
    [
        # summer time: local midnight is the evening before in UTC
        ("GMT Standard Time", "20200916T230000Z", date(2020, 9, 17), None),
        ("W. Europe Standard Time", "20200916T220000Z", date(2020, 9, 17), None),
        # winter time
        ("W. Europe Standard Time", "20201209T230000Z", date(2020, 12, 10), None),
        ("GMT Standard Time", "20201210T000000Z", date(2020, 12, 10), None),
        # the zone named by X-WR-TIMEZONE
        ("W. Europe Standard Time", "20201209T230000Z", date(2020, 12, 10), "Europe/Berlin"),
    ],
)
@pytest.mark.parametrize("household", ["Europe/London", "America/Los_Angeles"])
def test_exchange_all_day_series_keeps_its_last_day(
    tmp_path, zone: str, until: str, last: date, x_wr: str | None, household: str
) -> None:
    tz = ZoneInfo(household)
    feed = _exchange_feed(zone, until, x_wr=x_wr)
    on_board = datetime.combine(last - timedelta(days=2), datetime.min.time(), tz)
    events = _fetch(tmp_path, feed, tz=tz, now=on_board)
    assert [(e.title, e.start, e.end, e.all_day) for e in events] == [
        ("Garden waste", last, last + timedelta(days=1), True)
    ]
    # and nothing a fortnight later: the series did end
    assert _fetch(tmp_path, feed, tz=tz, now=on_board + timedelta(days=14)) == ()


SECONDLY = _calendar(
    _vevent(
        "tick",
        "DTSTART:20250119T000000",
        "DTEND:20250119T000005",
        "RRULE:FREQ=SECONDLY;INTERVAL=10",
        title="Tick",
    ),
    _vevent("dentist", "DTSTART:20250121T100000", "DTEND:20250121T110000", title="Dentist"),
)


def test_a_runaway_rule_is_cut_and_the_last_good_events_stay(tmp_path, caplog) -> None:
    good = _calendar(
        _vevent("dentist", "DTSTART:20250121T100000", "DTEND:20250121T110000", title="Dentist")
    )
    earlier = NOW - timedelta(hours=1)
    before, _ = _board(tmp_path, good, timezone="America/Los_Angeles", now=earlier)
    started = time.monotonic()
    snaps, state = _board(
        tmp_path, SECONDLY, timezone="America/Los_Angeles", now=NOW, previous=before
    )
    assert time.monotonic() - started < 20  # 43,200 instances took 28 s and 258 MB
    family = snaps["calendar:Family"]
    assert family.cut and family.data == before["calendar:Family"].data
    assert family.fetched_at == earlier
    assert family.last_error is not None and "cut" in family.last_error
    assert snaps["calendar:Work"].last_error is None and snaps["calendar:Work"].fetched_at == NOW
    shown = state.source("calendar:Family")
    assert shown is not None and shown.cut
    assert "Dentist" in _titles_by_day(state)[date(2025, 1, 21)]
    assert "Tick" not in sum(_titles_by_day(state).values(), [])


def test_expansion_stops_at_the_instance_cap_without_expanding_the_rest(
    tmp_path, monkeypatch
) -> None:
    from homeboard.sources import events as ev

    feed = _calendar(
        _vevent(
            "every15",
            "DTSTART:20250119T000000",
            "DURATION:PT5M",
            "RRULE:FREQ=MINUTELY;INTERVAL=15",
            title="Every 15 minutes",
        )
    )
    converted = 0
    real = ev.component_to_event

    def counting(*args, **kwargs):
        nonlocal converted
        converted += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ev, "component_to_event", counting)
    window = ev.window_for(NOW, LA, 4)
    with pytest.raises(SourceLimitExceeded, match="more than 100 occurrences") as caught:
        ev.events_from_ics(feed, calendar="F", window=window, limits=ev.Limits(instances=100))
    assert caught.value.partial is None  # the last good events stay
    assert converted <= 100  # 672 occurrences lie in the window: work stopped at the cap
    # within the default caps: 96 a day are expanded, the first 50 of each day kept
    with pytest.raises(SourceLimitExceeded, match="more than 50 events a day") as caught:
        ev.events_from_ics(feed, calendar="F", window=window)
    kept = caught.value.partial
    assert isinstance(kept, tuple) and len(kept) == 5 * 50
    assert kept[0].start == datetime(2025, 1, 20, 0, 0, tzinfo=LA)
    assert kept[49].start == datetime(2025, 1, 20, 12, 15, tzinfo=LA)


def test_a_feed_past_its_time_budget_is_cut(tmp_path) -> None:
    from homeboard.sources import events as ev

    window = ev.window_for(NOW, LA, 4)
    feed = read_bytes("ics/family.ics")
    with pytest.raises(SourceLimitExceeded, match="took longer than"):
        ev.events_from_ics(feed, calendar="F", window=window, deadline=time.monotonic() - 1)
    ticks = iter([0.0, 0.0, 31.0])
    budget = ev.Budget(ev.Limits(seconds=30), now=lambda: next(ticks))
    budget.check_time()
    with pytest.raises(SourceLimitExceeded, match="took longer than 30 s"):
        budget.check_time()


def test_expansion_keeps_to_the_deadline_of_the_fetch_in_progress() -> None:
    """Reading and expanding a feed stops at the source's own deadline (``deadline``),
    not only at the expansion's 30 s: a slow feed cannot hold a refresh past it."""
    from homeboard.sources import events as ev
    from homeboard.sources.base import fetch_scope

    window = ev.window_for(NOW, LA, 4)
    feed = read_bytes("ics/family.ics")
    assert ev.events_from_ics(feed, calendar="F", window=window)  # fine outside a fetch
    with fetch_scope(-1.0), pytest.raises(SourceLimitExceeded, match="took longer than"):
        ev.events_from_ics(feed, calendar="F", window=window)
    with fetch_scope(5.0):
        budget = ev.Budget(ev.Limits(seconds=30))
    assert budget.deadline <= time.monotonic() + 5.0


def _crowded_feed(per_day: int, *, pad_to: int = 0) -> bytes:
    """``per_day`` one-off events on Tue 21 Jan (written in UTC, shuffled), an all-day one
    written last, and a few on the other days."""
    events = []
    order = list(range(per_day))
    order = order[1::2] + order[::2]
    for i in order:  # between 01:00 and 21:00
        start = datetime(2025, 1, 21, 1, 0, tzinfo=LA) + i * timedelta(hours=20) / per_day
        utc = start.astimezone(UTC)
        events.append(
            _vevent(
                f"slot-{i}",
                f"DTSTART:{utc:%Y%m%dT%H%M%SZ}",
                f"DTEND:{utc + timedelta(minutes=30):%Y%m%dT%H%M%SZ}",
                title=f"Slot {i:03d}",
            )
        )
    for k, day in enumerate((20, 22, 23)):
        events.append(
            _vevent(
                f"other-{k}",
                f"DTSTART:202501{day}T170000Z",
                f"DTEND:202501{day}T180000Z",
                title=f"Other {day}",
            )
        )
    events.append(
        _vevent(
            "fair", "DTSTART;VALUE=DATE:20250121", "DTEND;VALUE=DATE:20250122", title="School fair"
        )
    )
    return _calendar(*events, pad_to=pad_to)


@pytest.mark.parametrize("pad_to", [0, 200_000])
def test_a_crowded_day_keeps_what_the_board_can_list_and_says_cut(tmp_path, pad_to) -> None:
    from homeboard.model import snapshot_to_json

    feed = _crowded_feed(400, pad_to=pad_to)
    snaps, state = _board(tmp_path, feed, timezone="America/Los_Angeles", now=NOW)
    family = snaps["calendar:Family"]
    assert family.cut and family.fetched_at == NOW
    assert family.last_error == (
        "Family: more than 50 events a day on Tue 21 Jan; showing the first 50"
    )
    events = family.data
    assert isinstance(events, tuple)
    tuesday = [
        e.title
        for e in events
        if e.start in (date(2025, 1, 21),)
        or (isinstance(e.start, datetime) and e.start.date() == date(2025, 1, 21))
    ]
    assert tuesday == ["School fair"] + [f"Slot {i:03d}" for i in range(49)]
    assert {"Other 20", "Other 22", "Other 23"} <= {e.title for e in events}
    assert len(json.dumps(snapshot_to_json(family))) < 20_000
    days = _titles_by_day(state)
    assert days[date(2025, 1, 21)][:2] == ["School fair", "Slot 000"]
    assert "Other 20" in days[date(2025, 1, 20)]
    assert state.source("calendar:Family").cut  # type: ignore[union-attr]
    assert snaps["calendar:Work"].last_error is None


def test_a_near_cap_feed_is_read_in_little_memory() -> None:
    import tracemalloc

    from homeboard.sources import events as ev

    feed = _crowded_feed(4_000, pad_to=2_000_000)  # 4,000 on one day, 2 MB of history
    window = ev.window_for(NOW, LA, 4)
    scan = ev.prefilter(feed, window, per_day=50)
    assert scan.components == 2 * 50 + 3 and scan.dropped == 4_000 + 1 - 2 * 50
    tracemalloc.start()
    try:
        with pytest.raises(SourceLimitExceeded) as caught:
            ev.events_from_ics(feed, calendar="F", window=window)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(caught.value.partial) == 50 + 3  # type: ignore[arg-type]
    assert peak < 4 * len(feed) + 8_000_000, f"{peak / 1e6:.0f} MB for {len(feed) / 1e6:.0f} MB"


@pytest.mark.parametrize("count", ["1000000000", "10000000000", "100000000000000000000"])
def test_a_practically_endless_count_still_shows_its_days(tmp_path, count: str) -> None:
    feed = _calendar(
        _vevent(
            "cat",
            "DTSTART;TZID=America/Los_Angeles:20200101T070000",
            "DURATION:PT30M",
            f"RRULE:FREQ=DAILY;COUNT={count}",
            title="Feed the cat",
        )
    )
    events = _fetch(tmp_path, feed)
    assert [e.start for e in events] == [
        datetime(2025, 1, 20 + i, 7, 0, tzinfo=LA) for i in range(5)
    ]


def test_prefilter_keeps_events_a_zone_moves_onto_the_board(tmp_path) -> None:
    # Written in UTC on the 19th; in Auckland they are on Monday the 20th. The scan
    # reads the 19th, so it must look two days around the board's days.
    feed = _calendar(
        _vevent(
            "breakfast",
            "DTSTART:20250119T190000Z",
            "DTEND:20250119T200000Z",
            title="Breakfast meeting",
        ),
        _vevent("reminder", "DTSTART:20250119T210000Z", title="Bins out"),
        pad_to=100_000,
    )
    now = datetime(2025, 1, 20, 6, 0, tzinfo=AUCKLAND)
    events = by_title(_fetch(tmp_path, feed, tz=AUCKLAND, now=now))
    assert events["Breakfast meeting"].start == datetime(2025, 1, 20, 8, 0, tzinfo=AUCKLAND)
    assert events["Bins out"].start == datetime(2025, 1, 20, 10, 0, tzinfo=AUCKLAND)


def test_a_zero_length_event_at_midnight_is_shown(tmp_path) -> None:
    feed = _calendar(
        _vevent(
            "rollover", "DTSTART;TZID=America/Los_Angeles:20250120T000000", title="Meter reading"
        ),
        _vevent(
            "marker",
            "DTSTART;TZID=America/Los_Angeles:20250121T000000",
            "DTEND;TZID=America/Los_Angeles:20250121T000000",
            title="Payday",
        ),
    )
    midnight = datetime(2025, 1, 20, 0, 0, tzinfo=LA)  # the midnight refresh
    snaps, state = _board(tmp_path, feed, timezone="America/Los_Angeles", now=midnight)
    days = _titles_by_day(state)
    assert days[date(2025, 1, 20)][0] == "Meter reading"
    assert days[date(2025, 1, 21)][0] == "Payday"
    assert "Payday" not in days[date(2025, 1, 20)]
    monday = state.days[0].events[0]
    assert monday.start == midnight and not monday.ended


def test_a_fast_rule_that_ended_long_ago_costs_nothing(tmp_path) -> None:
    # FREQ=SECONDLY is only a runaway when it runs up to the board's days.
    feed = _calendar(
        _vevent(
            "old-ticks",
            "DTSTART:20190101T000000",
            "DTEND:20190101T000001",
            "RRULE:FREQ=SECONDLY;UNTIL=20190101T000500",
            title="Old ticks",
        ),
        _vevent("dentist", "DTSTART:20250121T100000", "DTEND:20250121T110000", title="Dentist"),
    )
    assert [e.title for e in _fetch(tmp_path, feed)] == ["Dentist"]


def test_too_many_events_to_parse_is_cut_before_parsing() -> None:
    from homeboard.sources import events as ev

    feed = _calendar(
        *(
            _vevent(
                f"weekly-{i}",
                f"DTSTART:20240101T{i % 24:02d}{i // 24:02d}00",
                "DURATION:PT1H",
                "RRULE:FREQ=WEEKLY",
                title=f"Weekly {i}",
            )
            for i in range(30)
        )
    )
    window = ev.window_for(NOW, LA, 4)
    assert {e.title for e in ev.events_from_ics(feed, calendar="F", window=window)} == {
        f"Weekly {i}" for i in range(30)
    }  # every Monday series shows
    with pytest.raises(SourceLimitExceeded, match="more than 20 events to read"):
        ev.events_from_ics(feed, calendar="F", window=window, limits=ev.Limits(components=20))
