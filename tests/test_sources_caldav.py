"""CalDAV: discovery once, one REPORT per calendar, recurrences like ICS, failures alone."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, timedelta

import pytest
from sources_fixtures import LA, NOW, read_bytes, requests_to, session, write_config
from werkzeug import Request, Response

from homeboard.model import compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.caldav import CalDAVSource

pytest.importorskip("caldav", reason="the caldav extra is not installed")

__all__ = ["session"]

ROOT = "/remote.php/dav/"
PRINCIPAL = "/remote.php/dav/principals/users/sam/"
HOME = "/remote.php/dav/calendars/sam/"
SOCCER = "/remote.php/dav/calendars/sam/soccer/"
FAMILY = "/remote.php/dav/calendars/sam/family/"
XML = "application/xml; charset=utf-8"
AUTH = "Basic " + base64.b64encode(b"sam:app-pass-1234").decode()


def dav_handler(request: Request) -> Response:
    """A small CalDAV server: answers the discovery PROPFINDs and the REPORTs by path."""
    if request.headers.get("Authorization") != AUTH:
        return Response("", status=401, headers={"WWW-Authenticate": 'Basic realm="Nextcloud"'})
    body = request.get_data(as_text=True)
    name = None
    if request.method == "PROPFIND":
        if "current-user-principal" in body:  # asked of whatever URL the client was given
            text = read_bytes("caldav/principal.xml").decode().replace(
                f"<d:href>{ROOT}</d:href>", f"<d:href>{request.path}</d:href>")
            return Response(text, status=207, content_type=XML)
        if "calendar-home-set" in body and request.path == PRINCIPAL:
            name = "home_set.xml"
        elif "resourcetype" in body and request.path == HOME:
            name = "calendars.xml"
    elif request.method == "REPORT":
        name = {SOCCER: "report_soccer.xml", FAMILY: "report_family.xml"}.get(request.path)
    if name is None:
        return Response("Not Found", status=404)
    return Response(read_bytes(f"caldav/{name}"), status=207, content_type=XML)


def serve_dav(httpserver) -> None:
    httpserver.expect_request(re.compile(r"^/remote\.php/dav/.*")).respond_with_handler(dav_handler)


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "dav-password"
    path.write_text("app-pass-1234\n")
    return path


def make_source(url: str, password_file, **kw) -> CalDAVSource:
    return CalDAVSource(name="Soccer", url=url, tz=LA, days=4, username="sam",
                        password_file=password_file, **kw)


def test_a_calendar_url_one_report_per_refresh(httpserver, session, password_file) -> None:
    serve_dav(httpserver)
    source = make_source(httpserver.url_for(SOCCER), password_file)
    events = source.fetch(session=session, now=NOW)
    methods = [(r.method, r.path) for r in requests_to(httpserver)]
    assert methods[-1] == ("REPORT", SOCCER)
    assert ("REPORT", FAMILY) not in methods  # the URL names one calendar: only that one
    report = requests_to(httpserver, SOCCER)[-1]
    body = report.get_data(as_text=True)
    assert "time-range" in body and "VEVENT" in body
    assert report.headers["User-Agent"].startswith("homeboard/")

    by_title = {e.title: e for e in events}
    # the weekly series expanded, the 21st moved by RECURRENCE-ID, the 23rd excluded
    assert by_title["Soccer practice (moved)"].start == datetime(2025, 1, 21, 18, 0, tzinfo=LA)
    assert "Soccer practice" not in by_title
    tournament = by_title["Winter tournament"]
    assert (tournament.start, tournament.end, tournament.all_day) == (
        date(2025, 1, 22), date(2025, 1, 24), True)
    assert by_title[""].start == datetime(2025, 1, 20, 19, 0, tzinfo=LA)  # confidential, untitled

    # after discovery: exactly one request per refresh
    httpserver.clear_log()
    later = source.fetch(session=session, now=NOW + timedelta(days=2))
    assert [(r.method, r.path) for r in requests_to(httpserver)] == [("REPORT", SOCCER)]
    assert [e.title for e in later if e.title.startswith("Soccer")] == []  # 23rd excluded


def test_server_url_shows_every_calendar_or_the_named_one(httpserver, session,
                                                          password_file) -> None:
    serve_dav(httpserver)
    every = make_source(httpserver.url_for(ROOT), password_file).fetch(session=session, now=NOW)
    assert {"Family dinner", "Winter tournament"} <= {e.title for e in every}
    httpserver.clear_log()
    named = make_source(httpserver.url_for(ROOT), password_file, calendar="Family")
    events = named.fetch(session=session, now=NOW)
    assert [e.title for e in events] == ["Family dinner"]
    assert ("REPORT", SOCCER) not in [(r.method, r.path) for r in requests_to(httpserver)]
    missing = make_source(httpserver.url_for(ROOT), password_file, calendar="Chess")
    with pytest.raises(Exception, match="no calendar named 'Chess'.*Family, Soccer"):
        missing.fetch(session=session, now=NOW)


@pytest.mark.parametrize(("status", "reason"), [
    (401, "not authorised (check the username and password file)"),
    (404, "calendar not found"),
    (503, "HTTP 503 calendar query failed"),
])
def test_failure_keeps_last_good_events(tmp_path, httpserver, session, password_file,
                                        status: int, reason: str) -> None:
    serve_dav(httpserver)
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - name: Soccer
            caldav:
              url: {httpserver.url_for(SOCCER)}
              username: sam
              password_file: {password_file}
          - name: School
            ics_url: {tmp_path / 'school.ics'}
    """)
    (tmp_path / "school.ics").write_bytes(read_bytes("ics/outlook.ics"))
    sources = build_sources(config)
    earlier = NOW - timedelta(hours=8)
    good = fetch_all(sources, {}, session=session, now=earlier)
    assert good["calendar:Soccer"].last_error is None

    httpserver.clear()
    httpserver.expect_request(SOCCER, method="REPORT").respond_with_data(
        "<html>no</html>", status=status, content_type="text/html",
        headers={"WWW-Authenticate": 'Basic realm="Nextcloud"'} if status == 401 else {})
    after = fetch_all(sources, good, session=session, now=NOW)
    snap = after["calendar:Soccer"]
    assert snap.last_error == f"Soccer: {reason}"
    assert snap.data == good["calendar:Soccer"].data and snap.fetched_at == earlier
    assert after["calendar:School"].last_error is None
    state = compose(config, after, NOW)
    assert state.source("calendar:Soccer").status == "stale"  # type: ignore[union-attr]
    assert "Winter tournament" in [e.title for e in state.days[2].events]
    assert "Team stand-up" in [e.title for e in state.days[1].events]


