"""The one HTTP session of a refresh: timeouts, bounded retries, and secret-free errors.

Every source that speaks HTTP through ``requests`` gets the same ``Session``: a
User-Agent naming the product, and a urllib3 ``Retry`` that tries again on
connection errors, 5xx and 429 (honouring a short ``Retry-After``), never on other
4xx, and gives up quickly so that one refresh stays bounded in time. A failure
becomes a ``SourceError`` whose message is short and carries no secret: URLs lose
their query strings and userinfo, secret calendar addresses lose their path, and
registered secrets (API keys, passwords) are masked wherever they appear.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from homeboard import __version__
from homeboard.errors import SourceError

log = logging.getLogger(__name__)

USER_AGENT = f"homeboard/{__version__}"

# Two retries (three attempts) per request, backoff 0 s then ~1 s: a dead host costs
# at most three connect timeouts, and a refresh of all sources stays well inside the
# service's refresh bound. A source that still fails is tried again at the next tick.
RETRY_TOTAL = 2
RETRY_READ = 1  # a read timeout already waited the full read timeout once
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 4.0
# A Retry-After longer than this (e.g. Open-Meteo's daily-limit 429) is not waited
# for at all: the request fails now and the next refresh tries again.
RETRY_AFTER_CAP = 10.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# CalDAV reads with PROPFIND and REPORT; both are safe to repeat.
RETRY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
CONNECT_TIMEOUT_MAX = 5.0


class BoundedRetry(Retry):
    """urllib3 ``Retry`` that refuses to wait for a ``Retry-After`` beyond a cap."""

    def __init__(self, *args: Any, retry_after_cap: float = RETRY_AFTER_CAP, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.retry_after_cap = retry_after_cap

    def new(self, **kw: Any) -> BoundedRetry:
        """Copy with updated counters, keeping the cap (urllib3 calls this on every try)."""
        new = super().new(**kw)
        new.retry_after_cap = self.retry_after_cap
        return new

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> BoundedRetry:
        """Count one more try; give up at once on a ``Retry-After`` beyond the cap."""
        if response is not None and self.respect_retry_after_header:
            header = response.headers.get("Retry-After")
            if header is not None:
                try:
                    wait = self.parse_retry_after(header)
                except Exception:  # an unparsable header: ignore it, use the backoff
                    wait = 0.0
                if wait > self.retry_after_cap:
                    # urllib3 returns the response itself when raise_on_status is off,
                    # so the caller still sees the 429/503 and can say why.
                    raise MaxRetryError(_pool, url or "", ResponseError("Retry-After too long"))
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]


def make_retry() -> BoundedRetry:
    """The retry policy of every request (see the module docstring)."""
    return BoundedRetry(
        total=RETRY_TOTAL,
        connect=RETRY_TOTAL,
        read=RETRY_READ,
        status=RETRY_TOTAL,
        other=0,
        redirect=5,
        allowed_methods=RETRY_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last 5xx so the error names the status
        raise_on_redirect=True,
    )


class RedactingFilter(logging.Filter):
    """Redacts URLs and secret parameters in the records of the HTTP libraries' loggers.

    urllib3 logs every retry with the request's URL, query string included (an API
    key, a secret calendar address): those lines pass through ``redact`` first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message, redacted; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the logging machinery
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Libraries whose log lines carry request URLs.
REDACTED_LOGGERS = (
    "urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager",
    "caldav", "googleapiclient.discovery", "googleapiclient.http", "google_auth_httplib2",
)
_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to the HTTP libraries' loggers (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def build_session(*, user_agent: str = USER_AGENT, retry: Retry | None = None) -> requests.Session:
    """A ``requests.Session`` with the product's User-Agent and the bounded retry policy."""
    install_log_redaction()
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    adapter = HTTPAdapter(max_retries=retry if retry is not None else make_retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def timeouts(timeout: timedelta | float | None, *, default: float = 15.0) -> tuple[float, float]:
    """The (connect, read) timeouts for a request, from a source's configured timeout."""
    if isinstance(timeout, timedelta):
        seconds = timeout.total_seconds()
    elif timeout is None:
        seconds = default
    else:
        seconds = float(timeout)
    seconds = max(seconds, 0.1)
    return (min(seconds, CONNECT_TIMEOUT_MAX), seconds)


# --------------------------------------------------------------------------- #
# Redaction
# --------------------------------------------------------------------------- #

# Hosts whose calendar addresses carry the secret in the path itself (the "secret
# address in iCal format" of Google, iCloud's published calendars, Outlook's
# published calendars, Fastmail, Proton, Nextcloud public links).
SECRET_PATH_HOSTS: tuple[str, ...] = (
    "calendar.google.com",
    "icloud.com",
    "outlook.office365.com",
    "outlook.live.com",
    "outlook.office.com",
    "user.fm",
    "fastmail.com",
    "calendar.proton.me",
    "proton.me",
    "calendar.yahoo.com",
)
_SECRET_PATH_MARKERS = ("/public-calendars/", "/private-", "/published/")

_URL_RE = re.compile(r"\b(?:https?|webcal|webcals|ftp|file)://[^\s'\"<>()]+", re.IGNORECASE)
_QUERY_SECRET_RE = re.compile(
    r"(?i)([?&;](?:api_?key|apikey|key|token|access_token|refresh_token|id_token|password|"
    r"passwd|pwd|secret|client_secret|sig|signature|code|auth|authorization|"
    r"cachekey|passphrasekey)=)[^&\s'\"<>]*"
)
_AUTH_HEADER_RE = re.compile(
    r"(?i)\b(authorization|bearer|basic)(\s*[:=]?\s*)[A-Za-z0-9._~+/=-]{8,}"
)
_MASK = "***"


def _secret_path(parts: SplitResult) -> bool:
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in SECRET_PATH_HOSTS):
        return True
    return any(marker in parts.path for marker in _SECRET_PATH_MARKERS)


