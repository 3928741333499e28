"""The household page: a small Flask app that reads the board's Redis and nothing else.

It never renders a frame, never opens the panel and never fetches a source: the frame
is the PNG the last push left in Redis (``Store.record_frame``, written by whatever
pushed it); the rest is the ``homeboard status`` document. 'Refresh now' sends
the service's own refresh task through the broker (``asking``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, session
from flask.sessions import NullSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from homeboard.web.asking import RefreshRequests
from homeboard.web.security import (
    SessionKey,
    Throttle,
    is_loopback_host,
    new_token,
    password_matches,
    tokens_match,
)
from homeboard.web.view import outcome_text, page_view, parse_time
from homeboard.web.words import page_words

if TYPE_CHECKING:
    from redis import Redis

    from homeboard.config import Config

log = logging.getLogger("homeboard.web")

#: How long a login lasts on a phone.
SESSION_LIFETIME = timedelta(days=30)
#: Seconds between the page's own reloads (the frame changes at most every few minutes).
PAGE_RELOAD = 60
#: Seconds between reloads while a 'refresh now' is under way.
PAGE_RELOAD_PENDING = 5
# Short Redis timeouts: the page must say "Redis is down" quickly, never hang.
REDIS_CONNECT_TIMEOUT = 1.0
REDIS_SOCKET_TIMEOUT = 2.0

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PROXY_HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Forwarded",
    "X-Real-IP",
)
#: Paths served without a session: the login form (with its style sheet) and /healthz.
OPEN_PATHS = ("/", "/login", "/healthz", "/static/page.css")


def web_redis(url: str) -> Redis:
    """A Redis client that gives up within seconds (the page must never hang on Redis)."""
    import redis

    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        health_check_interval=15,
    )


class BoardSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, signed with the board's ``SessionKey``."""

    def __init__(self, key: SessionKey) -> None:
        self.key = key

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """None (no session) while the key cannot be read from Redis."""
        secret = self.key.get()
        if secret is None:
            return None
        return URLSafeTimedSerializer(
            secret,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


@dataclass
class FrameCache:
    """The PNG of the last frame served, so that an unchanged frame is not read again."""

    etag: str | None = None
    png: bytes = b""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


def create_app(
    config: Config,
    *,
    password: str | None,
    redis_client: Redis | None = None,
    clock: Callable[[], datetime] | None = None,
    throttle: Throttle | None = None,
) -> Flask:
    """The page's WSGI app for one board (``password`` None: open, loopback only)."""
    import redis

    from homeboard.store import Store

    web = Flask("homeboard.web", root_path=__file__.rsplit("/", 1)[0])
    client = redis_client or web_redis(config.redis_url)
    store = Store(client, config.board)
    tz = config.tz
    now: Callable[[], datetime] = clock or (lambda: datetime.now(tz))
    throttle = throttle or Throttle()
    asking = RefreshRequests(config)
    frames = FrameCache()
    # One language per page: its catalog and CLDR data are loaded now, no other locale.
    words = page_words(config.language, config.time_clock)
    _ = words._

    web.config.update(
        SESSION_COOKIE_NAME="homeboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.web.behind_proxy,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=16 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        TEMPLATES_AUTO_RELOAD=False,
    )
    web.session_interface = BoardSessions(SessionKey(client, store.key("web:secret"), password))
    if config.web.behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        web.wsgi_app = ProxyFix(web.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    # The templates' phrases go through the same catalog (extracted by Babel's jinja2 reader).
    web.jinja_env.globals.update(_=words._, ngettext=words.ngettext)

    def page(template: str, status: int = 200, **values: Any) -> Response:
        html = render_template(
            template,
            words=words,
            board=config.board,
            csrf=session.get("csrf", ""),
            open_mode=password is None,
            **values,
        )
        return Response(html, status=status, mimetype="text/html")

    def refused(status: int, text: str) -> Response:
        return Response(text + "\n", status=status, mimetype="text/plain")

    def has_session() -> bool:
        return not isinstance(session, NullSession)

    def signed_in() -> bool:
        return bool(session.get("auth"))

    def start_session() -> None:
        session.clear()
        session.permanent = True
        session["auth"] = True
        session["csrf"] = new_token()

    @web.before_request
    def gate() -> Response | None:
        if password is None:
            # Open mode is for this machine only: no proxy in front (it would open the page
            # to the network) and no foreign Host (a DNS-rebinding page in a browser here).
            if any(h in request.headers for h in PROXY_HEADERS):
                return refused(
                    403,
                    _(
                        "This page has no password, so it is served to this machine only: "
                        "set web.password_file to reach it through a proxy."
                    ),
                )
            if not is_loopback_host(request.host):
                return refused(403, _("This page has no password and answers to localhost only."))
        if request.method == "POST":
            # Browsers say where a form came from; a form on another site is refused before
            # its CSRF token is looked at (this guards the login form, which has no session
            # to bind a token to). Our own forms say "null": Referrer-Policy no-referrer
            # hides their origin too.
            site = request.headers.get("Sec-Fetch-Site")
            origin = request.headers.get("Origin")
            if site == "cross-site" or (
                origin and origin != "null" and origin.split("://", 1)[-1] != request.host
            ):
                return refused(403, _("Refused: this form was sent from another site."))
        if password is None and not signed_in() and has_session():
            start_session()
        if request.path in OPEN_PATHS or signed_in():
            return None
        if request.method == "POST":  # a form without a session has no valid CSRF token
            return refused(403, _("Refused: log in first."))
        return refused(401, _("Log in first."))

    @web.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.path != "/frame.png" and not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie"
        return response

    @web.get("/")
    def index() -> Response:
        if not signed_in():
            if password is None:  # no session could be made: the key is in Redis
                return page("down.html", 503)
            return page("login.html", wait=None, wrong=False)
        try:
            moment = now()
            doc = store.status(config, moment)
            meta = store.frame_meta()
            state = asking.state(store, moment)
        except redis.RedisError as exc:
            log.warning("Redis did not answer: %s", type(exc).__name__)
            return page("down.html", 503)
        view = page_view(doc, meta, tz=tz, words=words)
        note = session.pop("note") if "note" in session else None
        return page(
            "board.html",
            view=view,
            frame=meta,
            request_note=_request_note(state, note, moment),
            reload=PAGE_RELOAD_PENDING if state is not None and state.pending else PAGE_RELOAD,
        )

    def _request_note(state: Any, note: str | None, moment: datetime) -> tuple[str, str] | None:
        """(CSS class, sentence) about the last 'refresh now'."""

        def when(at: datetime | None) -> str:
            return "?" if at is None else words.moment(at, moment, tz)

        twice = _("A refresh is already running or waiting: not asked for twice.")
        if note == "failed":
            return "bad", _("Could not ask for a refresh: the board's Redis is not answering.")
        if note in ("twice", "running") and state is None:
            return "info", twice
        if state is None:
            return None
        if state.kind == "waiting":
            text = _(
                "Refresh asked for {when}; waiting for the service…", when=when(state.asked_at)
            )
            if note in ("twice", "running"):
                text = _("{first} {then}", first=twice, then=text)
            return "info", text
        if state.kind == "running":
            return "info", _("A refresh has been running since {when}.", when=when(state.since))
        if state.kind == "not-taken":
            return "bad", _("The service did not take the refresh in time: is it running?")
        rec = state.record or {}
        if state.kind == "failed":
            return "bad", _("Refresh failed: {error}", error=rec.get("error") or "?")
        started, ended = parse_time(rec.get("started_at")), parse_time(rec.get("ended_at"))
        seconds = (
            words.seconds(ended.timestamp() - started.timestamp()) if started and ended else "?"
        )
        outcome = outcome_text(str(rec.get("outcome")), words)
        return "good", _("Refresh done: {outcome} in {seconds}.", outcome=outcome, seconds=seconds)

    @web.get("/login")
    def login_form() -> Response:
        return redirect("/", code=303)  # type: ignore[return-value]

    @web.post("/login")
    def login() -> Response:
        if password is None:
            return redirect("/", code=303)  # type: ignore[return-value]
        address = request.remote_addr or "?"
        wait = throttle.retry_after(address)
        if wait > 0:
            minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
            response = page("login.html", 429, wait=minutes, wrong=False)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        given = request.form.get("password", "")
        if not password_matches(given, password):
            throttle.failed(address)
            log.warning("wrong password for the household page from %s", address)
            return page("login.html", 401, wait=None, wrong=True)
        if not has_session():
            return page("down.html", 503)
        throttle.succeeded(address)
        start_session()
        log.info("household page: logged in from %s", address)
        return redirect("/", code=303)  # type: ignore[return-value]

    def check_csrf() -> None:
        if not tokens_match(request.form.get("csrf_token"), session.get("csrf")):
            abort(
                Response(
                    _(
                        "Refused: the form's security token is missing or wrong; "
                        "reload the page and try again."
                    )
                    + "\n",
                    status=403,
                    mimetype="text/plain",
                )
            )

    @web.post("/logout")
    def logout() -> Response:
        check_csrf()
        session.clear()
        return redirect("/", code=303)  # type: ignore[return-value]

    @web.post("/refresh")
    def refresh() -> Response:
        check_csrf()
        try:
            outcome = asking.ask(store, now())
        except redis.RedisError:
            outcome = "failed"
        if outcome != "sent":
            session["note"] = outcome
        return redirect("/", code=303)  # type: ignore[return-value]

    @web.get("/frame.png")
    def frame() -> Response:
        try:
            meta = store.frame_meta()
            if meta is None:
                return refused(404, _("No frame kept yet."))
            etag = f"{meta.get('sha256')}-{meta.get('orientation')}"
            if request.if_none_match.contains(etag):
                return _frame_response(b"", etag, 304)
            with frames.lock:
                if frames.etag == etag:
                    return _frame_response(frames.png, etag)
            got = store.frame()
        except redis.RedisError:
            return refused(503, _("The board's Redis is not answering."))
        if got is None:
            return refused(404, _("No frame kept yet."))
        meta, png = got
        etag = f"{meta.get('sha256')}-{meta.get('orientation')}"
        with frames.lock:
            frames.etag, frames.png = etag, png
        return _frame_response(png, etag)

    def _frame_response(png: bytes, etag: str, status: int = 200) -> Response:
        response = Response(png, status=status, mimetype="image/png")
        response.set_etag(etag)
        # Asked again at every page reload; unchanged frames cost a 304.
        response.headers["Cache-Control"] = "private, no-cache"
        return response

    @web.get("/status.json")
    def status_json() -> Response:
        try:
            doc = store.status(config, now())
        except redis.RedisError:
            response = jsonify({"error": "the board's Redis is not answering"})
            response.status_code = 503
            return response
        return jsonify(doc)

    @web.get("/healthz")
    def healthz() -> Response:
        try:
            client.ping()
            recent = store.recent()
        except redis.RedisError:
            return refused(503, "unhealthy")
        return (
            refused(200, "ok")
            if _recent_success(recent, now(), config)
            else refused(503, "unhealthy")
        )

    @web.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return refused(404, _("Not found."))

    @web.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return refused(405, _("Method not allowed."))

    @web.errorhandler(413)
    def too_large(_exc: Exception) -> Response:
        return refused(413, _("Too large."))

    @web.errorhandler(Exception)
    def failed(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc.get_response()  # type: ignore[return-value]
        if isinstance(exc, redis.RedisError):
            return page("down.html", 503)
        log.error(
            "household page: unexpected %s on %s",
            type(exc).__name__,
            request.path,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return refused(500, _("Something went wrong; the journal has the details."))

    return web


def _recent_success(recent: list[dict[str, Any]], now: datetime, config: Config) -> bool:
    """Whether a refresh that drew the board ended recently enough: within two intervals
    (the longer one in quiet hours) and a refresh's time limit."""
    schedule = config.schedule
    interval = schedule.interval
    if schedule.quiet_hours is not None:
        interval = max(interval, schedule.quiet_hours.interval)
    limit = 2 * interval.total_seconds() + schedule.refresh_timeout.total_seconds()
    for rec in recent:
        if rec.get("outcome") in ("pushed", "unchanged", "deferred"):
            ended = parse_time(rec.get("ended_at"))
            return ended is not None and now.timestamp() - ended.timestamp() <= limit
    return False


__all__ = ["SECURITY_HEADERS", "create_app", "web_redis"]
