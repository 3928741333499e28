"""The household page over real HTTP: waitress on a free loopback port, a real redis-server,
the real refresh chain with the mock display. Every refusal the README promises is tried."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from boardkit import clean_environment, wait_for
from conftest import RedisServer, free_port
from PIL import Image, ImageChops
from pytest_httpserver import HTTPServer
from webkit import PASSWORD, ThreadedServer, WebProcess, web_config

from homeboard.app import build_app
from homeboard.config import Config, load_config
from homeboard.service import refresh, show_on_panel
from homeboard.web.app import SECURITY_HEADERS, create_app
from homeboard.web.security import MAX_FAILURES

QUEUE = "homeboard:test:refresh"


@dataclass
class Page:
    """A served page with its board: config, Redis, URL."""

    config: Config
    redis: RedisServer
    server: ThreadedServer
    tmp: Path

    @property
    def url(self) -> str:
        return self.server.url

    def login(self, session: requests.Session | None = None) -> requests.Session:
        session = session or requests.Session()
        resp = session.post(
            self.url + "/login", data={"password": PASSWORD}, allow_redirects=False, timeout=5
        )
        assert resp.status_code == 303, resp.text
        return session

    def refresh_board(self, **kwargs: Any) -> str:
        app = build_app(self.config)
        try:
            return refresh(app, trigger=kwargs.pop("trigger", "manual"), **kwargs).outcome
        finally:
            app.close()


@contextlib.contextmanager
def serve(tmp_path: Path, redis_server: RedisServer, **kwargs: Any) -> Iterator[Page]:
    port = free_port()
    config = load_config(web_config(tmp_path, redis_server.url, port=port, **kwargs))
    password = PASSWORD if kwargs.get("password", True) else None
    server = ThreadedServer(create_app(config, password=password), port).start()
    try:
        yield Page(config, redis_server, server, tmp_path)
    finally:
        server.stop()


@pytest.fixture
def page(tmp_path: Path, redis_server: RedisServer) -> Iterator[Page]:
    """The page with a password, on a board that has had no refresh yet."""
    with serve(tmp_path, redis_server) as served:
        yield served


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def notes(html: str) -> list[str]:
    """What the page says about the last 'refresh now' (and other alerts)."""
    return re.findall(r'<p class="note[^"]*" role="(?:status|alert)">([^<]+)</p>', html)


# --------------------------------------------------------------------------- locked


def test_without_a_session_only_the_login_form_and_healthz(page: Page) -> None:
    page.refresh_board()
    resp = requests.get(page.url + "/", timeout=5)
    assert resp.status_code == 200
    assert re.search(r'<input[^>]*type="password"', resp.text)
    assert "frame.png" not in resp.text and "Sources" not in resp.text
    for path in ("/frame.png", "/status.json", "/static/../status.json"):
        got = requests.get(page.url + path, timeout=5)
        assert got.status_code == 401, path
        assert b"PNG" not in got.content and "counters" not in got.text
    assert requests.post(page.url + "/refresh", data={}, timeout=5).status_code == 403
    assert requests.get(page.url + "/healthz", timeout=5).status_code == 200
    assert page.redis.client().llen(QUEUE) == 0


def test_login_sets_a_signed_httponly_samesite_strict_cookie(page: Page) -> None:
    resp = requests.post(
        page.url + "/login", data={"password": PASSWORD}, allow_redirects=False, timeout=5
    )
    assert resp.status_code == 303
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    value = resp.cookies["homeboard_session"]
    # The board's data are only reachable with this cookie, and a forged one is refused.
    assert (
        requests.get(
            page.url + "/status.json", cookies={"homeboard_session": value}, timeout=5
        ).status_code
        == 200
    )
    payload, rest = value.split(".", 1)
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    assert (
        requests.get(
            page.url + "/status.json", cookies={"homeboard_session": forged}, timeout=5
        ).status_code
        == 401
    )


def test_a_wrong_password_is_refused_and_repeated_ones_get_429(page: Page) -> None:
    session = requests.Session()
    for _ in range(MAX_FAILURES):
        resp = session.post(page.url + "/login", data={"password": "guess"}, timeout=5)
        assert resp.status_code == 401
        assert "Wrong password" in resp.text
        assert (
            "homeboard_session" not in session.cookies
            or session.get(page.url + "/status.json", timeout=5).status_code == 401
        )
    blocked = session.post(page.url + "/login", data={"password": PASSWORD}, timeout=5)
    assert blocked.status_code == 429  # even the right one, for a while
    assert int(blocked.headers["Retry-After"]) > 60
    assert "try again in" in blocked.text
    assert session.get(page.url + "/status.json", timeout=5).status_code == 401


def test_refresh_needs_the_pages_csrf_token(page: Page) -> None:
    session = page.login()
    html = session.get(page.url + "/", timeout=5).text
    assert csrf_of(html)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "not-the-token"}):
        resp = session.post(page.url + "/refresh", data=data, allow_redirects=False, timeout=5)
        assert resp.status_code == 403, data
    # Another session's token does not do either.
    other = page.login(requests.Session())
    other_token = csrf_of(other.get(page.url + "/", timeout=5).text)
    resp = session.post(
        page.url + "/refresh", data={"csrf_token": other_token}, allow_redirects=False, timeout=5
    )
    assert resp.status_code == 403
    assert page.redis.client().llen(QUEUE) == 0
    # Log out needs it too.
    assert session.post(page.url + "/logout", data={}, timeout=5).status_code == 403


def test_a_form_sent_from_another_site_is_refused(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    resp = session.post(
        page.url + "/refresh",
        data={"csrf_token": token},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
        timeout=5,
    )
    assert resp.status_code == 403
    for origin in ("http://evil.example", "https://127.0.0.1.evil.example"):
        resp = requests.post(
            page.url + "/login",
            data={"password": PASSWORD},
            headers={"Origin": origin},
            allow_redirects=False,
            timeout=5,
        )
        assert resp.status_code == 403
    resp = requests.post(
        page.url + "/login",
        data={"password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
        timeout=5,
    )
    assert resp.status_code == 403
    assert page.redis.client().llen(QUEUE) == 0


def test_logout_ends_the_session(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    assert (
        session.post(page.url + "/logout", data={"csrf_token": token}, timeout=5).status_code == 200
    )
    assert session.get(page.url + "/status.json", timeout=5).status_code == 401
    assert re.search(r'type="password"', session.get(page.url + "/", timeout=5).text)


def test_every_answer_carries_the_security_headers(page: Page) -> None:
    page.refresh_board()
    session = page.login()
    answers = [
        requests.get(page.url + "/", timeout=5),
        requests.get(page.url + "/status.json", timeout=5),
        requests.get(page.url + "/healthz", timeout=5),
        requests.get(page.url + "/nowhere", timeout=5),
        session.get(page.url + "/", timeout=5),
        session.get(page.url + "/frame.png", timeout=5),
        session.get(page.url + "/status.json", timeout=5),
        session.post(page.url + "/refresh", data={}, timeout=5),
    ]
    for resp in answers:
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers.get(name) == value, (resp.url, name)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src" not in csp and "unsafe-inline" not in csp  # no script at all
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
    assert "<script" not in answers[4].text and " style=" not in answers[4].text


def test_without_a_password_file_the_page_is_for_this_machine_only(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with serve(tmp_path, redis_server, password=False) as page:
        page.refresh_board()
        resp = requests.get(page.url + "/", timeout=5)
        assert resp.status_code == 200 and "frame.png" in resp.text  # no login here
        assert 'type="password"' not in resp.text
        # A name other than localhost (DNS rebinding), or a proxy in front: refused.
        assert (
            requests.get(
                page.url + "/", headers={"Host": "homeboard.example"}, timeout=5
            ).status_code
            == 403
        )
        assert (
            requests.get(
                page.url + "/status.json", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5
            ).status_code
            == 403
        )


def run_web(config: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeboard", "web", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(),
    )


def test_a_page_on_the_network_without_password_is_a_config_error(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    path = web_config(tmp_path, redis_server.url, port=free_port(), password=False)
    path.write_text(path.read_text().replace("listen: 127.0.0.1:", "listen: 0.0.0.0:"))
    result = run_web(path)
    assert result.returncode == 2
    assert re.search(
        r"config\.yaml:\d+: web\.listen: '0\.0\.0\.0' is reachable from other "
        r"machines: set web\.password_file",
        result.stderr,
    )
    check = subprocess.run(
        [sys.executable, "-m", "homeboard", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        env=clean_environment(),
    )
    assert check.returncode == 2


def test_a_missing_or_empty_password_file_exits_2_and_the_password_is_never_shown(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    path = web_config(tmp_path, redis_server.url, port=free_port())
    secret = tmp_path / "web-password"
    secret.unlink()
    result = run_web(path)
    assert result.returncode == 2
    assert f"web.password_file: no such file: {secret}" in result.stderr
    secret.write_text("\n")
    result = run_web(path)
    assert result.returncode == 2 and "is empty" in result.stderr

    secret.write_text(PASSWORD + "\n")
    web = WebProcess(
        path, tmp_path / "web.log", int(path.read_text().split("listen: 127.0.0.1:")[1].split()[0])
    ).start()
    try:
        requests.post(web.url + "/login", data={"password": "wrong"}, timeout=5)
        session = requests.Session()
        session.post(web.url + "/login", data={"password": PASSWORD}, timeout=5)
        html = session.get(web.url + "/", timeout=5).text
        assert "Refresh now" in html
    finally:
        web.stop()
    assert "wrong password" in web.log()
    assert PASSWORD not in web.log() and PASSWORD not in html


# --------------------------------------------------------------------------- the page


def frame_of(session: requests.Session, url: str) -> Image.Image:
    resp = session.get(url + "/frame.png", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    assert image.mode == "RGB"
    return image


def same_picture(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size
        and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None
    )


def test_the_frame_is_what_the_panel_shows_whatever_pushed_it(page: Page) -> None:
    session = page.login()
    assert session.get(page.url + "/frame.png", timeout=5).status_code == 404
    assert "No frame kept yet" in session.get(page.url + "/", timeout=5).text
    latest = page.tmp / "frames" / "latest.png"

    assert page.refresh_board() == "pushed"
    board = frame_of(session, page.url)
    assert same_picture(board, Image.open(latest))

    app = build_app(page.config)
    try:
        assert show_on_panel(app, "test").outcome == "pushed"
        pattern = frame_of(session, page.url)
        assert same_picture(pattern, Image.open(latest)) and not same_picture(pattern, board)
        assert "(test pattern)" in session.get(page.url + "/", timeout=5).text
        assert show_on_panel(app, "clear").outcome == "pushed"
        blank = frame_of(session, page.url)
        assert same_picture(blank, Image.open(latest))
        assert blank.getcolors() == [(800 * 480, (255, 255, 255))]
    finally:
        app.close()


def test_an_unchanged_frame_costs_a_304(page: Page) -> None:
    page.refresh_board()
    session = page.login()
    first = session.get(page.url + "/frame.png", timeout=5)
    again = session.get(
        page.url + "/frame.png", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
    )
    assert again.status_code == 304 and again.content == b""


def test_a_portrait_board_is_shown_upright(tmp_path: Path, redis_server: RedisServer) -> None:
    with serve(tmp_path, redis_server, extra="layout:\n  orientation: portrait\n") as page:
        page.refresh_board()
        assert frame_of(page.login(), page.url).size == (480, 800)


def test_the_page_says_each_source_in_plain_words(
    tmp_path: Path, redis_server: RedisServer, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/family.ics").respond_with_data(
        "Unauthorized", status=401, content_type="text/plain"
    )
    calendar = f"calendars:\n  - name: Family\n    ics_url: {httpserver.url_for('/family.ics')}\n"
    with serve(tmp_path, redis_server, extra=calendar) as page:
        assert page.refresh_board() == "pushed"  # a failing source never blanks the board
        html = page.login().get(page.url + "/", timeout=5).text
    assert 'Family</bdi></b>: <span class="status">no data</span>, never fetched' in html
    assert "the server said 401 (not authorised): check the password file" in html
    assert "Last refreshes" in html and "new frame" in html and "command line" in html
    assert re.search(r"fetch \d+\.\d sec, render \d+\.\d sec, push \d+\.\d sec", html)
    assert "Next scheduled refresh: unknown (is the service running?)" in html
    assert re.search(r"<dt>pushes</dt><dd>1</dd>", html)
    assert "On the panel since" in html and "Data last changed" in html or "No data yet" in html
    assert '<meta http-equiv="refresh" content="60">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_the_page_speaks_the_boards_language(tmp_path: Path, redis_server: RedisServer) -> None:
    with serve(tmp_path, redis_server, extra="language: de\n") as page:
        page.refresh_board()
        html = page.login().get(page.url + "/", timeout=5).text
    assert '<html lang="de">' in html
    assert "Jetzt aktualisieren" in html and "Letzte Aktualisierungen" in html
    assert "Befehlszeile" in html and "neue Bilder" in html  # trigger and counter names
    # CLDR's decimal comma and unit; plural rules in "vor 3 Minuten" style ages.
    assert re.search(r"Abruf \d+,\d Sek\., Zeichnen \d+,\d Sek\., Anzeige \d+,\d Sek\.", html)
    assert re.search(r"\((gerade eben|vor \d+ Sekunden)\)", html)
    for english in ENGLISH:
        assert english not in html, english


#: Phrases of the English page that a translated page must not show.
ENGLISH = ("Refresh now", "Last refreshes", "Counters", "Next scheduled", "new frame", "pushes",
           "command line", "Log out", "ago")  # fmt: skip


def test_a_hebrew_page_reads_right_to_left_and_a_japanese_page_is_japanese(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    (tmp_path / "he").mkdir()
    (tmp_path / "ja").mkdir()
    with serve(tmp_path / "he", redis_server, extra="language: he\n") as page:
        login = requests.get(page.url + "/", timeout=5).text
        page.refresh_board()
        html = page.login().get(page.url + "/", timeout=5).text
    for shown in (login, html):
        assert '<html lang="he" dir="rtl">' in shown
    assert "סיסמה" in login and "כניסה" in login  # "Password", "Log in"
    assert "רענון עכשיו" in html and "רענונים אחרונים" in html
    redis_server.client().flushall()
    with serve(tmp_path / "ja", redis_server, extra="language: ja\n") as page:
        page.refresh_board()
        session = page.login()
        html = session.get(page.url + "/", timeout=5).text
        token = csrf_of(html)
        asked = session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5).text
        missing = session.get(page.url + "/nowhere", timeout=5)
    assert '<html lang="ja">' in html and "dir=" not in html
    assert "今すぐ更新" in html and "最近の更新" in html and "カウンター" in html
    assert re.search(r"取得 \d+\.\d 秒、描画 \d+\.\d 秒、表示 \d+\.\d 秒", html)
    assert "に更新を依頼しました" in notes(asked)[0]
    assert missing.status_code == 404 and missing.text.strip() == "見つかりません。"
    for english in ENGLISH:
        assert english not in html, english


def test_ages_and_waits_follow_each_languages_plural_rules() -> None:
    from zoneinfo import ZoneInfo

    from homeboard.web.view import page_view
    from homeboard.web.words import page_words

    tz = ZoneInfo("Europe/Warsaw")
    doc = {
        "now": "2026-12-03T10:00:00+01:00",
        "updated_at": "2026-12-03T09:58:00+01:00",
        "sources": {
            "weather": {"status": "fresh", "age_seconds": 5 * 60 + 20},
            "Family": {
                "status": "unavailable",
                "age_seconds": None,
                "last_error": "Family: HTTP 401 not authorised",
            },
        },
        "recent": [
            {
                "outcome": "pushed",
                "trigger": "schedule",
                "started_at": "2026-12-01T18:05:00+01:00",
                "ended_at": "2026-12-01T18:05:02.25+01:00",
            }
        ],
        "next_run": "2026-12-03T10:12:00+01:00",
        "counters": {},
    }
    pl = page_view(doc, None, tz=tz, words=page_words("pl", "24h"))
    assert pl.data_changed == "Dane ostatnio zmienione 9:58 (2 minuty temu)"
    assert pl.sources[0].age_text == "pobrano 5 minut temu"
    assert pl.sources[1].error == (
        "serwer odpowiedział 401 (brak autoryzacji): sprawdź plik z hasłem"
    )
    # Two days back: the weekday and time as CLDR writes them; the duration in CLDR's unit.
    assert pl.refreshes[0].when == "wt., 18:05 (1 dzień temu)"
    assert pl.refreshes[0].seconds == "2,2 sek."
    assert pl.next_run == "Następne zaplanowane odświeżenie: 10:12 (za 12 minut)"
    en = page_view(doc, None, tz=tz, words=page_words("en", "12h"))
    assert en.data_changed == "Data last changed 9:58am (2 minutes ago)"
    assert en.refreshes[0].when == "Tue 6:05pm (1 day ago)"
    assert en.sources[1].error == ("the server said 401 (not authorised): check the password file")
    wait = (
        "Too many wrong passwords: try again in {n} minute.",
        "Too many wrong passwords: try again in {n} minutes.",
    )
    assert [page_words("pl", "24h").ngettext(*wait, n) for n in (1, 2, 5)] == [
        "Za dużo błędnych haseł: spróbuj ponownie za 1 minutę.",
        "Za dużo błędnych haseł: spróbuj ponownie za 2 minuty.",
        "Za dużo błędnych haseł: spróbuj ponownie za 5 minut.",
    ]
    assert page_words("ar", "12h").ngettext(*wait, 2).endswith("بعد دقيقتين.")
    assert page_words("en", "12h").ngettext(*wait, 1).endswith("in 1 minute.")


def test_the_page_is_light(page: Page) -> None:
    page.refresh_board()
    session = page.login()
    html = session.get(page.url + "/", timeout=5).content
    css = session.get(page.url + "/static/page.css", timeout=5).content
    assert len(html) + len(css) < 100_000


def test_status_json_is_the_status_document(page: Page) -> None:
    page.refresh_board()
    doc = page.login().get(page.url + "/status.json", timeout=5).json()
    assert {"counters", "recent", "last_push", "sources", "next_run"} <= set(doc)
    assert doc["counters"]["pushes"] == 1
    assert doc["recent"][0]["outcome"] == "pushed"


# --------------------------------------------------------------------------- refresh now


def messages(redis_server: RedisServer) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in redis_server.client().lrange(QUEUE, 0, -1)]


def test_refresh_now_sends_beats_task_once_and_shows_the_outcome(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    resp = session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5)
    assert resp.status_code == 200  # after the redirect to the page
    assert "Refresh asked for" in notes(resp.text)[0]
    assert '<meta http-equiv="refresh" content="5">' in resp.text
    sent = wait_for(lambda: messages(page.redis), 30, what="the refresh message")
    assert len(sent) == 1
    headers = sent[0]["headers"]
    assert headers["task"] == "homeboard.refresh"
    assert headers["eta"] is None and headers["expires"] is not None
    expires = datetime.fromisoformat(headers["expires"])
    left = expires.timestamp() - time.time()
    assert 0 < left <= 0.8 * 15 * 60  # beat's expiry: shorter than the interval
    assert sent[0]["content-type"] == "application/json"

    # A second click (this phone or another) is told, and nothing more is queued.
    again = session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5)
    assert "already running or waiting" in notes(again.text)[0]
    other = page.login(requests.Session())
    other_token = csrf_of(other.get(page.url + "/", timeout=5).text)
    other.post(page.url + "/refresh", data={"csrf_token": other_token}, timeout=5)
    time.sleep(1.0)
    assert len(messages(page.redis)) == 1
    # The page learnt the message's expiry from the sender: still waiting, not "not taken".
    assert "Refresh asked for" in notes(session.get(page.url + "/", timeout=5).text)[0]

    # The service takes it (here: the same call its task makes) and the page says how it went.
    page.redis.client().delete(QUEUE)
    assert page.refresh_board(trigger="web") == "pushed"
    html = session.get(page.url + "/", timeout=5).text
    assert re.search(r"Refresh done: new frame in \d+\.\d sec\.", html)
    assert '<meta http-equiv="refresh" content="60">' in html


def test_refresh_now_while_a_refresh_runs_says_so(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    app = build_app(page.config)
    lock = app.store().lock(page.config.schedule.lock_timeout)
    assert lock.acquire(blocking=False)
    try:
        resp = session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5)
        assert "already running or waiting" in notes(resp.text)[0]
        assert messages(page.redis) == []
    finally:
        lock.release()
        app.close()


def test_a_refresh_that_could_not_be_sent_is_said(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    # The config file was broken after the page started: the sender cannot load it.
    assert page.config.path is not None
    page.config.path.write_text("schedule: {interval: soon}\n")
    session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5)
    html = wait_for(
        lambda: (lambda h: "Refresh failed" in h and h)(
            session.get(page.url + "/", timeout=5).text
        ),
        30,
        what="the failure on the page",
    )
    assert "schedule.interval" in notes(html)[0]
    assert messages(page.redis) == []


def test_the_page_knows_the_services_queue() -> None:
    from homeboard import tasks
    from homeboard.web import asking

    assert asking.QUEUE == tasks.QUEUE


def test_a_refresh_the_service_never_took_is_said(page: Page) -> None:
    session = page.login()
    token = csrf_of(session.get(page.url + "/", timeout=5).text)
    session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=5)
    # As if the message expired in the queue: asked longer ago than its expiry.
    key = "homeboard:test:web:refresh"
    old = datetime.now(page.config.tz) - timedelta(minutes=13)
    marker = json.loads(page.redis.client().get(key))
    marker["asked_at"] = old.isoformat()
    page.redis.client().set(key, json.dumps(marker))
    html = session.get(page.url + "/", timeout=5).text
    assert "did not take the refresh in time: is it running?" in html


# --------------------------------------------------------------------------- robust


def test_redis_down_gives_a_page_that_says_so_and_503_on_healthz(page: Page) -> None:
    page.refresh_board()
    session = page.login()
    assert requests.get(page.url + "/healthz", timeout=5).status_code == 200
    page.redis.stop()
    started = time.monotonic()
    resp = session.get(page.url + "/", timeout=10)
    assert resp.status_code == 503
    assert "Redis is not answering" in resp.text and "Traceback" not in resp.text
    assert requests.get(page.url + "/healthz", timeout=10).status_code == 503
    assert session.get(page.url + "/status.json", timeout=10).status_code == 503
    assert session.get(page.url + "/frame.png", timeout=10).status_code in (200, 503)
    token = "x"
    assert (
        session.post(page.url + "/refresh", data={"csrf_token": token}, timeout=10).status_code
        == 403
    )
    assert time.monotonic() - started < 5  # never hangs on the dead Redis
    page.redis.start()
    assert session.get(page.url + "/", timeout=5).status_code == 200  # back by itself


def test_healthz_says_nothing_but_whether_the_board_is_current(page: Page) -> None:
    resp = requests.get(page.url + "/healthz", timeout=5)
    assert resp.status_code == 503  # never refreshed
    page.refresh_board()
    resp = requests.get(page.url + "/healthz", timeout=5)
    assert resp.status_code == 200 and resp.text.strip() == "ok"
    # A last good refresh older than two intervals and a time limit: not healthy.
    client = page.redis.client()
    rec = json.loads(client.lindex("homeboard:test:recent", 0))
    rec["ended_at"] = (datetime.now(page.config.tz) - timedelta(hours=1)).isoformat()
    client.lset("homeboard:test:recent", 0, json.dumps(rec))
    assert requests.get(page.url + "/healthz", timeout=5).status_code == 503


def test_the_web_unit_is_hardened_like_the_service() -> None:
    root = Path(__file__).resolve().parent.parent / "systemd"

    def directives(name: str) -> dict[str, str]:
        out = {}
        for line in (root / name).read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                out[key] = value
        return out

    service, web = directives("homeboard.service"), directives("homeboard-web.service")
    needs_not = {
        "StateDirectory",
        "ReadWritePaths",
        "SupplementaryGroups",
        "ExecStart",
        "Description",
        "TimeoutStopSec",
        "KillMode",
        "MemoryMax",
        "DeviceAllow",
        "Wants",
        "After",
    }
    for key, value in service.items():
        if key not in needs_not:
            assert web.get(key) == value, key
    assert web["ExecStart"].endswith("homeboard web")
    assert web["RestartPreventExitStatus"] == "2"


@pytest.mark.parametrize(
    ("listen", "problem"),
    [
        ("8080", "'8080' is not HOST:PORT (e.g. 127.0.0.1:8080)"),
        ("127.0.0.1:0", "is not HOST:PORT with a port from 1 to 65535"),
        ("192.168.1.20:8080", "'192.168.1.20' is reachable from other machines"),
        ("[::]:8080", "'::' is reachable from other machines"),
    ],
)
def test_web_listen_is_checked_with_the_line(tmp_path: Path, listen: str, problem: str) -> None:
    from homeboard.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(f"weather: null\nweb:\n  listen: '{listen}'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(
        line.startswith(f"{path}:3: web.listen: ") and problem in line
        for line in caught.value.problems
    ), caught.value.problems


def test_behind_a_proxy_the_page_needs_a_password(tmp_path: Path) -> None:
    from homeboard.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text("weather: null\nweb:\n  behind_proxy: true\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:3: web.behind_proxy: a proxy opens the page to other machines" in "\n".join(
        caught.value.problems
    )


@pytest.mark.parametrize("listen", ["127.0.0.1:8080", "localhost:8080", "[::1]:8081"])
def test_loopback_needs_no_password(tmp_path: Path, listen: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"weather: null\nweb:\n  listen: '{listen}'\n")
    assert load_config(path).web.port in (8080, 8081)


def test_the_login_throttle_is_per_address_and_ends_after_its_window() -> None:
    from homeboard.web.security import WINDOW, Throttle

    now = [1000.0]
    throttle = Throttle(clock=lambda: now[0], overall=8)
    for _ in range(MAX_FAILURES):
        assert throttle.retry_after("198.51.100.7") == 0
        throttle.failed("198.51.100.7")
        now[0] += 1
    assert throttle.retry_after("198.51.100.7") == pytest.approx(WINDOW - MAX_FAILURES)
    assert throttle.retry_after("192.0.2.1") == 0  # another phone is not locked out
    now[0] += WINDOW
    assert throttle.retry_after("198.51.100.7") == 0  # "for a while", not for ever
    # Many addresses guessing together are stopped as a whole.
    for n in range(8):
        throttle.failed(f"203.0.113.{n}")
    assert throttle.retry_after("192.0.2.1") > 0


def test_logging_in_while_redis_is_down_says_so(page: Page) -> None:
    page.redis.stop()  # before the page ever read its session key from Redis
    assert 'type="password"' in requests.get(page.url + "/", timeout=10).text
    resp = requests.post(page.url + "/login", data={"password": PASSWORD}, timeout=10)
    assert resp.status_code == 503 and "Redis is not answering" in resp.text
    page.redis.start()
    assert page.login().get(page.url + "/status.json", timeout=5).status_code == 200


def test_check_config_warns_of_a_missing_password_file(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    path = web_config(tmp_path, redis_server.url, port=free_port())
    (tmp_path / "web-password").unlink()
    check = subprocess.run(
        [sys.executable, "-m", "homeboard", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        env=clean_environment(),
    )
    assert check.returncode == 0
    assert f"warning: web.password_file: no such file: {tmp_path / 'web-password'}" in check.stderr


def web_phrases() -> list[tuple[str | None, tuple[str, ...]]]:
    """(context, English forms) of every phrase of the page: its code and its templates."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent / "homeboard" / "web"
    found = extract_from_dir(
        str(root),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords={**dict.fromkeys(("_", "gettext"), None), "ngettext": (1, 2),
                  "pgettext": ((1, "c"), 2)},
    )  # fmt: skip
    return sorted(
        {
            (context, (msgid,) if isinstance(msgid, str) else tuple(msgid))
            for _file, _line, msgid, _comments, context in found
        },
        key=str,
    )


