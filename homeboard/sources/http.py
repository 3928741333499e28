"""The one HTTP session of a refresh: timeouts, bounded retries, and secret-free errors.

Every source that speaks HTTP through ``requests`` gets the same ``Session``: a
User-Agent naming the product, and a urllib3 ``Retry`` that tries again on
connection errors, 5xx and 429 (honouring a short ``Retry-After``), never on other
4xx, and gives up quickly so that one refresh stays bounded in time. A failure
becomes a ``SourceError`` whose message is short and carries no secret: URLs lose
their query strings and userinfo, secret calendar addresses lose their path, and
registered secrets (API keys, passwords) are masked wherever they appear.

Every answer is read in chunks by a response hook (``read_bounded``), for every
request of the session (CalDAV's too): the fetch's deadline is checked between
chunks, and the bytes on the wire and after gzip/deflate decompression are capped
(``SourceLimitExceeded``). Redirects go at most ``MAX_REDIRECTS`` hops and only to
http(s) addresses.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import contextvars
import errno
import io
import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from homeboard import __version__
from homeboard.errors import SourceError, SourceLimitExceeded
from homeboard.sources.base import MB, check_deadline, current_limits, time_left

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
# requests follows 30 redirects by default; no calendar or weather answer needs more
# than a couple, and a loop must fail fast.
MAX_REDIRECTS = 5
# Only what ``read_bounded`` can decompress with a bound on its output.
ACCEPT_ENCODING = "gzip, deflate"
CHUNK = 64 * 1024


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
        try:
            check_deadline()  # no new try past the fetch's deadline
        except SourceLimitExceeded:
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
            raise
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if response is not None:
            # Tried again: urllib3 would now read the old answer to its end to reuse the
            # connection, and an endless 503 body has no end. Drop the connection instead.
            with contextlib.suppress(Exception):
                response.close()
        return new  # type: ignore[return-value]


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
    """A ``requests.Session``: the product's User-Agent, bounded retries, bounded answers."""
    install_log_redaction()
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING
    session.max_redirects = MAX_REDIRECTS
    session.hooks["response"].append(read_bounded)
    adapter = HTTPAdapter(max_retries=retry if retry is not None else make_retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --------------------------------------------------------------------------- #
# Bounded answers
# --------------------------------------------------------------------------- #


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n / 1024:g} KB"


class _Inflater:
    """gzip or deflate decompression whose output per call is bounded (``max_length``)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: the gzip header; deflate: zlib's (raw deflate is tried on the first error)
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decompressed pieces of ``data``, stopping once more than ``room`` bytes came out."""
        while data:
            # At most a chunk at a time: a bomb never gets to allocate its output at once.
            step = min(room + 1, CHUNK * 16)
            try:
                out = self._obj.decompress(data, step)
            except zlib.error:
                if self._started or self.encoding != "deflate":
                    raise
                self._wbits = -zlib.MAX_WBITS  # "deflate" servers that send raw deflate
                self._obj = zlib.decompressobj(self._wbits)
                out = self._obj.decompress(data, step)
            self._started = True
            room -= len(out)
            if out:
                yield out
            if room < 0:
                return
            if self._obj.unconsumed_tail:
                data = self._obj.unconsumed_tail
            elif self._obj.eof and self._obj.unused_data:
                data = self._obj.unused_data  # a second gzip member follows
                self._obj = zlib.decompressobj(self._wbits)
            else:
                data = b""


