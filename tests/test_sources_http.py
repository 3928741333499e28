"""The shared HTTP session: retries, timeouts, secret-free errors (homeboard.sources.http)."""

from __future__ import annotations

import base64
import os
import time
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from hostile_http import LATIN1_TITLE, UTF16_TITLE, HostileServer, calendar
from sources_fixtures import (
    LA,
    NOW,
    closed_port,
    fast_session,
    requests_to,
    session,
    silent_server,
    write_config,
)
from werkzeug import Response

from homeboard import __version__
from homeboard.errors import ConfigError, SourceError, SourceLimitExceeded
from homeboard.model import Snapshot
from homeboard.sources import fetch_all, fetch_one, http, make_session
from homeboard.sources.base import MB, Limits, fetch_scope, limits_for, read_secret
from homeboard.sources.ics import ICSSource

__all__ = ["session", "silent_server"]  # fixtures used by name


def test_session_has_user_agent_and_bounded_retries() -> None:
    s = make_session()
    assert s.headers["User-Agent"] == f"homeboard/{__version__}"
    retry = s.get_adapter("https://example.org").max_retries
    assert retry.total == 2 and retry.read == 1
    assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}
    assert retry.respect_retry_after_header
    assert "GET" in retry.allowed_methods and "POST" not in retry.allowed_methods
    s.close()


def test_5xx_is_retried_then_succeeds(httpserver, session) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/x").respond_with_data("busy", status=502)
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    resp = http.get(session, httpserver.url_for("/x"), timeout=(2, 2))
    assert resp.text == "ok"
    assert len(requests_to(httpserver, "/x")) == 3


def test_5xx_gives_up_after_two_retries(httpserver, session) -> None:
    httpserver.expect_request("/x").respond_with_json(
        {"title": "Unexpected Problem"}, status=500)
    with pytest.raises(SourceError, match=r"^HTTP 500 server error: Unexpected Problem$"):
        http.get(session, httpserver.url_for("/x"), timeout=(2, 2))
    assert len(requests_to(httpserver, "/x")) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_is_not_retried(httpserver, session, status: int) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=status)
    with pytest.raises(SourceError, match=f"^HTTP {status}"):
        http.get(session, httpserver.url_for("/x"), timeout=(2, 2))
    assert len(requests_to(httpserver, "/x")) == 1


def test_429_honours_a_short_retry_after(httpserver) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    with fast_session() as s:
        started = time.monotonic()
        resp = http.get(s, httpserver.url_for("/x"), timeout=(2, 2))
        waited = time.monotonic() - started
    assert resp.text == "ok"
    assert waited >= 0.9  # the server asked for a second


def test_429_with_a_long_retry_after_fails_at_once(httpserver) -> None:
    # Open-Meteo's daily limit: waiting a day inside a refresh is no option.
    httpserver.expect_request("/x").respond_with_json(
        {"error": True, "reason": "Daily API request limit exceeded. Please try again tomorrow."},
        status=429, headers={"Retry-After": "86400"})
    with fast_session() as s:
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"HTTP 429 rate limited: Daily API request limit"):
            http.get(s, httpserver.url_for("/x"), timeout=(2, 2))
        assert time.monotonic() - started < 2
    assert len(requests_to(httpserver, "/x")) == 1


def test_connection_refused(session) -> None:
    with pytest.raises(SourceError, match="^connection refused$"):
        http.get(session, f"http://127.0.0.1:{closed_port()}/x", timeout=(1, 1))


def test_read_timeout_is_bounded(session, silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match="^timed out waiting for the server$"):
        http.get(session, silent_server + "/x", timeout=(0.5, 0.3))
    # one retry of a read timeout: two waits of 0.3 s, not three, not forever
    assert time.monotonic() - started < 2.0


def test_malformed_json_is_a_source_error(httpserver, session) -> None:
    httpserver.expect_request("/x").respond_with_data(
        "<html>Bad gateway</html>", content_type="text/html")
    resp = http.get(session, httpserver.url_for("/x"), timeout=(2, 2))
    with pytest.raises(SourceError, match=r"^malformed JSON \(text/html\)$"):
        http.json_body(resp)


