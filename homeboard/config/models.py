"""The config's typed, frozen models: one dataclass per section of the YAML file."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from homeboard.config.fields import (
    NOT_EMPTY,
    Problems,
    _contact,
    _http_url,
    _icon_names,
    _ics_url,
    _is_loopback,
    _language,
    _not_reserved,
    _parses,
    _placeholders,
    _redis_url,
    _timezone,
    between,
    check,
    invariant,
    matches,
    one_of,
    setting,
    within,
)
from homeboard.config.values import (
    DRIVERS,
    PANEL_MIN_INTERVAL,
    PANELS,
    CalendarKind,
    Clock,
    DateRule,
    EventDate,
    EventKind,
    Ink,
    Orientation,
    Provider,
    Units,
    format_duration,
    parse_event_date,
    parse_rule,
)


@dataclass(frozen=True)
class Location:
    """Where the household is, for the weather."""

    latitude: float = setting(
        doc="Degrees north (-90..90).", checks=[between(-90, 90)], example=37.6819
    )
    longitude: float = setting(
        doc="Degrees east (-180..180).", checks=[between(-180, 180)], example=-121.768
    )
    name: str | None = setting(None, doc="Place name shown with the weather.", example="Livermore")


@dataclass(frozen=True)
class Layout:
    """How the board is laid out."""

    days: int = setting(4, doc="Day columns, today included (1..7).", checks=[between(1, 7)])
    orientation: Orientation = setting("landscape", doc="How the panel hangs.")
    show_attribution: bool = setting(
        True, doc="Print the weather provider's credit in the footer (Open-Meteo asks for it)."
    )


@dataclass(frozen=True)
class Pins:
    """BCM GPIO numbers of the panel's control lines (Waveshare e-Paper HAT wiring)."""

    rst: int = setting(17, doc="Reset line (BCM number).", checks=[between(0, 27)])
    dc: int = setting(25, doc="Data/command line (BCM number).", checks=[between(0, 27)])
    cs: int = setting(8, doc="SPI chip-select line (BCM number).", checks=[between(0, 27)])
    busy: int = setting(24, doc="BUSY line (BCM number).", checks=[between(0, 27)])
    pwr: int = setting(
        18, doc="Panel power line of newer HATs (BCM number).", checks=[between(0, 27)]
    )

    @invariant("rst", "dc", "cs", "busy", "pwr")
    def _distinct(self) -> Problems:
        seen: dict[int, str] = {}
        for name in ("rst", "dc", "cs", "busy", "pwr"):
            pin = getattr(self, name)
            if pin in seen:
                yield name, f"GPIO {pin} is already used by {seen[pin]}"
            seen.setdefault(pin, name)


@dataclass(frozen=True)
class DisplayConfig:
    """The panel, or the mock display that writes PNG files."""

    driver: str = setting(
        "waveshare_epd7in5b_v2",
        doc="Panel driver; `mock` writes PNGs instead. $HOMEBOARD_DISPLAY overrides it.",
        checks=[one_of(DRIVERS)],
    )
    panel: str = setting(
        "waveshare_epd7in5b_v2",
        doc="The panel the mock emulates; with a real driver it is that driver's panel.",
        checks=[one_of(PANELS)],
    )
    output_dir: Path = setting(
        Path("/var/lib/homeboard/frames"), doc="Where the mock writes its frames."
    )
    keep_frames: int = setting(
        50,
        doc="How many numbered frame PNGs the mock keeps; older ones are deleted.",
        checks=[between(1, 1_000_000)],
    )
    min_interval: timedelta | None = setting(
        None,
        doc="Least time between two pushes; default 180s for panels, 0 for the mock.",
        checks=[within(timedelta(0), timedelta(days=1))],
    )
    busy_timeout: timedelta = setting(
        timedelta(seconds=60),
        doc="Longest wait for the panel's BUSY line.",
        checks=[within(timedelta(seconds=1), timedelta(minutes=10))],
    )
    spi_bus: int = setting(0, doc="SPI bus number (/dev/spidevB.D).", checks=[between(0, 6)])
    spi_device: int = setting(
        0, doc="SPI chip-select number (/dev/spidevB.D).", checks=[between(0, 3)]
    )
    spi_speed_hz: int = setting(
        4_000_000, doc="SPI clock in Hz.", checks=[between(10_000, 32_000_000)]
    )
    pins: Pins = setting(factory=Pins, doc="GPIO lines of the panel.")

    def __post_init__(self) -> None:
        # A real driver *is* its panel, so `panel` always names what is drawn for.
        if self.driver in PANELS and self.panel != self.driver:
            object.__setattr__(self, "panel", self.driver)

    @property
    def effective_min_interval(self) -> timedelta:
        """`min_interval`, or its default: 180 s for panels, none for the mock."""
        if self.min_interval is not None:
            return self.min_interval
        return timedelta(0) if self.driver == "mock" else PANEL_MIN_INTERVAL