def _inflater(resp: requests.Response) -> _Inflater | None:
    codings = [c.strip().lower() for c in resp.headers.get("Content-Encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise SourceError(f"unsupported content encoding {', '.join(codings)[:40]!r}")


def _check_redirect(resp: requests.Response) -> None:
    """Refuse a redirect away from http(s): ``file://``, ``ftp://``, a custom scheme."""
    target = urljoin(resp.url or "", resp.headers.get("Location", ""))
    try:
        scheme = urlsplit(target).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        what = f"{scheme[:20]}:" if scheme.isalnum() else "an unusable address"
        raise SourceError(f"redirect to {what} refused (http and https only)")


def _read_chunk(raw: Any) -> bytes:
    # read1: return what one socket read brings, so that a server dripping a byte at a
    # time cannot hold the loop (and its deadline check) inside one big read.
    read1 = getattr(raw, "read1", None)
    if read1 is not None:
        return read1(CHUNK, decode_content=False) or b""
    return raw.read(8192, decode_content=False) or b""


def read_bounded(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: read the body now, within the fetch's deadline and byte caps.

    The bytes land where ``resp.content`` finds them. Past a cap: ``SourceLimitExceeded``
    (the connection is dropped, not read to its end).
    """
    if resp.is_redirect:
        try:
            _check_redirect(resp)
        except SourceError:
            resp.close()
            raise
    if getattr(resp, "_content", False) is not False or resp.raw is None:
        return  # already read (or nothing to read)
    limits = current_limits()
    try:
        declared = int(resp.headers.get("Content-Length", "") or -1)
    except ValueError:
        declared = -1
    inflater: _Inflater | None = None
    try:
        if declared > limits.wire:
            raise SourceLimitExceeded(
                f"answer larger than {_size(limits.wire)} (Content-Length, cut)")
        inflater = _inflater(resp)
        # BytesIO rather than a list joined at the end: its getvalue() hands over its
        # buffer without a copy, so a body costs its size once, not twice.
        buffer = io.BytesIO()
        wire = body = 0
        while True:
            check_deadline()
            data = _read_chunk(resp.raw)
            if not data:
                break
            wire += len(data)
            if wire > limits.wire:
                raise SourceLimitExceeded(f"answer larger than {_size(limits.wire)} (cut)")
            pieces = [data] if inflater is None else inflater.feed(data, limits.body - body)
            for piece in pieces:
                body += len(piece)
                if body > limits.body:
                    raise SourceLimitExceeded(
                        f"answer larger than {_size(limits.body)} decompressed (cut)")
                buffer.write(piece)
    except zlib.error:
        resp.close()
        raise SourceError(f"malformed {inflater.encoding if inflater else ''} answer") from None
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        resp.close()
        check_deadline()
        raise SourceError("timed out waiting for the server") from None
    except (urllib3.exceptions.HTTPError, OSError):
        resp.close()
        check_deadline()
        raise SourceError("connection broken while reading") from None
    except BaseException:
        resp.close()  # a cap or the deadline: drop the connection, unread
        raise
    # requests keeps a read body in ``_content`` (it does the same in ``Response.content``).
    resp._content = buffer.getvalue()
    resp._content_consumed = True


# --------------------------------------------------------------------------- #
# Text
# --------------------------------------------------------------------------- #

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_SINGLE_BYTE_LATIN = frozenset({"iso8859-1", "iso8859-15", "cp1252", "ascii"})


def charset_of(resp: requests.Response) -> str | None:
    """The charset the answer's Content-Type names, if any (no HTTP/1.1 default)."""
    for param in resp.headers.get("Content-Type", "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(body: bytes, charset: str | None = None) -> str:
    """``body`` as text: by its byte-order mark, the charset named, UTF-8, then Windows-1252.

    A BOM wins over the header (as in browsers): a server that labels every file
    UTF-8 still serves a UTF-16 export right. A body labelled Latin-1 that is valid
    UTF-8 is UTF-8 (a server default, not what the file says); anything else
    decodes, with Latin-1 as the last resort, so one odd byte never loses a calendar.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            with contextlib.suppress(UnicodeDecodeError):
                return body.decode(codec)
    named = _codec(charset)
    if named is not None and named not in _SINGLE_BYTE_LATIN:
        with contextlib.suppress(UnicodeDecodeError):
            return body.decode(named)
    with contextlib.suppress(UnicodeDecodeError):
        return body.decode("utf-8")
    if named is not None:
        with contextlib.suppress(UnicodeDecodeError):
            return body.decode(named)
    with contextlib.suppress(UnicodeDecodeError):
        return body.decode("cp1252")
    return body.decode("latin-1")


def to_utf8(body: bytes, charset: str | None = None) -> bytes:
    """``body`` re-encoded as UTF-8 without a BOM (as is when it already is UTF-8)."""
    if body.isascii():
        return body
    if not body.startswith(tuple(bom for bom, _ in _BOMS)):
        named = _codec(charset)
        if named in (None, "utf-8") or named in _SINGLE_BYTE_LATIN:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return body
    return decode_text(body, charset).encode("utf-8")


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
# The same on any host (a self-hosted Nextcloud, an on-premises Exchange's OWA).
_SECRET_PATH_MARKERS = ("/public-calendars/", "/private-", "/published/", "/owa/calendar/")

_URL_RE = re.compile(r"\b(?:https?|webcal|webcals|ftp|file)://[^\s'\"<>()]+", re.IGNORECASE)
_QUERY_SECRET_RE = re.compile(
    r"(?i)([?&;](?:api_?key|apikey|key|token|access_token|refresh_token|id_token|password|"
    r"passwd|pwd|secret|client_secret|sig|signature|code|auth|authorization|"
    r"cachekey|passphrasekey)=)[^&\s'\"<>]*"
)
# "user:password@host", with or without a scheme before it (servers echo it in errors).
_USERINFO_RE = re.compile(r"(?<![\w.~%!$&'*+,;=:-])[\w.~%!$&'*+,;=-]*:[^\s/?#@'\"<>]+@(?=[\w\[])")
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
            try:
                parts = urlsplit(secret)
            except ValueError:
                continue
            tail = parts.path + (f"?{parts.query}" if parts.query else "")
            if len(parts.path) > 1:
                out.extend([tail, parts.path])
            out.extend(_userinfo_secrets(parts))
    # longest first, so a URL is masked whole before its path is
    return tuple(sorted(set(out), key=len, reverse=True))


def _userinfo_secrets(parts: SplitResult) -> list[str]:
    """A URL's password as written and decoded, with its user, and as a Basic-auth token."""
    if parts.password is None:
        return []
    user, password = parts.username or "", parts.password
    out = []
    for u, p in ((user, password), (unquote(user), unquote(password))):
        out.append(f"{u}:{p}")
        out.append(base64.b64encode(f"{u}:{p}".encode()).decode())
        if len(p) >= 4:
            out.append(p)
    return out


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with URLs redacted (``redact_url``), secret parameters and ``secrets`` masked.

    Userinfo (``user:password@``) is masked wherever it shows, with a scheme or without.
    """
    for secret in (*_expand_secrets(secrets), *_ACTIVE_SECRETS.get()):
        if secret in text:
            text = text.replace(secret, _MASK)
    text = _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
    text = _USERINFO_RE.sub(_MASK + "@", text)
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
    if isinstance(exc, SourceError):
        return str(exc)  # already short and secret-free (raised by ``read_bounded``)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"too many redirects (more than {MAX_REDIRECTS})"
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


def _within_deadline(timeout: tuple[float, float]) -> tuple[float, float]:
    """``timeout``, shortened so that no socket wait outlasts the fetch's deadline."""
    check_deadline()
    left = time_left()
    if left is None:
        return timeout
    left = max(left, 0.05)
    return (min(timeout[0], left), min(timeout[1], left))


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
    timeout = _within_deadline(timeout)
    try:
        with secrets_in_flight((*secrets, *(auth or ()))):
            resp = session.get(url, params=params, headers=headers, auth=auth, timeout=timeout)
    except (requests.RequestException, OSError) as exc:
        check_deadline()  # a timeout cut short by the deadline says so
        raise SourceError(describe_exception(exc)) from None
    if resp.status_code >= 400 and resp.status_code not in set(ok):
        raise SourceError(status_reason(resp, secrets=secrets))
    return resp


def json_body(resp: requests.Response) -> Any:
    """The decoded JSON of ``resp`` (in the charset it names); ``SourceError`` when not JSON."""
    try:
        return json.loads(decode_text(resp.content, charset_of(resp)))
    except (ValueError, UnicodeDecodeError):
        pass
    try:  # JSON's own detection of UTF-16 and UTF-32 without a BOM
        return json.loads(resp.content)
    except (ValueError, UnicodeDecodeError):
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        raise SourceError(f"malformed JSON ({ctype})") from None


__all__ = [
    "ACCEPT_ENCODING", "MAX_REDIRECTS", "USER_AGENT", "BoundedRetry", "RedactingFilter",
    "build_session", "charset_of", "check_deadline", "decode_text", "describe_exception", "get",
    "install_log_redaction", "json_body", "make_retry", "read_bounded", "redact", "redact_url",
    "secrets_in_flight", "server_detail", "status_reason", "timeouts", "to_utf8",
]
