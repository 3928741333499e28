"""Google Calendar API v3 against a local server: events.list, auth, refresh, errors, connect."""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sources_fixtures import LA, NOW, read_json, requests_to, session, write_config
from werkzeug import Request, Response

pytest.importorskip("googleapiclient", reason="the google extra is not installed")

from homeboard.errors import UsageError  # noqa: E402
from homeboard.model import calendar_source, compose  # noqa: E402
from homeboard.sources import build_sources, fetch_all  # noqa: E402
from homeboard.sources.google import (  # noqa: E402
    GoogleCalendarSource,
    event_from_item,
    run_google_auth,
    write_private_file,
)

__all__ = ["session"]

CAL_ID = "family0123@group.calendar.google.com"
EVENTS = f"/calendar/v3/calendars/{CAL_ID}/events"
TOKEN = "/token"
ACCESS = "ya29.a0AfB_byTEST-access-token"


def write_token(path: Path, token_uri: str, *, expired: bool = False) -> Path:
    path.write_text(json.dumps({
        "token": ACCESS,
        "refresh_token": "1//0gTEST-refresh-token",
        "token_uri": token_uri,
        "client_id": "1234567890-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-test-client-secret",
        "scopes": ["https://www.googleapis.com/auth/calendar.readonly"],
        "universe_domain": "googleapis.com",
        "account": "",
        "expiry": "2000-01-01T00:00:00Z" if expired else "2099-01-01T00:00:00Z",
    }))
    return path


def client_secrets(path: Path, server_url: str) -> Path:
    path.write_text(json.dumps({"installed": {
        "client_id": "1234567890-abc.apps.googleusercontent.com",
        "project_id": "homeboard-family",
        "auth_uri": server_url + "/o/oauth2/auth",
        "token_uri": server_url + TOKEN,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": "GOCSPX-test-client-secret",
        "redirect_uris": ["http://localhost"],
    }}))
    return path


def make_source(tmp_path: Path, httpserver, *, expired: bool = False, **kw) -> GoogleCalendarSource:
    base = httpserver.url_for("").rstrip("/")
    token = write_token(tmp_path / "token.json", base + TOKEN, expired=expired)
    return GoogleCalendarSource(
        name="Family", calendar_id=CAL_ID,
        credentials=client_secrets(tmp_path / "client.json", base),
        token=token, tz=LA, timezone="America/Los_Angeles", days=4,
        api_endpoint=httpserver.url_for("/calendar/v3/"), token_uri=base + TOKEN, **kw)


@pytest.fixture
def no_sleep(monkeypatch) -> list[float]:
    """googleapiclient sleeps between its retries; record the sleeps instead."""
    slept: list[float] = []
    monkeypatch.setattr("googleapiclient.http.time.sleep", slept.append)
    return slept


def test_events_list_request_and_events(tmp_path, httpserver, session) -> None:
    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/events.json"))
    events = make_source(tmp_path, httpserver).fetch(session=session, now=NOW)

    (req,) = requests_to(httpserver)
    q = req.args
    assert req.headers["Authorization"] == f"Bearer {ACCESS}"
    assert (q["singleEvents"], q["orderBy"], q["timeZone"]) == (
        "true", "startTime", "America/Los_Angeles")
    # local midnights with their offset, never pre-converted to UTC (a day of margin
    # each side; the source keeps exactly the board's days)
    assert q["timeMin"] == "2025-01-19T00:00:00-08:00"
    assert q["timeMax"] == "2025-01-26T00:00:00-08:00"
    assert "items(" in q["fields"] and q["maxResults"] == "250"

    ev = {e.title: e for e in events}
    assert ev["Dentist"].start == datetime(2025, 1, 21, 14, 30, tzinfo=LA)
    assert ev["Dentist"].location == "Valley Dental, 1200 Main St"
    assert (ev["Recycling pickup"].start, ev["Recycling pickup"].end) == (
        date(2025, 1, 23), date(2025, 1, 24))
    assert (ev["Grandma visiting"].start, ev["Grandma visiting"].end) == (
        date(2025, 1, 19), date(2025, 1, 22))
    # the moved instance of a recurring event, at its new time
    assert ev["Piano lesson"].start == datetime(2025, 1, 22, 16, 0, tzinfo=LA)
    assert ev["Corinne's birthday"].all_day  # eventType birthday
    assert ev[""].start == datetime(2025, 1, 20, 12, 0, tzinfo=LA)  # private: "Busy" on the board
    assert ev["Night shift"].end == datetime(2025, 1, 22, 6, 0, tzinfo=LA)
    assert ev["Call with Oma in Berlin"].start == datetime(2025, 1, 23, 9, 0, tzinfo=LA)
    assert "Home" not in ev  # working location is not an event
    assert len(events) == 8  # the cancelled instance is gone


