"""Google Calendar through the Calendar API v3 (google-api-python-client, the ``google`` extra).

``events.list`` with ``singleEvents`` (recurring events arrive as instances, a
moved instance at its new time), ``orderBy=startTime``, ``timeMin``/``timeMax``
built from the board's local midnights with their offset, and ``timeZone`` set,
so all-day events come back as plain dates (end exclusive) and are never shifted
through UTC. Pages are followed; transient errors (5xx, 429, 403 rate limits) are
retried a bounded number of times by the client itself.

Sign-in is either a service-account key (the calendar shared with the account's
address; no token, no expiry) or an OAuth "Desktop app" client whose token file
``homeboard auth google NAME`` writes through the loopback flow (Google does not
allow calendar scopes in the device flow). A token Google refuses (expired or
revoked) turns into "reconnect calendar" on the frame.

Nothing here is imported by ``homeboard render``: the Google libraries are loaded
only when a Google calendar is fetched or connected.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests

from homeboard.errors import MissingDependency, SourceError, UsageError
from homeboard.model import CalendarEvent, SourceKind, calendar_source
from homeboard.sources import http
from homeboard.sources.events import (
    DEFAULT_LIMITS,
    QUERY_MARGIN,
    Window,
    keep_drawable,
    window_for,
)

if TYPE_CHECKING:
    from homeboard.config import CalendarConfig, Config

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/calendar.readonly"]
# Only what the board draws: a smaller answer to download and parse on a Pi Zero.
EVENT_FIELDS = (
    "items(id,status,summary,start,end,visibility,location,eventType),nextPageToken"
)
PAGE_SIZE = 250
MAX_PAGES = 20  # 5,000 events in a few days is a runaway, not a calendar
NUM_RETRIES = 2
RECONNECT = "reconnect calendar (token expired or revoked)"
RATE_LIMIT_REASONS = frozenset({
    "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded",
})
DEFAULT_AUTH_PORT = 8765


def _require_google() -> None:
    try:
        import google.oauth2.credentials  # noqa: F401
        import google_auth_httplib2  # noqa: F401
        import googleapiclient.discovery  # noqa: F401
        import httplib2  # noqa: F401
    except ImportError:
        raise MissingDependency("google-api-python-client", "google") from None


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (mode 0600).

    A temporary file in the same directory, fsynced, then renamed over the target:
    a crash leaves either the old token or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def event_from_item(item: Any, *, calendar: str, tz: tzinfo) -> CalendarEvent | None:
    """One ``events.list`` item as a CalendarEvent; None for cancelled or unusable items."""
    if not isinstance(item, dict) or item.get("status") == "cancelled":
        return None
    if item.get("eventType") == "workingLocation":  # "Home"/"Office" all day: not an event
        return None
    start, end = item.get("start"), item.get("end")
    if not isinstance(start, dict):
        return None
    end = end if isinstance(end, dict) else {}
    title = " ".join(str(item.get("summary") or "").split())  # private: none → "Busy"
    uid = str(item.get("id") or "")
    location = " ".join(str(item.get("location") or "").split()) or None
    if "date" in start:
        first = date.fromisoformat(str(start["date"]))
        after = date.fromisoformat(str(end["date"])) if "date" in end else first + timedelta(days=1)
        if after <= first:
            after = first + timedelta(days=1)
        return CalendarEvent(title=title, start=first, end=after, all_day=True,
                             calendar=calendar, uid=uid, location=location)
    if "dateTime" not in start:
        return None
    begin = _moment(start, tz)
    finish = _moment(end, tz) if "dateTime" in end else begin
    if finish < begin:
        finish = begin
    return CalendarEvent(title=title, start=begin, end=finish, all_day=False,
                         calendar=calendar, uid=uid, location=location)


def _moment(value: dict[str, Any], tz: tzinfo) -> datetime:
    moment = datetime.fromisoformat(str(value["dateTime"]))
    if moment.tzinfo is None:  # allowed when the item names its timeZone
        zone = value.get("timeZone")
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone) if zone else tz)
        except (KeyError, ValueError):
            moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


class GoogleCalendarSource:
    """A Google calendar read through the Calendar API."""

    kind: SourceKind = "calendar"

    def __init__(
        self,
        *,
        name: str,
        calendar_id: str,
        credentials: Path,
        token: Path | None,
        tz: tzinfo,
        timezone: str,
        days: int,
        label: str | None = None,
        timeout: timedelta | float | None = None,
        refresh: timedelta | None = None,
        api_endpoint: str | None = None,
        token_uri: str | None = None,
        num_retries: int = NUM_RETRIES,
    ) -> None:
        self.name = calendar_source(name)
        self.calendar = name
        self.label = label or name
        self.calendar_id = calendar_id
        self.credentials = Path(credentials)
        self.token = Path(token) if token is not None else None
        self.tz = tz
        self.timezone = timezone
        self.days = days
        self.timeout = http.timeouts(timeout, default=15.0)
        self.refresh = refresh
        # Other hosts for the API and the sign-in endpoint (tests, a proxy); google-auth
        # ignores a token file's own token_uri, so it is set here.
        self.api_endpoint = api_endpoint
        self.token_uri = token_uri
        self.num_retries = num_retries
        self._service: Any = None
        self._creds: Any = None
        self._loaded_mtime: float | None = None

    @classmethod
    def from_config(cls, cal: CalendarConfig, config: Config) -> GoogleCalendarSource:
        """The source for Google calendar ``cal`` of ``config``."""
        assert cal.google is not None
        return cls(
            name=cal.name, label=cal.label, calendar_id=cal.google.calendar_id,
            credentials=cal.google.credentials, token=cal.google.token, tz=config.tz,
            timezone=config.timezone, days=config.layout.days, timeout=cal.timeout,
            refresh=cal.refresh,
        )

    def __repr__(self) -> str:
        return f"GoogleCalendarSource({self.calendar!r})"

    @property
    def uses_service_account(self) -> bool:
        """True when signing in with a service-account key (no token file)."""
        return self.token is None

    # -- credentials ---------------------------------------------------------------

    def _load_credentials(self) -> Any:
        if self.token is None:
            from google.oauth2 import service_account

            try:
                return service_account.Credentials.from_service_account_file(
                    str(self.credentials), scopes=SCOPES)
            except OSError as exc:
                raise SourceError("cannot read the service-account key"
                                  f" ({exc.strerror or type(exc).__name__})") from None
            except (ValueError, KeyError, TypeError):
                raise SourceError("the service-account key is not valid") from None
        from google.oauth2.credentials import Credentials

        if not self.token.exists():
            raise SourceError(f"not connected: run 'homeboard auth google {self.calendar}'")
        try:
            creds = Credentials.from_authorized_user_file(str(self.token), SCOPES)
            if self.token_uri:
                moved = creds.with_token_uri(self.token_uri)
                moved.expiry = creds.expiry  # the copy forgets when the token expires
                creds = moved
            return creds
        except OSError as exc:
            raise SourceError("cannot read the token file"
                              f" ({exc.strerror or type(exc).__name__})") from None
        except (ValueError, KeyError, TypeError):
            raise SourceError("reconnect calendar (token file is not valid)") from None

    def _token_mtime(self) -> float | None:
        try:
            return self.token.stat().st_mtime if self.token is not None else None
        except OSError:
            return None

    def service(self) -> Any:
        """The API client, built once (and again when ``homeboard auth`` wrote a new token)."""
        mtime = self._token_mtime()
        if self._service is not None and mtime == self._loaded_mtime:
            return self._service
        _require_google()
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        creds = self._load_credentials()
        authed = google_auth_httplib2.AuthorizedHttp(
            creds, http=httplib2.Http(timeout=int(max(self.timeout[1], 1))))
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        # The discovery document ships with the client (static_discovery): building the
        # service makes no request.
        self._service = build("calendar", "v3", http=authed, cache_discovery=False,
                              static_discovery=True, client_options=options)
        self._creds = creds
        self._loaded_mtime = mtime
        return self._service

    # -- fetching ------------------------------------------------------------------

    def fetch(self, *, session: requests.Session, now: datetime) -> tuple[CalendarEvent, ...]:
        """The calendar's events on the board's days (the Google client has its own transport)."""
        window = window_for(now, self.tz, self.days)
        try:
            service = self.service()
        except MissingDependency as exc:
            raise SourceError(str(exc)) from None
        token_before = getattr(self._creds, "token", None)
        try:
            items = self._list(service, window)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._describe(exc)) from None
        finally:
            self._save_refreshed_token(token_before)
        events = (event_from_item(item, calendar=self.calendar, tz=self.tz) for item in items)
        # At most what a day can list (more raises SourceLimitExceeded with what is kept).
        return keep_drawable((e for e in events if e is not None and window.keeps(e)), window,
                             per_day=DEFAULT_LIMITS.per_day)

    def _list(self, service: Any, window: Window) -> list[Any]:
        request = service.events().list(
            calendarId=self.calendar_id,
            timeMin=(window.start - QUERY_MARGIN).isoformat(),
            timeMax=(window.end + QUERY_MARGIN).isoformat(),
            timeZone=self.timezone,
            singleEvents=True,
            orderBy="startTime",
            showDeleted=False,
            maxResults=PAGE_SIZE,
            fields=EVENT_FIELDS,
        )
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            if request is None:
                break
            response = request.execute(num_retries=self.num_retries)
            if not isinstance(response, dict):
                raise SourceError("malformed response: not a JSON object")
            page = response.get("items", [])
            if not isinstance(page, list):
                raise SourceError("malformed response: 'items' is not a list")
            items.extend(page)
            request = service.events().list_next(request, response)
        return items

    def _save_refreshed_token(self, before: str | None) -> None:
        # google-auth refreshed the access token in memory: keep it, so a restart does
        # not spend a sign-in request (and the refresh token's rotation is kept).
        creds = self._creds
        if self.token is None or creds is None or getattr(creds, "token", None) in (None, before):
            return
        try:
            write_private_file(self.token, creds.to_json())
            self._loaded_mtime = self._token_mtime()
        except OSError as exc:
            log.warning("%s: could not save the refreshed token (%s)", self.label,
                        exc.strerror or type(exc).__name__)

    def _describe(self, exc: BaseException) -> str:
        from google.auth import exceptions as auth_exc
        from googleapiclient.errors import HttpError

        if isinstance(exc, auth_exc.RefreshError):
            if self.uses_service_account:
                return "service-account sign-in refused (check the key and the clock)"
            return RECONNECT
        if isinstance(exc, HttpError):
            return self._describe_http_error(exc)
        if isinstance(exc, auth_exc.TransportError):
            cause = exc.__cause__ or (exc.args[0] if exc.args else None)
            reason = describe_google_transport(cause) if isinstance(cause, BaseException) else None
            return f"cannot reach Google sign-in ({reason or 'network error'})"
        reason = describe_google_transport(exc)
        return reason or f"unexpected error ({type(exc).__name__})"

    def _describe_http_error(self, exc: Any) -> str:
        status = int(getattr(exc.resp, "status", 0) or 0)
        reasons: set[str] = set()
        message = ""
        try:
            body = json.loads(exc.content.decode("utf-8"))
            error = body.get("error", {}) if isinstance(body, dict) else {}
            if isinstance(error, dict):
                message = str(error.get("message") or "")
                for detail in error.get("errors", []) or []:
                    if isinstance(detail, dict) and detail.get("reason"):
                        reasons.add(str(detail["reason"]))
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass
        if status == 401 and not self.uses_service_account:
            return RECONNECT
        if status == 429 or (status == 403 and reasons & RATE_LIMIT_REASONS):
            words = "rate limited"
        elif status == 403:
            words = "access denied (is the calendar shared with this account?)"
        elif status == 404:
            words = "calendar not found (check calendar_id and sharing)"
        elif status == 401:
            words = "not authorised (check the service-account key)"
        elif status >= 500:
            words = "server error"
        else:
            words = "error"
        text = f"HTTP {status} {words}"
        if message:
            message = " ".join(http.redact(message).split())[:80]
            text += f": {message}"
        return text


def describe_google_transport(exc: BaseException | None) -> str | None:
    """A short reason for a network failure inside httplib2, or None if it is not one."""
    if exc is None:
        return None
    try:
        import httplib2
    except ImportError:  # pragma: no cover - only without the google extra
        httplib2 = None  # type: ignore[assignment]
    if httplib2 is not None and isinstance(exc, httplib2.ServerNotFoundError):
        return "host not found"
    if isinstance(exc, (TimeoutError, OSError, requests.RequestException)):
        return http.describe_exception(exc)
    if httplib2 is not None and isinstance(exc, httplib2.HttpLib2Error):
        return "connection failed"
    return None


def run_google_auth(
    config: Config,
    calendar_name: str,
    *,
    port: int = DEFAULT_AUTH_PORT,
    open_browser: bool = False,
    timeout_seconds: int | None = 600,
) -> Path:
    """Connect Google calendar ``calendar_name``: the OAuth loopback flow, then save its token.

    Prints a URL to open in a browser; Google redirects the browser to
    ``http://localhost:PORT/`` on this machine (on a headless Pi, forward the port:
    ``ssh -L PORT:localhost:PORT pi``). The token is written atomically, mode 0600,
    to the calendar's ``google.token`` path. Returns that path.
    """
    cal = next((c for c in config.calendars if c.name == calendar_name), None)
    if cal is None:
        names = ", ".join(c.name for c in config.calendars if c.google is not None) or "none"
        raise UsageError(f"no calendar named {calendar_name!r} (Google calendars: {names})")
    if cal.google is None:
        raise UsageError(f"calendar {calendar_name!r} is not a Google calendar")
    if cal.google.token is None:
        raise UsageError(
            f"calendar {calendar_name!r} signs in with a service-account key (no `token:`);"
            " share the calendar with the service account instead, or set google.token"
            " and use an OAuth Desktop-app client file as credentials"
        )
    try:
        from google_auth_oauthlib.flow import InstalledAppFlow
    except ImportError:
        raise MissingDependency("google-auth-oauthlib", "google") from None
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(cal.google.credentials), scopes=SCOPES)
    except OSError as exc:
        raise UsageError(f"cannot read {cal.google.credentials}:"
                         f" {exc.strerror or type(exc).__name__}") from None
    except (ValueError, KeyError):
        raise UsageError(f"{cal.google.credentials} is not an OAuth client file"
                         " (create a 'Desktop app' OAuth client and download its JSON)") from None
    prompt = (
        "Open this address in a browser and allow read access to the calendar.\n"
        f"On a headless board, first forward the port: ssh -L {port}:localhost:{port} <board>\n"
        "{url}\n"
    )
    creds = flow.run_local_server(
        host="localhost", port=port, open_browser=open_browser,
        authorization_prompt_message=prompt,
        success_message="Home Board can now read the calendar. You may close this tab.",
        timeout_seconds=timeout_seconds,
        # offline + consent: Google issues a refresh token every time, also on a reconnect.
        access_type="offline", prompt="consent",
    )
    if not getattr(creds, "refresh_token", None):
        raise SourceError("Google issued no refresh token; remove the app's access at"
                          " myaccount.google.com/permissions and connect again")
    write_private_file(cal.google.token, creds.to_json())
    return cal.google.token


__all__ = [
    "DEFAULT_AUTH_PORT", "EVENT_FIELDS", "RECONNECT", "SCOPES", "GoogleCalendarSource",
    "event_from_item", "run_google_auth", "write_private_file",
]