def test_errors_carry_no_secrets(httpserver, session) -> None:
    def echo(request):  # a server that echoes the query in its error, as some do
        return Response(f'{{"reason": "bad apikey {request.args.get("apikey")}"}}', status=400,
                        content_type="application/json")

    httpserver.expect_request("/v1/forecast").respond_with_handler(echo)
    with pytest.raises(SourceError) as info:
        http.get(session, httpserver.url_for("/v1/forecast"), params={"apikey": "s3cr3t-KEY"},
                 timeout=(2, 2), secrets=("s3cr3t-KEY",))
    assert "s3cr3t-KEY" not in str(info.value)
    assert str(info.value) == "HTTP 400 bad request: bad apikey ***"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://api.open-meteo.com/v1/forecast?latitude=1&apikey=abc",
     "https://api.open-meteo.com/v1/forecast?…"),
    ("https://sam:hunter2@cloud.example.com/remote.php/dav/", "https://cloud.example.com/remote.php/dav/"),
    ("https://calendar.google.com/calendar/ical/family%40gmail.com/private-0a1b2c3d/basic.ics",
     "https://calendar.google.com/…"),
    ("https://p123-caldav.icloud.com/published/2/MTIzNDU2Nzg5", "https://p123-caldav.icloud.com/…"),
    ("https://outlook.office365.com/owa/calendar/abc@x.com/0f1e2d/calendar.ics",
     "https://outlook.office365.com/…"),
    ("https://cloud.example.com/remote.php/dav/public-calendars/XyZ123?export",
     "https://cloud.example.com/…?…"),
    ("https://school.example.org/district.ics", "https://school.example.org/district.ics"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert http.redact_url(url) == shown


def test_redact_text() -> None:
    text = (
        "HTTPSConnectionPool(host='customer-api.open-meteo.com', port=443): Max retries exceeded"
        " with url: /v1/forecast?latitude=37.68&apikey=s3cr3t (Caused by ...) "
        "GET https://calendar.google.com/calendar/ical/x/private-abc123/basic.ics "
        "Authorization: Bearer ya29.a0AfB_byFRESHtoken password=hunter2"
    )
    out = http.redact(text, secrets=("hunter2",))
    for secret in ("s3cr3t", "private-abc123", "ya29.a0AfB_byFRESHtoken", "hunter2"):
        assert secret not in out
    assert "customer-api.open-meteo.com" in out


def test_describe_exception_never_echoes_the_url() -> None:
    exc = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: /a?token=SECRET")
    assert http.describe_exception(exc) == "connection failed"
    assert http.describe_exception(requests.exceptions.ReadTimeout("x?token=SECRET")) == (
        "timed out waiting for the server")


def test_timeouts_from_config() -> None:
    assert http.timeouts(timedelta(seconds=10)) == (5.0, 10.0)
    assert http.timeouts(timedelta(seconds=2)) == (2.0, 2.0)
    assert http.timeouts(None, default=15) == (5.0, 15.0)


def test_library_log_lines_are_redacted(httpserver, session, caplog, monkeypatch) -> None:
    # urllib3 logs each retry with the URL and its query string.
    import logging

    pool_log = logging.getLogger("urllib3.connectionpool")
    monkeypatch.setattr(pool_log, "disabled", False)  # other tests may configure logging
    monkeypatch.setattr(pool_log, "propagate", True)
    httpserver.expect_ordered_request("/v1/forecast").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/v1/forecast").respond_with_data("ok")
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="urllib3.connectionpool")  # the app quiets urllib3
    http.get(session, httpserver.url_for("/v1/forecast"), params={"apikey": "s3cr3t-KEY"},
             timeout=(2, 2))
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # the test server
    assert any("Retry" in r.getMessage() for r in ours)
    assert not any("s3cr3t-KEY" in r.getMessage() for r in ours)


# --------------------------------------------------------------------------- #
# Hostile answers, from a real local server (tests/hostile_http.py)
# --------------------------------------------------------------------------- #



@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer(drip_interval=0.05, max_seconds=20, bomb_size=64 * MB) as server:
        yield server


def ics(name: str, url: str, *, deadline: float = 10.0, limits: Limits | None = None,
        **kw: object) -> ICSSource:
    source = ICSSource(name=name, url=url, tz=LA, days=4, timeout=timedelta(seconds=5), **kw)
    source.deadline = deadline  # type: ignore[attr-defined]
    if limits is not None:
        source.limits = limits  # type: ignore[misc]
    return source


def last_good(name: str) -> Snapshot:
    """A snapshot as a refresh an hour ago left it: one event, no error."""
    fetched = NOW - timedelta(hours=1)
    return Snapshot(name=f"calendar:{name}", kind="calendar", data=(), fetched_at=fetched,
                    changed_at=fetched, attempted_at=fetched)