def redact_url(url: str) -> str:
    """A URL fit for a log: no userinfo, no query or fragment, no path on secret-URL hosts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    if not parts.scheme or not parts.netloc:
        # A path-only URL (as urllib3 writes them in its messages): keep the path only.
        return url.split("?", 1)[0] + ("?…" if "?" in url else "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    path = "/…" if _secret_path(parts) and parts.path not in ("", "/") else parts.path
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


# Secret-bearing path segments of calendar addresses, also where a library logs a
# path without its host (urllib3's retry warnings do).
_SECRET_SEGMENT_RE = re.compile(
    r"(/private-|/published/|/public-calendars/|/owa/calendar/)[^\s'\"<>?]*"
)
# The secrets of the request in progress (see ``get``): library log lines emitted
# while it runs are masked with them too.
_ACTIVE_SECRETS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "homeboard_active_secrets", default=()
)


def _expand_secrets(secrets: Iterable[str | None]) -> tuple[str, ...]:
    out: list[str] = []
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        out.append(secret)
        if "://" in secret:  # a secret URL: its path and query are secret on their own too
            parts = urlsplit(secret)
            tail = parts.path + (f"?{parts.query}" if parts.query else "")
            if len(parts.path) > 1:
                out.extend([tail, parts.path])
    # longest first, so a URL is masked whole before its path is
    return tuple(sorted(set(out), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with URLs redacted (``redact_url``), secret parameters and ``secrets`` masked."""
    for secret in (*_expand_secrets(secrets), *_ACTIVE_SECRETS.get()):
        if secret in text:
            text = text.replace(secret, _MASK)
    text = _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
    text = _QUERY_SECRET_RE.sub(lambda m: m.group(1) + _MASK, text)
    text = _SECRET_SEGMENT_RE.sub(lambda m: m.group(1) + "…", text)
    return _AUTH_HEADER_RE.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)


@contextlib.contextmanager
def secrets_in_flight(secrets: Iterable[str | None]) -> Iterator[None]:
    """Mask ``secrets`` in every library log line emitted inside the block."""
    token = _ACTIVE_SECRETS.set(_ACTIVE_SECRETS.get() + _expand_secrets(secrets))
    try:
        yield
    finally:
        _ACTIVE_SECRETS.reset(token)