@dataclass(frozen=True)
class WeatherConfig:
    """Where the forecast comes from."""

    provider: Provider = setting("open-meteo", doc="Weather provider (nws: United States only).")
    base_url: str | None = setting(
        None,
        doc="Provider URL override, e.g. a self-hosted Open-Meteo.",
        checks=[check(_http_url)],
        example="http://127.0.0.1:8080",
    )
    api_key_file: Path | None = setting(
        None, doc="File holding an Open-Meteo commercial API key (never logged)."
    )
    contact: str | None = setting(
        None,
        doc="E-mail or URL sent in the User-Agent; required by nws.",
        checks=[check(_contact)],
        example="family@example.com",
    )
    max_age: timedelta = setting(
        timedelta(hours=3),
        doc="Older weather is marked stale on the board.",
        checks=[within(timedelta(seconds=1), timedelta(days=7))],
    )
    refresh: timedelta | None = setting(
        None,
        doc="Fetch at most this often; default: at every refresh.",
        checks=[within(timedelta(seconds=1), timedelta(days=1))],
    )
    timeout: timedelta = setting(
        timedelta(seconds=10),
        doc="Network timeout of one request.",
        checks=[within(timedelta(seconds=1), timedelta(minutes=5))],
    )
    deadline: timedelta = setting(
        timedelta(seconds=60),
        doc="Longest one fetch may take, all requests included; then it fails alone.",
        checks=[within(timedelta(seconds=1), timedelta(minutes=10))],
    )
    enabled: bool = setting(True, doc="false hides the weather (as does `weather: null`).")

    _secret_keys: ClassVar[Mapping[str, str]] = {"api_key": "api_key_file"}

    @invariant("provider", "contact")
    def _nws_needs_contact(self) -> Problems:
        if self.provider == "nws" and self.contact is None:
            yield (
                "contact",
                (
                    "is required for the nws provider (an e-mail address or URL for the"
                    " User-Agent, as api.weather.gov asks)"
                ),
            )

    @invariant("provider", "api_key_file")
    def _key_is_open_meteo(self) -> Problems:
        if self.provider != "open-meteo" and self.api_key_file is not None:
            yield "api_key_file", "only applies to the open-meteo provider"

    @invariant("refresh", "max_age")
    def _refresh_within_max_age(self) -> Problems:
        yield from _refresh_problems(self.refresh, self.max_age)


def _refresh_problems(refresh: timedelta | None, max_age: timedelta) -> Problems:
    if refresh is not None and refresh >= max_age:
        yield (
            "refresh",
            (
                f"must be shorter than max_age ({format_duration(max_age)}), or the data"
                " turns stale between fetches"
            ),
        )


@dataclass(frozen=True, kw_only=True)
class GoogleCalendar:
    """A Google calendar read through the Calendar API."""

    calendar_id: str = setting(
        "primary",
        doc="Calendar ID (Settings > Integrate calendar); a service account"
        " needs the explicit ID, its own primary calendar is empty.",
        checks=[NOT_EMPTY],
        example="family0123@group.calendar.google.com",
    )
    credentials: Path = setting(
        doc="Service-account key JSON, or OAuth client JSON (with `token`).",
        example="/etc/homeboard/secrets/google-service-account.json",
    )
    token: Path | None = setting(
        None, doc="OAuth token file; unset means `credentials` is a service-account key."
    )


@dataclass(frozen=True)
class CalDAVCalendar:
    """A calendar on a CalDAV server (Nextcloud, Fastmail, iCloud...)."""

    url: str = setting(
        doc="CalDAV server URL.",
        checks=[check(_http_url)],
        example="https://cloud.example.com/remote.php/dav/",
    )
    username: str | None = setting(None, doc="User name on the server.")
    password_file: Path | None = setting(None, doc="File holding the password or app token.")
    calendar: str | None = setting(None, doc="Calendar name on the server; default: all.")

    _secret_keys: ClassVar[Mapping[str, str]] = {"password": "password_file"}