def test_a_dripping_calendar_fails_alone_at_its_deadline(hostile: HostileServer,
                                                         session) -> None:
    drip = ics("Drip", hostile.url("/drip"), deadline=1.0)
    fine = ics("Fine", hostile.url("/ok.ics"))
    prev = {"calendar:Drip": last_good("Drip")}
    started = time.monotonic()
    snaps = fetch_all([drip, fine], prev, session=session, now=NOW)
    took = time.monotonic() - started
    # stopped by its own deadline (checked between reads), not by the backstop's grace
    assert 1.0 <= took < 2.5
    cut = snaps["calendar:Drip"]
    assert cut.last_error == "Drip: took longer than 1 s (cut)"
    assert cut.cut and cut.data == () and cut.fetched_at == prev["calendar:Drip"].fetched_at
    ok = snaps["calendar:Fine"]
    assert ok.last_error is None and [e.title for e in ok.data] == ["Zumba"]  # type: ignore[union-attr]
    # the reader hung up at its deadline (an abandoned reader would go on reading)
    sent = hostile.sent["/drip"]
    time.sleep(0.5)
    assert hostile.sent["/drip"] - sent <= 2


@pytest.mark.parametrize(("path", "expected"), [
    ("/endless", "answer larger than 1 MB (cut)"),
    ("/endless-503", "answer larger than 1 MB (cut)"),
    ("/huge-declared", "answer larger than 1 MB (Content-Length, cut)"),
    ("/bomb", "answer larger than 4 MB decompressed (cut)"),
])
def test_unbounded_answers_are_cut_at_the_caps(hostile: HostileServer, session, path: str,
                                               expected: str) -> None:
    source = ics("Feed", hostile.url(path), limits=Limits(wire=1 * MB, body=4 * MB))
    started = time.monotonic()
    snap = fetch_one(source, last_good("Feed"), session=session, now=NOW)
    assert time.monotonic() - started < 5
    assert snap.last_error == f"Feed: {expected}"
    assert snap.cut and snap.data == ()  # the last good data stay
    time.sleep(0.2)
    # no more than the cap and what fits in socket buffers was sent per attempt (the
    # server would stream gigabytes in its 20 s)
    assert hostile.sent[path] < hostile.requests[path] * 16 * MB


def test_the_default_calendar_caps_stop_a_gzip_bomb(session) -> None:
    # 200 MB of zeros in 200 KB of gzip: cut at the calendar's 32 MB, not read whole.
    with HostileServer(bomb_size=200 * MB) as server:
        source = ics("Feed", server.url("/bomb"))
        cut = r"^answer larger than 32 MB decompressed \(cut\)$"
        with pytest.raises(SourceLimitExceeded, match=cut), fetch_scope(10, limits_for(source)):
            source.fetch(session=session, now=NOW)


@pytest.mark.parametrize(("path", "expected"), [
    ("/loop", "too many redirects (more than 5)"),
    ("/to-file", "redirect to file: refused (http and https only)"),
    ("/to-ftp", "redirect to ftp: refused (http and https only)"),
])
def test_bad_redirects_are_refused(hostile: HostileServer, session, path: str,
                                   expected: str) -> None:
    snap = fetch_one(ics("Feed", hostile.url(path)), None, session=session, now=NOW)
    assert snap.last_error == f"Feed: {expected}"
    assert hostile.requests[path] <= 6


@pytest.mark.parametrize(("path", "title"), [
    ("/latin1", LATIN1_TITLE.replace("–", "-")),
    ("/latin1-unlabelled", LATIN1_TITLE.replace("–", "-")),
    ("/utf16", UTF16_TITLE),
])
def test_feeds_in_other_charsets_read_right(hostile: HostileServer, session, path: str,
                                            title: str) -> None:
    snap = fetch_one(ics("Feed", hostile.url(path)), None, session=session, now=NOW)
    assert snap.last_error is None
    assert [e.title for e in snap.data] == [title]  # type: ignore[union-attr]


def test_a_compressed_chunked_calendar_reads_whole(hostile: HostileServer, session) -> None:
    snap = fetch_one(ics("Feed", hostile.url("/gzip-chunked")), None, session=session, now=NOW)
    assert snap.last_error is None
    assert [e.title for e in snap.data] == ["Chunked"]  # type: ignore[union-attr]