def test_board_with_a_google_calendar(tmp_path, httpserver, session) -> None:
    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/events.json"))
    base = httpserver.url_for("").rstrip("/")
    write_token(tmp_path / "token.json", base + TOKEN)
    client_secrets(tmp_path / "client.json", base)
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - name: Family
            google: {{calendar_id: "{CAL_ID}", credentials: client.json, token: token.json}}
    """)
    sources = build_sources(config)
    sources[0].api_endpoint = httpserver.url_for("/calendar/v3/")  # type: ignore[attr-defined]
    state = compose(config, fetch_all(sources, {}, session=session, now=NOW), NOW)
    assert [e.title for e in state.days[0].events] == ["Grandma visiting", "Busy"]
    assert [e.title for e in state.days[2].events] == [
        "Corinne's birthday", "Night shift", "Piano lesson"]


def test_pages_are_followed(tmp_path, httpserver, session) -> None:
    def handler(request: Request) -> Response:
        page = "events_page2" if request.args.get("pageToken") else "events_page1"
        return Response(json.dumps(read_json(f"google/{page}.json")),
                        content_type="application/json")

    httpserver.expect_request(EVENTS).respond_with_handler(handler)
    events = make_source(tmp_path, httpserver).fetch(session=session, now=NOW)
    reqs = requests_to(httpserver)
    assert len(reqs) == 2 and reqs[1].args["pageToken"].startswith("CigKGj")
    assert len(events) == 8


def test_expired_access_token_is_refreshed_and_saved(tmp_path, httpserver, session) -> None:
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        read_json("google/token_refreshed.json"))
    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/events.json"))
    source = make_source(tmp_path, httpserver, expired=True)
    source.fetch(session=session, now=NOW)
    assert [r.path for r in requests_to(httpserver)] == [TOKEN, EVENTS]
    assert requests_to(httpserver, EVENTS)[0].headers["Authorization"] == (
        "Bearer ya29.a0AfB_byFRESH-access-token")
    saved = json.loads((tmp_path / "token.json").read_text())
    assert saved["token"] == "ya29.a0AfB_byFRESH-access-token"
    assert saved["refresh_token"] == "1//0gTEST-refresh-token"
    assert stat.S_IMODE((tmp_path / "token.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_refused_token_says_reconnect(tmp_path, httpserver, session, how: str, caplog) -> None:
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        read_json("google/token_invalid_grant.json"), status=400)
    if how == "revoked":  # an access token that still looks valid, refused by the API
        httpserver.expect_request(EVENTS).respond_with_json(
            read_json("google/error_401.json"), status=401)
    source = make_source(tmp_path, httpserver, expired=how == "expired")
    earlier = NOW - timedelta(days=1)
    previous = {source.name: fetch_all([source], {}, session=session, now=earlier)[source.name]}
    after = fetch_all([source], previous, session=session, now=NOW)
    assert after[source.name].last_error == (
        "Family: reconnect calendar (token expired or revoked)")
    logged = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert ACCESS not in logged and "GOCSPX-test-client-secret" not in logged
    assert "1//0gTEST-refresh-token" not in logged


def test_rate_limit_403_is_retried_then_fails_alone(tmp_path, httpserver, session,
                                                    no_sleep) -> None:
    httpserver.expect_request(EVENTS).respond_with_json(
        read_json("google/error_403_rate_limit.json"), status=403)
    (tmp_path / "school.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - {{name: Family, google: {{calendar_id: "{CAL_ID}", credentials: client.json,
                                       token: token.json}}}}
          - {{name: School, ics_url: school.ics}}
    """)
    source = make_source(tmp_path, httpserver)
    sources = [source, *build_sources(config)[1:]]
    snaps = fetch_all(sources, {}, session=session, now=NOW)
    assert len(requests_to(httpserver, EVENTS)) == 3  # num_retries=2
    assert len(no_sleep) == 2
    assert snaps["calendar:Family"].last_error == (
        "Family: HTTP 403 rate limited: Rate Limit Exceeded")
    assert snaps["calendar:School"].last_error is None
    state = compose(config, snaps, NOW)
    assert state.source("calendar:Family").status == "unavailable"  # type: ignore[union-attr]
    assert state.source("calendar:School").status == "fresh"  # type: ignore[union-attr]