def test_no_password_file_is_a_clear_error(tmp_path, httpserver, session) -> None:
    source = make_source(httpserver.url_for(SOCCER), tmp_path / "missing")
    with pytest.raises(Exception, match="cannot read the CalDAV password file"):
        source.fetch(session=session, now=NOW)
    assert requests_to(httpserver) == []


def _report(*objects: str) -> str:
    """A REPORT answer holding ``objects`` (the VEVENT lines of one calendar object each)."""
    responses = "".join(
        f"""<d:response><d:href>{FAMILY}obj-{i}.ics</d:href><d:propstat><d:prop>
<d:getetag>&quot;e{i}&quot;</d:getetag><cal:calendar-data>BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Nextcloud calendar v4.7.0
BEGIN:VEVENT
UID:obj-{i}@nextcloud
DTSTAMP:20250110T120000Z
{body}
END:VEVENT
END:VCALENDAR
</cal:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"""
        for i, body in enumerate(objects))
    return ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
            f'xmlns:cal="urn:ietf:params:xml:ns:caldav">{responses}</d:multistatus>')


def test_caps_hold_across_a_calendars_objects(httpserver, session, password_file) -> None:
    # A runaway rule in one object cuts the whole calendar (it is not "one unreadable
    # event"), and a crowded day keeps its first 50 events across all the objects.
    dinner = "DTSTART;TZID=America/Los_Angeles:20250120T183000\nDURATION:PT1H\nSUMMARY:Dinner"
    tick = ("DTSTART:20250119T000000\nDURATION:PT5S\nRRULE:FREQ=SECONDLY;INTERVAL=10\n"
            "SUMMARY:Tick")
    slots = [f"DTSTART:20250121T{8 + i // 6:02d}{i % 6 * 10:02d}00\nDURATION:PT10M\n"
             f"SUMMARY:Slot {i:02d}" for i in range(60)]
    answers = iter([_report(dinner), _report(dinner, tick), _report(dinner, *slots)])
    httpserver.expect_request(FAMILY, method="REPORT").respond_with_handler(
        lambda request: Response(next(answers), status=207, content_type=XML))
    source = make_source(httpserver.url_for(FAMILY), password_file)
    source._calendar_urls = [httpserver.url_for(FAMILY)]  # no discovery in this test
    earlier = NOW - timedelta(hours=1)
    good = fetch_all([source], {}, session=session, now=earlier)
    assert [e.title for e in good["calendar:Soccer"].data] == ["Dinner"]  # type: ignore[union-attr]

    runaway = fetch_all([source], good, session=session, now=NOW)["calendar:Soccer"]
    assert runaway.cut and runaway.data == good["calendar:Soccer"].data
    assert runaway.fetched_at == earlier and "cut" in (runaway.last_error or "")

    crowded = fetch_all([source], good, session=session, now=NOW)["calendar:Soccer"]
    assert crowded.cut and crowded.fetched_at == NOW
    titles = [e.title for e in crowded.data]  # type: ignore[union-attr]
    assert titles == ["Dinner"] + [f"Slot {i:02d}" for i in range(50)]