def test_a_latin1_calendar_file_reads_right(tmp_path: Path, session) -> None:
    path = tmp_path / "old.ics"
    path.write_bytes(calendar("Café Grüße").encode("cp1252"))
    snap = fetch_one(ics("Old", str(path)), None, session=session, now=NOW)
    assert [e.title for e in snap.data] == ["Café Grüße"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("body", "charset", "text"), [
    ("Grüße".encode(), "ISO-8859-1", "Grüße"),  # a server default that is wrong: UTF-8 wins
    ("Grüße".encode("latin-1"), "ISO-8859-1", "Grüße"),
    ("Grüße".encode("latin-1"), None, "Grüße"),
    ("€ 5".encode("cp1252"), None, "€ 5"),
    ("Grüße".encode("utf-16-le"), "utf-16-le", "Grüße"),  # named, no BOM
    ("\ufeffGrüße".encode("utf-16-be"), "utf-8", "Grüße"),  # the BOM beats the label
    ("\ufeffGrüße".encode(), None, "Grüße"),
    ("Grüße".encode("koi8-r", errors="replace"), "koi8-r", "Grüße".encode(
        "koi8-r", errors="replace").decode("koi8-r")),
    (b"\x81\x8d", "no-such-charset", "\x81\x8d"),  # nothing fits: Latin-1, never a failure
])
def test_decode_text(body: bytes, charset: str | None, text: str) -> None:
    assert http.decode_text(body, charset) == text


def test_json_in_the_charset_the_server_names(httpserver, session) -> None:
    httpserver.expect_request("/x").respond_with_data(
        '{"reason": "Grüße"}'.encode("latin-1"), content_type="application/json; charset=latin-1")
    assert http.json_body(http.get(session, httpserver.url_for("/x"), timeout=(2, 2))) == {
        "reason": "Grüße"}


# --------------------------------------------------------------------------- #
# Local files and secret files
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("make", ["device", "fifo", "folder"])
def test_a_calendar_path_that_is_not_a_file_is_refused(tmp_path: Path, session,
                                                      make: str) -> None:
    if make == "device":
        target = "/dev/zero"
    elif make == "fifo":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)  # nobody writes: a plain open() would wait forever
    else:
        target = str(tmp_path)
    started = time.monotonic()
    for url in (target, Path(target).as_uri()):
        snap = fetch_one(ics("Local", url), None, session=session, now=NOW)
        assert snap.last_error == "Local: cannot read the calendar file (not a regular file)"
    assert time.monotonic() - started < 2


def test_check_config_refuses_a_device_as_calendar(tmp_path: Path) -> None:
    for url in ("/dev/zero", "file:///dev/zero"):
        with pytest.raises(ConfigError, match="not a regular file"):
            write_config(tmp_path, f"calendars: [{{name: Z, ics_url: '{url}'}}]\n"
                                   "weather: {enabled: false}\n")


def test_a_calendar_file_over_its_cap_is_cut(tmp_path: Path, session) -> None:
    path = tmp_path / "big.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\n" + b"X" * (2 * MB))
    snap = fetch_one(ics("Big", str(path), limits=Limits(wire=MB, body=MB)), None,
                     session=session, now=NOW)
    assert snap.last_error == "Big: the calendar file is larger than 1 MB (cut)" and snap.cut


def test_only_the_first_line_of_a_secret_file_is_the_secret(tmp_path: Path, httpserver,
                                                            session) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-pw\nrotated 2025-01-01 by dad\n")
    assert read_secret(secret, "the password file") == "s3cret-pw"
    httpserver.expect_request("/cal.ics").respond_with_data(
        calendar(), content_type="text/calendar")
    source = ics("Auth", httpserver.url_for("/cal.ics"), username="me", password_file=secret)
    snap = fetch_one(source, None, session=session, now=NOW)
    assert snap.last_error is None
    sent = requests_to(httpserver, "/cal.ics")[0].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"me:s3cret-pw").decode()


def test_a_device_as_secret_file_is_refused_at_once(session) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"^cannot read the key file \(not a regular file\)$"):
        read_secret("/dev/zero", "the key file")
    assert time.monotonic() - started < 1


# --------------------------------------------------------------------------- #
# Secrets the server echoes
# --------------------------------------------------------------------------- #


def test_userinfo_echoed_by_the_server_is_masked(hostile: HostileServer, session,
                                                 caplog) -> None:
    caplog.set_level("DEBUG")
    url = hostile.url("/echo-userinfo", userinfo="family:pa55word")
    snap = fetch_one(ics("Fam", url), None, session=session, now=NOW)
    assert snap.last_error is not None and snap.last_error.startswith("Fam: HTTP 404 not found")
    assert "***@127.0.0.1" in snap.last_error
    assert "pa55word" not in snap.last_error and "pa55word" not in caplog.text