# --------------------------------------------------------------------------- #
# Requests and their failures
# --------------------------------------------------------------------------- #


def describe_exception(exc: BaseException) -> str:
    """A short, secret-free reason for a failed request (never the exception's own text)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the server"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                        requests.exceptions.InvalidURL)):
        return "invalid URL"
    if isinstance(exc, requests.exceptions.RetryError):
        return "gave up after retries"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken while reading"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _describe_connection_error(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError):
        return _describe_os_error(exc) or "network error"
    return type(exc).__name__


def _describe_connection_error(exc: BaseException) -> str:
    # Walk the chain (requests → urllib3 MaxRetryError → NewConnectionError → OSError).
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        name = type(cur).__name__
        if name == "NameResolutionError" or "gaierror" in name:
            return "host not found"
        if name == "ReadTimeoutError":  # read retries exhausted: urllib3 wraps it
            return "timed out waiting for the server"
        if name == "ConnectTimeoutError":
            return "connection timed out"
        if isinstance(cur, OSError):
            reason = _describe_os_error(cur)
            if reason:
                return reason
        todo.extend([cur.__cause__, cur.__context__, getattr(cur, "reason", None)])
        todo.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
    return "connection failed"


def _describe_os_error(exc: OSError) -> str | None:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(exc, ConnectionResetError) or exc.errno == errno.ECONNRESET:
        return "connection reset"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    if isinstance(exc, TimeoutError):
        return "connection timed out"
    return None


_STATUS_WORDS: Mapping[int, str] = {
    400: "bad request",
    401: "not authorised",
    403: "access denied",
    404: "not found",
    410: "gone",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def server_detail(resp: requests.Response) -> str | None:
    """The reason a JSON error body gives, if any (Open-Meteo, problem+json, Google)."""
    try:
        body = resp.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):  # Google: {"error": {"code", "message", "errors": [...]}}
        message = err.get("message")
        return str(message) if message else None
    for key in ("reason", "title", "detail", "error_description", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def status_reason(resp: requests.Response, *, secrets: Iterable[str | None] = ()) -> str:
    """``HTTP 503 service unavailable: <server's reason>`` for an error response."""
    words = _STATUS_WORDS.get(resp.status_code, "error" if resp.status_code >= 400 else "")
    reason = f"HTTP {resp.status_code}" + (f" {words}" if words else "")
    detail = server_detail(resp)
    if detail:
        detail = " ".join(redact(detail, secrets).split())
        if len(detail) > 100:
            detail = detail[:99] + "…"
        reason += f": {detail}"
    return reason


def get(
    session: requests.Session,
    url: str,
    *,
    timeout: tuple[float, float],
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    secrets: Iterable[str | None] = (),
    ok: Iterable[int] = (),
) -> requests.Response:
    """GET ``url``; raise ``SourceError`` (secret-free) on a network error or a status >= 400.

    Statuses in ``ok`` are returned instead of raised, for callers that handle them
    (NWS re-resolves its gridpoint on 404).
    """
    secrets = tuple(secrets)
    try:
        with secrets_in_flight((*secrets, *(auth or ()))):
            resp = session.get(url, params=params, headers=headers, auth=auth, timeout=timeout)
    except requests.RequestException as exc:
        raise SourceError(describe_exception(exc)) from None
    except OSError as exc:
        raise SourceError(describe_exception(exc)) from None
    if resp.status_code >= 400 and resp.status_code not in set(ok):
        raise SourceError(status_reason(resp, secrets=secrets))
    return resp


def json_body(resp: requests.Response) -> Any:
    """The decoded JSON of ``resp``; ``SourceError`` when it is not JSON."""
    try:
        return json.loads(resp.content)
    except (ValueError, UnicodeDecodeError):
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        raise SourceError(f"malformed JSON ({ctype})") from None


__all__ = [
    "USER_AGENT", "BoundedRetry", "RedactingFilter", "build_session", "describe_exception", "get",
    "install_log_redaction", "json_body", "make_retry", "redact", "redact_url",
    "secrets_in_flight", "server_detail", "status_reason", "timeouts",
]