def test_every_language_has_every_sentence_with_the_same_placeholders() -> None:
    from babel.messages.pofile import read_po

    from homeboard.i18n import LANGUAGES
    from homeboard.i18n.words import LOCALE_DIR, _placeholders, catalog_names

    phrases = web_phrases()
    assert len(phrases) > 80 and (None, ("Refresh now",)) in phrases  # templates included
    for language in set(LANGUAGES) - {"en"}:
        chain = []
        for name in catalog_names(language):  # pt_BR: its own words, then pt's
            po = LOCALE_DIR / name / "LC_MESSAGES" / "homeboard.po"
            if po.exists():
                with po.open("rb") as fp:
                    chain.append(read_po(fp))
        assert chain, language
        for context, english in phrases:
            forms: tuple[str, ...] = ()
            for catalog in chain:
                message = catalog.get(english[0] if len(english) == 1 else english, context)
                got = message.string if message is not None else ""
                forms = got if isinstance(got, tuple) else (got,)
                if all(forms):
                    break
            assert forms and all(forms), (language, context, english[0])
            allowed = set().union(*(_placeholders(e) or set() for e in english))
            for form in forms:
                assert _placeholders(form) is not None and _placeholders(form) <= allowed
            if len(english) == 1:
                assert _placeholders(forms[0]) == allowed, (language, english[0], forms[0])