@pytest.mark.parametrize("text", [
    "no calendar at other:hunter22@cal.example.org/x.ics",
    "redirected to https://other:hunter22@cal.example.org/x.ics",
    "Location: //other:hunter22@cal.example.org/x.ics",
    # Redis's usual form has a password and no user name
    "ValueError: cannot connect to redis://:hunter22@127.0.0.1:6379/0",
])
def test_redact_masks_any_userinfo(text: str) -> None:
    assert "hunter22" not in http.redact(text)


def test_redact_masks_a_url_password_however_it_is_echoed() -> None:
    url = "https://fam%40home:p%40ss-w0rd@cal.example.org/family.ics"
    token = base64.b64encode(b"fam@home:p@ss-w0rd").decode()
    for echoed in (f"bad password p@ss-w0rd for {url}", f"token {token} refused",
                   "user fam@home:p@ss-w0rd refused"):
        out = http.redact(echoed, secrets=(url,))
        assert "p@ss-w0rd" not in out and token not in out, out


@pytest.mark.parametrize(("url", "shown"), [
    # a self-hosted server: the marker alone says the path is the secret
    ("https://mail.example.com/owa/calendar/0f1e2d3c@example.com/9a8b7c/calendar.ics",
     "https://mail.example.com/…"),
    ("https://dav.example.com/cal/private-0a1b2c3d4e/basic.ics", "https://dav.example.com/…"),
])
def test_secret_path_segments_are_hidden_on_any_host(url: str, shown: str) -> None:
    assert http.redact_url(url) == shown
    assert "0a1b2c3d4e" not in http.redact(f"GET {url} failed")


@pytest.mark.parametrize("line", [
    # urllib3 writes the path without the host when it retries
    'Retrying (Retry(total=1)) after connection broken: /owa/calendar/0f1e2d3c/9a8b7c/cal.ics',
    '"GET /calendar/ical/x/private-0a1b2c3d4e/basic.ics HTTP/1.1" 503',
])
def test_secret_path_segments_are_hidden_without_a_host(line: str) -> None:
    out = http.redact(line)
    assert "9a8b7c" not in out and "0a1b2c3d4e" not in out, out


def _deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(("encoding", "pack"), [
    ("gzip", lambda d: _deflate(d, 16 + zlib.MAX_WBITS)),
    ("gzip", lambda d: _deflate(d[:10], 31) + _deflate(d[10:], 31)),  # two gzip members
    ("deflate", lambda d: _deflate(d, zlib.MAX_WBITS)),  # zlib-wrapped, as the RFC says
    ("deflate", lambda d: _deflate(d, -zlib.MAX_WBITS)),  # raw, as some servers send it
])
def test_compressed_answers_read_right(httpserver, session, encoding: str, pack) -> None:
    text = calendar("Komprimiert").encode() * 50
    httpserver.expect_request("/c").respond_with_data(
        pack(text), headers={"Content-Encoding": encoding}, content_type="text/calendar")
    assert http.get(session, httpserver.url_for("/c"), timeout=(2, 2)).content == text


def test_an_encoding_not_asked_for_is_refused(httpserver, session) -> None:
    httpserver.expect_request("/c").respond_with_data(b"\x00" * 10, headers={
        "Content-Encoding": "br"})
    with pytest.raises(SourceError, match=r"^unsupported content encoding 'br'$"):
        http.get(session, httpserver.url_for("/c"), timeout=(2, 2))
    assert requests_to(httpserver, "/c")[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(("path", "expected"), [
    ("/endless", "answer larger than 1 MB (cut)"),
    ("/drip", "took longer than 1 s (cut)"),
    ("/to-file", "redirect to file: refused (http and https only)"),
])
def test_caldav_answers_are_bounded_too(hostile: HostileServer, session, path: str,
                                        expected: str) -> None:
    pytest.importorskip("caldav")
    from homeboard.sources.caldav import CalDAVSource

    source = CalDAVSource(name="Dav", url=hostile.url(path), tz=LA, days=4, timeout=5)
    source.deadline = 1.0  # type: ignore[attr-defined]
    source.limits = Limits(wire=MB, body=MB)  # type: ignore[attr-defined]
    started = time.monotonic()
    snap = fetch_one(source, None, session=session, now=NOW)
    assert time.monotonic() - started < 3
    assert snap.last_error == f"Dav: {expected}"