def test_unknown_calendar_404(tmp_path, httpserver, session) -> None:
    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/error_404.json"),
                                                        status=404)
    snaps = fetch_all([make_source(tmp_path, httpserver)], {}, session=session, now=NOW)
    assert snaps["calendar:Family"].last_error == (
        "Family: HTTP 404 calendar not found (check calendar_id and sharing): Not Found")
    assert len(requests_to(httpserver)) == 1


def test_unreachable_api(tmp_path, httpserver, session) -> None:
    from sources_fixtures import closed_port

    source = make_source(tmp_path, httpserver)
    source.api_endpoint = f"http://127.0.0.1:{closed_port()}/calendar/v3/"
    source.num_retries = 0
    snaps = fetch_all([source], {}, session=session, now=NOW)
    assert snaps["calendar:Family"].last_error == "Family: connection refused"


def test_missing_token_file(tmp_path, httpserver, session) -> None:
    source = make_source(tmp_path, httpserver)
    (tmp_path / "token.json").unlink()
    snaps = fetch_all([source], {}, session=session, now=NOW)
    assert snaps["calendar:Family"].last_error == (
        "Family: not connected: run 'homeboard auth google Family'")


def private_key_pem() -> str:
    """A fresh RSA key, made by whichever library google-auth signs with here."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa
    except ImportError:  # google-auth < 2.48 signs with the pure-Python rsa package
        rsa = pytest.importorskip("rsa")
        _public, private = rsa.newkeys(1024)  # small: pure-Python key generation is slow
        return private.save_pkcs1().decode()
    key = crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_service_account(tmp_path, httpserver, session) -> None:
    pem = private_key_pem()
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps({
        "type": "service_account", "project_id": "homeboard-family", "private_key_id": "abc123",
        "private_key": pem, "client_email": "board@homeboard-family.iam.gserviceaccount.com",
        "client_id": "1098", "token_uri": httpserver.url_for(TOKEN),
    }))
    httpserver.expect_request(TOKEN, method="POST").respond_with_json(
        {"access_token": "ya29.c.SERVICE", "expires_in": 3599, "token_type": "Bearer"})
    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/events.json"))
    source = GoogleCalendarSource(
        name="Family", calendar_id=CAL_ID, credentials=sa, token=None, tz=LA,
        timezone="America/Los_Angeles", days=4, api_endpoint=httpserver.url_for("/calendar/v3/"))
    assert len(source.fetch(session=session, now=NOW)) == 8
    assert requests_to(httpserver, EVENTS)[0].headers["Authorization"] == "Bearer ya29.c.SERVICE"
    grant = parse_qs(requests_to(httpserver, TOKEN)[0].get_data(as_text=True))
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    httpserver.clear_log()
    source.fetch(session=session, now=NOW)
    assert [r.path for r in requests_to(httpserver)] == [EVENTS]  # one request per refresh


def test_event_items_with_odd_shapes() -> None:
    assert event_from_item({"status": "cancelled"}, calendar="F", tz=LA) is None
    assert event_from_item({"start": "x"}, calendar="F", tz=LA) is None
    assert event_from_item([], calendar="F", tz=LA) is None
    naive = event_from_item({"summary": "Float", "start": {"dateTime": "2025-01-20T10:00:00",
                                                           "timeZone": "Europe/Berlin"}},
                            calendar="F", tz=LA)
    assert naive is not None and naive.start == datetime(2025, 1, 20, 1, 0, tzinfo=LA)
    assert naive.end == naive.start
    zero = event_from_item({"start": {"date": "2025-01-20"}, "end": {"date": "2025-01-20"}},
                           calendar="F", tz=LA)
    assert zero is not None and zero.end == date(2025, 1, 21)


def test_write_private_file_is_atomic_and_0600(tmp_path) -> None:
    target = tmp_path / "secrets" / "token.json"
    write_private_file(target, '{"a": 1}')
    write_private_file(target, '{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 2}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["token.json"]  # no temp files left


# --------------------------------------------------------------------------- #
# homeboard auth google NAME: the loopback flow
# --------------------------------------------------------------------------- #


def test_run_google_auth_loopback_flow(tmp_path, httpserver, monkeypatch, capsys,
                                       session) -> None:
    from sources_fixtures import closed_port

    # The token endpoint of the test is plain http; real Google is https.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    base = httpserver.url_for("").rstrip("/")
    client_secrets(tmp_path / "client.json", base)
    httpserver.expect_request(TOKEN, method="POST").respond_with_json({
        "access_token": "ya29.a0NEW", "expires_in": 3599, "refresh_token": "1//0gNEWrefresh",
        "scope": "https://www.googleapis.com/auth/calendar.readonly", "token_type": "Bearer"})
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - name: Family
            google: {{calendar_id: "{CAL_ID}", credentials: client.json,
                      token: secrets/token.json}}
    """)
    port = closed_port()
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["path"] = run_google_auth(config, "Family", port=port, timeout_seconds=20)
        except BaseException as exc:  # reported by the test thread
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    printed = ""
    deadline = time.monotonic() + 10
    while "state=" not in printed and time.monotonic() < deadline:
        time.sleep(0.05)
        printed += capsys.readouterr().out
    url = re.search(r"(http\S+/o/oauth2/auth\?\S+)", printed)
    assert url, printed
    assert f"ssh -L {port}:localhost:{port}" in printed
    query = parse_qs(urlsplit(url.group(1)).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["scope"] == ["https://www.googleapis.com/auth/calendar.readonly"]
    redirect = query["redirect_uri"][0]
    assert redirect == f"http://localhost:{port}/"
    # the browser comes back to the loopback server with the code
    requests.get(redirect, params={"code": "4/0AbCdEf", "state": query["state"][0]}, timeout=10)
    worker.join(10)
    assert "error" not in result, result.get("error")
    token = tmp_path / "secrets" / "token.json"
    assert result["path"] == token
    saved = json.loads(token.read_text())
    assert saved["refresh_token"] == "1//0gNEWrefresh" and saved["token"] == "ya29.a0NEW"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    exchange = parse_qs(requests_to(httpserver, TOKEN)[0].get_data(as_text=True))
    assert exchange["code"] == ["4/0AbCdEf"]


def test_run_google_auth_refuses_what_it_cannot_do(tmp_path) -> None:
    (tmp_path / "sa.json").write_text("{}")
    (tmp_path / "x.ics").write_text("")
    config = write_config(tmp_path, """
        weather: null
        calendars:
          - {name: Family, google: {calendar_id: x, credentials: sa.json}}
          - {name: School, ics_url: x.ics}
    """)
    with pytest.raises(UsageError, match="service-account"):
        run_google_auth(config, "Family")
    with pytest.raises(UsageError, match="not a Google calendar"):
        run_google_auth(config, "School")
    with pytest.raises(UsageError, match="no calendar named 'Nope'"):
        run_google_auth(config, "Nope")


def test_google_is_not_imported_without_a_google_calendar(tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "x.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    code = (
        "import sys; from homeboard.config import load_config; "
        "from homeboard.sources import build_sources; "
        f"build_sources(load_config(__import__('pathlib').Path({str(tmp_path / 'c.yaml')!r}))); "
        "bad = [m for m in ('googleapiclient', 'google.oauth2', 'caldav', 'httplib2') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    (tmp_path / "c.yaml").write_text("weather: null\ncalendars: [{name: S, ics_url: x.ics}]\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert calendar_source("S") == "calendar:S"


@pytest.mark.parametrize(("kind", "reason"), [
    ("timeout", "timed out"),
    ("html", "malformed response: not a JSON object"),
    ("503", "HTTP 503 server error"),
])
def test_each_failure_keeps_the_last_events(tmp_path, httpserver, session, no_sleep,
                                            kind: str, reason: str) -> None:
    import socket

    httpserver.expect_request(EVENTS).respond_with_json(read_json("google/events.json"))
    source = make_source(tmp_path, httpserver)
    (tmp_path / "school.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    config = write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        weather: null
        calendars:
          - {{name: Family, max_age: 1h, google: {{calendar_id: "{CAL_ID}",
              credentials: client.json, token: token.json}}}}
          - {{name: School, ics_url: school.ics}}
    """)
    sources = [source, *build_sources(config)[1:]]
    earlier = NOW - timedelta(hours=2)
    good = fetch_all(sources, {}, session=session, now=earlier)
    httpserver.clear()
    silent = None
    if kind == "timeout":
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        source.api_endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/calendar/v3/"
        source._service = None  # rebuild with the new endpoint and a short timeout
        source.timeout = (1, 1)
        source.num_retries = 0
    elif kind == "html":
        httpserver.expect_request(EVENTS).respond_with_data("<html>oops</html>",
                                                            content_type="text/html")
    else:
        httpserver.expect_request(EVENTS).respond_with_data("unavailable", status=503)
    try:
        after = fetch_all(sources, good, session=session, now=NOW)
    finally:
        if silent is not None:
            silent.close()
    snap = after["calendar:Family"]
    assert snap.last_error is not None and snap.last_error.startswith(f"Family: {reason}")
    assert snap.data == good["calendar:Family"].data and snap.fetched_at == earlier
    state = compose(config, after, NOW)
    assert state.source("calendar:Family").status == "stale"  # type: ignore[union-attr]
    assert "Grandma visiting" in [e.title for e in state.days[0].events]
    assert state.source("calendar:School").status == "fresh"  # type: ignore[union-attr]


def test_a_crowded_day_keeps_its_first_fifty_and_says_cut(tmp_path, httpserver, session) -> None:
    items = [{"id": f"slot{i}", "status": "confirmed", "summary": f"Slot {i:02d}",
              "start": {"dateTime": f"2025-01-21T{8 + i // 6:02d}:{i % 6 * 10:02d}:00-08:00"},
              "end": {"dateTime": f"2025-01-21T{8 + i // 6:02d}:{i % 6 * 10 + 5:02d}:00-08:00"}}
             for i in reversed(range(70))]
    httpserver.expect_request(EVENTS).respond_with_data(
        json.dumps({"kind": "calendar#events", "items": items}), content_type="application/json")
    source = make_source(tmp_path, httpserver)
    snap = fetch_all([source], {}, session=session, now=NOW)[calendar_source("Family")]
    assert snap.cut and snap.fetched_at == NOW
    assert snap.last_error == (
        "Family: more than 50 events a day on Tue 21 Jan; showing the first 50")
    assert [e.title for e in snap.data] == [f"Slot {i:02d}" for i in range(50)]  # type: ignore[union-attr]