@dataclass(frozen=True)
class CalendarConfig:
    """One calendar whose events the board shows; exactly one of ics_url, google, caldav."""

    name: str = setting(
        doc="Unique name; keys its cache and its status.",
        checks=[NOT_EMPTY, check(_not_reserved)],
        example="Family",
    )
    label: str | None = setting(
        None, doc="Short label drawn next to its events; default: name; empty: none."
    )
    color: Ink = setting("black", doc="Ink of its events.")
    max_age: timedelta = setting(
        timedelta(hours=6),
        doc="Older events are marked stale on the board.",
        checks=[within(timedelta(seconds=1), timedelta(days=30))],
    )
    refresh: timedelta | None = setting(
        None,
        doc="Fetch at most this often (e.g. 1h for a big ICS file); default: every refresh.",
        checks=[within(timedelta(seconds=1), timedelta(days=7))],
    )
    timeout: timedelta = setting(
        timedelta(seconds=15),
        doc="Network timeout of one request.",
        checks=[within(timedelta(seconds=1), timedelta(minutes=5))],
    )
    deadline: timedelta = setting(
        timedelta(seconds=60),
        doc="Longest one fetch may take, reading and parsing included; then it fails alone.",
        checks=[within(timedelta(seconds=1), timedelta(minutes=10))],
    )
    ics_url: str | None = setting(
        None,
        doc="iCalendar feed: http(s), webcal or file URL, or a file path.",
        parse=_ics_url,
        example="https://calendar.example.com/family/basic.ics",
    )
    google: GoogleCalendar | None = setting(None, doc="A Google calendar via the API.")
    caldav: CalDAVCalendar | None = setting(None, doc="A calendar on a CalDAV server.")
    username: str | None = setting(None, doc="Basic-auth user for ics_url.")
    password_file: Path | None = setting(None, doc="File holding the basic-auth password.")

    _exactly_one: ClassVar[tuple[tuple[str, ...], ...]] = (("ics_url", "google", "caldav"),)
    _secret_keys: ClassVar[Mapping[str, str]] = {"password": "password_file"}

    def __post_init__(self) -> None:
        if self.label is None:
            object.__setattr__(self, "label", self.name)

    @property
    def kind(self) -> CalendarKind:
        """Which connector reads this calendar."""
        if self.ics_url is not None:
            return "ics"
        if self.google is not None:
            return "google"
        if self.caldav is not None:
            return "caldav"
        raise ValueError(f"calendar {self.name!r} has no ics_url, google or caldav")

    @invariant("ics_url", "username", "password_file")
    def _basic_auth_is_for_ics(self) -> Problems:
        if self.ics_url is None:
            for name in ("username", "password_file"):
                if getattr(self, name) is not None:
                    yield name, "only applies to ics_url (for caldav, put it under caldav)"

    @invariant("refresh", "max_age")
    def _refresh_within_max_age(self) -> Problems:
        yield from _refresh_problems(self.refresh, self.max_age)


def _years_used(message: str) -> bool:
    return any(
        name in ("years", "age") for _, name, _, _ in string.Formatter().parse(message) if name
    )


@dataclass(frozen=True)
class SpecialEvent:
    """A day with a banner: a birthday, an anniversary, a holiday or a one-off event."""

    name: str = setting(
        doc="Who or what; {name} in the message.", checks=[NOT_EMPTY], example="Corinne"
    )
    kind: EventKind = setting("event", doc="What sort of day it is.")
    date: str | None = setting(
        None,
        doc="MM-DD, or YYYY-MM-DD: the birth or first year (birthday, anniversary),"
        " or a one-off day (event).",
        checks=[_parses(parse_event_date)],
        example="2016-03-14",
    )
    rule: str | None = setting(
        None,
        doc="Yearly rule: '<1st..5th|last> <weekday> of <month>'.",
        checks=[_parses(parse_rule)],
        example="4th thursday of november",
    )
    message: str | None = setting(
        None,
        doc="Banner text; may use {name} and, with a dated year, {years} or {age}.",
        checks=[check(_placeholders)],
        example="Happy Birthday, {name}!",
    )
    icon: str | None = setting(None, doc="Icon drawn on the banner.", checks=[one_of(_icon_names)])
    color: Ink = setting("red", doc="Ink of the banner.")

    _exactly_one: ClassVar[tuple[tuple[str, ...], ...]] = (("date", "rule"),)

    @property
    def event_date(self) -> EventDate | None:
        """`date`, parsed."""
        return None if self.date is None else parse_event_date(self.date)

    @property
    def date_rule(self) -> DateRule | None:
        """`rule`, parsed."""
        return None if self.rule is None else parse_rule(self.rule)

    @invariant("kind", "rule")
    def _people_have_dates(self) -> Problems:
        if self.kind in ("birthday", "anniversary") and self.rule is not None:
            yield "rule", f"a {self.kind} falls on its date each year: give date, not rule"

    @invariant("message", "date")
    def _years_need_a_year(self) -> Problems:
        if self.message is not None and _years_used(self.message):
            if self.date is None or parse_event_date(self.date).year is None:
                yield "message", "{years} and {age} need a date with a year (YYYY-MM-DD)"