def test_every_language_fills_the_whole_page() -> None:
    from zoneinfo import ZoneInfo

    from homeboard.i18n import LANGUAGES
    from homeboard.web.view import page_view
    from homeboard.web.words import page_words

    doc = {
        "now": "2026-12-03T10:00:00+00:00",
        "updated_at": "2026-12-03T09:00:00+00:00",
        "sources": {
            "weather": {"status": "stale", "age_seconds": 4000, "last_error": "HTTP 503"},
            "special": {"status": "fresh", "age_seconds": 3},
        },
        "recent": [
            {"outcome": o, "trigger": t, "started_at": "2026-12-02T09:00:00+00:00",
             "ended_at": "2026-12-02T09:00:03+00:00", "fetch_s": 1, "render_s": 1, "push_s": 1}
            for o, t in (("pushed", "web"), ("deferred", "start"), ("failed", "manual"))
        ],
        "next_run": "2026-12-03T10:15:00+00:00",
        "counters": {"started": 3, "pushes": 1, "expired": 0},
    }  # fmt: skip
    english = page_view(doc, {"what": "test"}, tz=ZoneInfo("UTC"), words=page_words("en", "24h"))
    for language in set(LANGUAGES) - {"en"}:
        view = page_view(
            doc, {"what": "test"}, tz=ZoneInfo("UTC"), words=page_words(language, "24h")
        )
        shown = [view.on_panel, view.data_changed, view.next_run]
        shown += [f"{s.name} {s.status_text} {s.age_text} {s.error}" for s in view.sources]
        shown += [f"{r.when} {r.trigger} {r.outcome_text} {r.durations}" for r in view.refreshes]
        shown += [c.name for c in view.counters]
        for text in shown:
            assert text and "{" not in text, (language, text)
        theirs = " ".join(str(t) for t in shown)
        for line in (*english.refreshes, *english.sources):
            for word in (getattr(line, "outcome_text", None), getattr(line, "status_text", None)):
                assert word is None or word not in theirs, (language, word)
        assert english.next_run.split(":")[0] not in theirs, language


def test_behind_a_proxy_each_client_is_throttled_alone_and_cookies_are_secure(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with serve(tmp_path, redis_server, web_extra="  behind_proxy: true\n") as page:

        def login(address: str, password: str) -> requests.Response:
            return requests.post(
                page.url + "/login",
                data={"password": password},
                headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
                allow_redirects=False,
                timeout=5,
            )

        for _ in range(MAX_FAILURES):
            assert login("198.51.100.1", "guess").status_code == 401
        assert login("198.51.100.1", PASSWORD).status_code == 429
        ok = login("198.51.100.2", PASSWORD)  # another phone, through the same proxy
        assert ok.status_code == 303
        assert "Secure" in ok.headers["Set-Cookie"]
