"""The shared HTTP session: retries, timeouts, secret-free errors (homeboard.sources.http)."""

from __future__ import annotations

import time

import pytest
import requests
from sources_fixtures import closed_port, fast_session, requests_to, session, silent_server
from werkzeug import Response

from homeboard import __version__
from homeboard.errors import SourceError
from homeboard.sources import http, make_session

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
    from datetime import timedelta

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