@dataclass(frozen=True)
class HolidaysConfig:
    """Public holidays from the `holidays` package."""

    country: str = setting(
        doc="ISO 3166-1 alpha-2 country code, upper-case.",
        checks=[matches(r"^[A-Z]{2}$", "is not an upper-case two-letter country code (e.g. US)")],
        example="US",
    )
    subdivision: str | None = setting(
        None,
        doc="State or region code, e.g. CA.",
        checks=[matches(r"^[A-Za-z0-9]{1,4}$", "is not a subdivision code (e.g. CA)")],
    )
    categories: tuple[str, ...] = setting(
        ("public",),
        doc="Holiday categories, e.g. public, unofficial, government, bank.",
        checks=[matches(r"^[a-z_]+$", "is not a category name (e.g. public, unofficial)")],
    )
    banner: bool = setting(True, doc="Show a banner on the holiday itself.")

    @invariant("categories")
    def _some_category(self) -> Problems:
        if not self.categories:
            yield "categories", "must name at least one category (or set holidays: null)"


@dataclass(frozen=True)
class QuietHours:
    """A nightly window with slower refreshes; it may cross midnight."""

    start: time = setting(doc="Start, HH:MM.", example="21:00")
    end: time = setting(doc="End, HH:MM.", example="07:00")
    interval: timedelta = setting(
        timedelta(hours=1),
        doc="Refresh interval inside the window.",
        checks=[within(timedelta(seconds=1), timedelta(days=1))],
    )

    def covers(self, moment: time) -> bool:
        """Whether `moment` (local time) lies in the window [start, end)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    @invariant("start", "end")
    def _not_empty(self) -> Problems:
        if self.start == self.end:
            yield "end", "equals start, so the window is empty (remove quiet_hours instead)"


# The unit's TimeoutStopSec lets a refresh this long finish (tests/test_systemd.py).
REFRESH_TIMEOUT_MAX = timedelta(minutes=10)


@dataclass(frozen=True)
class Schedule:
    """When the board refreshes."""

    interval: timedelta = setting(
        timedelta(minutes=15),
        doc="Time between refreshes.",
        checks=[within(timedelta(seconds=1), timedelta(days=1))],
    )
    quiet_hours: QuietHours | None = setting(None, doc="Slower refreshes at night; default none.")
    lock_timeout: timedelta = setting(
        timedelta(minutes=10),
        doc="Lifetime of the refresh lock: how long a killed refresh can block the next one.",
        checks=[within(timedelta(seconds=1), timedelta(hours=1))],
    )
    refresh_timeout: timedelta = setting(
        timedelta(minutes=5),
        doc="Longest one refresh may take before it is abandoned.",
        checks=[within(timedelta(seconds=1), REFRESH_TIMEOUT_MAX)],
    )

    @invariant("lock_timeout", "refresh_timeout")
    def _lock_outlives_refresh(self) -> Problems:
        if self.lock_timeout <= self.refresh_timeout:
            limit = format_duration(self.refresh_timeout)
            yield (
                "lock_timeout",
                (
                    f"must be longer than refresh_timeout ({limit}),"
                    " or a slow refresh loses its lock to the next one"
                ),
            )


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as (host, port); ValueError when malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT with a port from 1 to 65535")
    return host, int(port)


@dataclass(frozen=True)
class WebConfig:
    """The household page (`homeboard web`)."""

    listen: str = setting(
        "127.0.0.1:8080",
        doc="HOST:PORT the page is served on; another than loopback needs password_file.",
        checks=[_parses(parse_listen)],
        example="0.0.0.0:8080",
    )
    password_file: Path | None = setting(
        None,
        doc="File whose first line is the page's password (never logged); default: no"
        " password, loopback only.",
        example="/etc/homeboard/secrets/web-password",
    )
    behind_proxy: bool = setting(
        False,
        doc="Requests come through a TLS reverse proxy on this machine: trust its"
        " X-Forwarded-For/-Proto and send Secure cookies.",
    )

    _secret_keys: ClassVar[Mapping[str, str]] = {"password": "password_file"}

    @property
    def host(self) -> str:
        """The address to bind."""
        return parse_listen(self.listen)[0]

    @property
    def port(self) -> int:
        """The TCP port to bind."""
        return parse_listen(self.listen)[1]

    @invariant("behind_proxy", "password_file")
    def _proxy_needs_password(self) -> Problems:
        if self.behind_proxy and self.password_file is None:
            yield (
                "behind_proxy",
                "a proxy opens the page to other machines: set web.password_file too",
            )

    @invariant("listen", "password_file")
    def _open_needs_password(self) -> Problems:
        host = parse_listen(self.listen)[0]
        if self.password_file is None and not _is_loopback(host):
            yield (
                "listen",
                (
                    f"'{host}' is reachable from other machines: set web.password_file"
                    " (a file whose first line is the password), or listen on 127.0.0.1"
                ),
            )


@dataclass(frozen=True)
class Config:
    """The whole configuration of one board."""

    board: str = setting(
        "home",
        doc="Name of this board; namespaces its keys in Redis.",
        checks=[
            matches(
                r"^[a-z0-9][a-z0-9_-]{0,31}$",
                "is not a board name (a-z, 0-9, _ and -, up to 32 characters)",
            )
        ],
    )
    timezone: str = setting(
        "UTC",
        doc="IANA time zone of the household.",
        checks=[check(_timezone)],
        example="America/Los_Angeles",
    )
    language: str = setting(
        "en",
        doc=(
            "The board's language: a CLDR locale (en, en_GB, de, pt_BR, zh_Hant, ja, hi, ar ...)"
            " for names, dates, digits and words."
        ),
        parse=_language,
    )
    location: Location | None = setting(None, doc="Where the weather is for.")
    units: Units = setting("metric", doc="Units of the weather.")
    clock: Clock | None = setting(
        None, doc="How times of day are written; default: the language's usual clock."
    )
    layout: Layout = setting(factory=Layout, doc="How the board is laid out.")
    display: DisplayConfig = setting(factory=DisplayConfig, doc="The panel or the mock.")
    weather: WeatherConfig | None = setting(
        factory=WeatherConfig, doc="The forecast; null turns it off."
    )
    calendars: tuple[CalendarConfig, ...] = setting(
        (), doc="Calendars whose events are shown.", unique="name"
    )
    special_events: tuple[SpecialEvent, ...] = setting(
        (), doc="Birthdays, anniversaries and other days with a banner."
    )
    holidays: HolidaysConfig | None = setting(None, doc="Public holidays; default none.")
    seasons: bool = setting(False, doc="Banners on equinoxes and solstices.")
    dst: bool = setting(True, doc="Banners on the days the clocks change.")
    schedule: Schedule = setting(factory=Schedule, doc="When the board refreshes.")
    web: WebConfig = setting(factory=WebConfig, doc="The household page (`homeboard web`).")
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        doc="The local Redis (broker, lock and cache).",
        checks=[check(_redis_url)],
    )
    allow_remote_redis: bool = setting(
        False, doc="Allow a redis_url on another machine (the lock then depends on the network)."
    )
    state_dir: Path | None = setting(
        None,
        doc=(
            "Where the last good data and the last push are also kept on disk, so a lost"
            " Redis cache never blanks the board; default $STATE_DIRECTORY, else"
            " /var/lib/homeboard (when it exists)."
        ),
    )
    # Not a YAML key: the file this was loaded from.
    path: Path | None = field(default=None, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        """The household's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def time_clock(self) -> Clock:
        """The clock times are written with: ``clock``, else the language's usual one."""
        if self.clock is not None:
            return self.clock
        from homeboard.i18n import default_clock

        return default_clock(self.language)

    @property
    def weather_enabled(self) -> bool:
        """Whether the board shows weather."""
        return self.weather is not None and self.weather.enabled

    @invariant("weather", "location")
    def _weather_needs_location(self) -> Problems:
        if self.weather_enabled and self.location is None:
            yield "location", "is required when weather is enabled (or set weather: null)"

    @invariant("redis_url", "allow_remote_redis")
    def _redis_is_local(self) -> Problems:
        host = urlsplit(self.redis_url).hostname
        if not self.allow_remote_redis and not _is_loopback(host):
            yield (
                "redis_url",
                (
                    f"host '{host}' is not this machine; the board keeps its lock and cache in a"
                    " local Redis (set allow_remote_redis: true if you mean it)"
                ),
            )
