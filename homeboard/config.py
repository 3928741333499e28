"""Home Board configuration: typed, validated once, with errors that point at the line.

Each setting is defined once, as a field of a frozen dataclass whose metadata (made by
`setting()`) carries its description and checks. The same definitions drive the YAML
reader (`load_config`), which collects every problem as ``FILE:LINE: field.path: what is
wrong``, and the JSON Schema (`config_schema`) that editors use to complete the file.
Rules that tie several fields together are methods marked with `@invariant`.
"""

from __future__ import annotations

import calendar as _calendar
import dataclasses
import difflib
import ipaddress
import os
import re
import string
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeGuard
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeboard.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATHS",
    "DISPLAY_ENV",
    "DRIVERS",
    "DURATION_PATTERN",
    "NOT_EMPTY",
    "PANELS",
    "PANEL_MIN_INTERVAL",
    "SCHEMA_ID",
    "TIME_PATTERN",
    "CalDAVCalendar",
    "CalendarConfig",
    "Check",
    "Config",
    "DateRule",
    "DisplayConfig",
    "EventDate",
    "GoogleCalendar",
    "HolidaysConfig",
    "Layout",
    "Location",
    "Pins",
    "QuietHours",
    "Schedule",
    "SpecialEvent",
    "WeatherConfig",
    "at_least",
    "between",
    "check",
    "config_schema",
    "find_config_path",
    "format_duration",
    "invariant",
    "load_config",
    "matches",
    "one_of",
    "parse_duration",
    "parse_event_date",
    "parse_rule",
    "parse_time_of_day",
    "setting",
]

CONFIG_ENV = "HOMEBOARD_CONFIG"
DISPLAY_ENV = "HOMEBOARD_DISPLAY"
# Looked at, in this order, after --config and $HOMEBOARD_CONFIG (a module constant so
# tests can point it elsewhere).
DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("/etc/homeboard/config.yaml"), Path("config.yaml"))

PANELS = ("waveshare_epd7in5b_v2", "waveshare_epd7in5b_v1", "waveshare_epd7in5b_hd")
DRIVERS = (*PANELS, "mock")

# A three-colour refresh flashes for ~15 s and wears the panel; the vendor asks for at
# least 180 s between refreshes. The mock has no such limit.
PANEL_MIN_INTERVAL = timedelta(seconds=180)

Units = Literal["metric", "imperial"]
Clock = Literal["24h", "12h"]
Orientation = Literal["landscape", "portrait"]
Provider = Literal["open-meteo", "nws"]
Ink = Literal["black", "red"]
EventKind = Literal["birthday", "anniversary", "holiday", "event"]
CalendarKind = Literal["ics", "google", "caldav"]


# --------------------------------------------------------------------------- values


_DURATION_RE = re.compile(
    r" *(?=[0-9])(?:(?P<d>[0-9]+) *d)? *(?:(?P<h>[0-9]+) *h)? *(?:(?P<m>[0-9]+) *m)?"
    r" *(?:(?P<s>[0-9]+) *s)? *"
)
# The same grammar for editors (ECMA-262 regex, no named groups); tests keep the two in step.
DURATION_PATTERN = (
    r"^ *[0-9]+ *$|^ *(?=[0-9])([0-9]+ *d)? *([0-9]+ *h)? *([0-9]+ *m)? *([0-9]+ *s)? *$"
)
_DURATION_HINT = "use e.g. 30s, 15m, 1h30m, 2d or a number of seconds"


def parse_duration(text: str | int) -> timedelta:
    """Parse ``30s``, ``15m``, ``1h30m``, ``2d`` or a bare number of seconds."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"{text!r} is not a duration ({_DURATION_HINT})")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is not a duration (it is negative)")
        return timedelta(seconds=text)
    if re.fullmatch(r" *[0-9]+ *", text):
        parts = {"s": text}
    else:
        match = _DURATION_RE.fullmatch(text)
        if match is None or not any(match.groupdict().values()):
            raise ValueError(f"{text!r} is not a duration ({_DURATION_HINT})")
        parts = {unit: amount for unit, amount in match.groupdict().items() if amount}
    try:
        return timedelta(
            days=int(parts.get("d", 0)),
            hours=int(parts.get("h", 0)),
            minutes=int(parts.get("m", 0)),
            seconds=int(parts.get("s", 0)),
        )
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """Write a duration the way the config file does (``1h30m``); whole seconds only."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError(f"{value!r} is negative")
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out)


_TIME_RE = re.compile(r" *([01]?[0-9]|2[0-3]):([0-5][0-9]) *")
TIME_PATTERN = r"^ *([01]?[0-9]|2[0-3]):[0-5][0-9] *$"


def parse_time_of_day(text: str) -> time:
    """Parse a 24-hour ``HH:MM`` time of day."""
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day (use HH:MM in 24-hour form, e.g. 07:00)")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class EventDate:
    """A yearly date as written in the config (``MM-DD`` or ``YYYY-MM-DD``)."""

    month: int
    day: int
    year: int | None = None


def parse_event_date(text: str) -> EventDate:
    """Parse ``MM-DD`` or ``YYYY-MM-DD``; February 29 is allowed without a year."""
    match = re.fullmatch(r" *(?:([0-9]{4})-)?([0-9]{1,2})-([0-9]{1,2}) *", text)
    if match is None:
        raise ValueError(f"{text!r} is not a date (use MM-DD, or YYYY-MM-DD with the year)")
    year = int(match[1]) if match[1] else None
    month, day = int(match[2]), int(match[3])
    try:
        # 2000 is a leap year, so a yearly 02-29 passes; a dated one must really exist.
        date(year if year is not None else 2000, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date on the calendar") from None
    if year is not None and year < 1:
        raise ValueError(f"{text!r} is not a date on the calendar")
    return EventDate(month=month, day=day, year=year)


_ORDINALS = {
    "1st": 1,
    "first": 1,
    "2nd": 2,
    "second": 2,
    "3rd": 3,
    "third": 3,
    "4th": 4,
    "fourth": 4,
    "5th": 5,
    "fifth": 5,
    "last": -1,
}
_WEEKDAYS = [name.lower() for name in _calendar.day_name]
_MONTHS = [name.lower() for name in _calendar.month_name[1:]]


@dataclass(frozen=True)
class DateRule:
    """A yearly date given as the n-th weekday of a month, e.g. 4th thursday of november."""

    nth: int  # 1..5, or -1 for "last"
    weekday: int  # 0 = Monday, as date.weekday()
    month: int  # 1..12

    def date_in(self, year: int) -> date | None:
        """The date this rule gives in `year`, or None (a 5th weekday that month lacks)."""
        days_in_month = _calendar.monthrange(year, self.month)[1]
        if self.nth == -1:
            last = date(year, self.month, days_in_month)
            return last - timedelta(days=(last.weekday() - self.weekday) % 7)
        first = date(year, self.month, 1)
        day = 1 + (self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1)
        return date(year, self.month, day) if day <= days_in_month else None


def _lookup_name(word: str, names: list[str], what: str) -> int:
    """Index of a full or three-letter English name, or a ValueError that suggests one."""
    for index, name in enumerate(names):
        if word in (name, name[:3]):
            return index
    close = difflib.get_close_matches(word, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValueError(f"unknown {what} '{word}'{hint}")


def parse_rule(text: str) -> DateRule:
    """Parse ``<1st..5th|last> <weekday> of <month>``, e.g. ``last monday of may``."""
    grammar = "use '<1st..5th or last> <weekday> of <month>', e.g. '4th thursday of november'"
    words = text.lower().split()
    if len(words) != 4 or words[2] != "of":
        raise ValueError(f"{text!r} is not a rule ({grammar})")
    ordinal, weekday, _, month = words
    if ordinal not in _ORDINALS:
        raise ValueError(f"{text!r} is not a rule: '{ordinal}' is not 1st..5th or last")
    try:
        return DateRule(
            nth=_ORDINALS[ordinal],
            weekday=_lookup_name(weekday, _WEEKDAYS, "weekday"),
            month=_lookup_name(month, _MONTHS, "month") + 1,
        )
    except ValueError as error:
        raise ValueError(f"{text!r} is not a rule: {error}") from None


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class Check:
    """One rule a value must follow: a test returning a problem (or None), and its schema."""

    test: Callable[[Any], str | None]
    schema: Callable[[], Mapping[str, Any]] = dict

    def __call__(self, value: Any) -> str | None:
        return self.test(value)


def between(low: float, high: float) -> Check:
    """A number within [low, high]."""
    return Check(
        lambda v: None if low <= v <= high else f"must be between {low} and {high}, not {v}",
        lambda: {"minimum": low, "maximum": high},
    )


def at_least(minimum: timedelta) -> Check:
    """A duration of at least `minimum` (zero or less makes no sense for most of them)."""
    text = format_duration(minimum)
    # For bare-number durations the schema can say it; for "15m" strings it cannot.
    return Check(
        lambda v: None if v >= minimum else f"must be at least {text}, not {format_duration(v)}",
        lambda: {"minimum": int(minimum.total_seconds())},
    )


def matches(pattern: str, hint: str) -> Check:
    """A string matching the regex `pattern` (same syntax in Python and in the schema)."""
    compiled = re.compile(pattern)
    return Check(
        lambda v: None if compiled.search(v) else f"{v!r} {hint}",
        lambda: {"pattern": pattern},
    )


def _must_be_one_of(value: str, choices: Sequence[str]) -> str | None:
    if value in choices:
        return None
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"must be one of {', '.join(choices)}, not {value!r}{hint}"


def one_of(choices: Sequence[str] | Callable[[], Sequence[str] | None]) -> Check:
    """A string from a list; the list may be computed late (None = anything goes)."""

    def current() -> Sequence[str] | None:
        return choices() if callable(choices) else choices

    def test(value: str) -> str | None:
        valid = current()
        return None if valid is None else _must_be_one_of(value, valid)

    def schema() -> Mapping[str, Any]:
        valid = current()
        return {} if valid is None else {"enum": list(valid)}

    return Check(test, schema)


def check(test: Callable[[Any], str | None]) -> Check:
    """A check with nothing to say in the schema."""
    return Check(test)


NOT_EMPTY = Check(
    lambda v: "must not be empty" if not str(v).strip() else None, lambda: {"minLength": 1}
)


RESERVED_SOURCE_NAMES = ("weather", "special")


def _not_reserved(value: str) -> str | None:
    """Calendar names share the status's ``sources`` map with the weather and special days."""
    if value.strip().casefold() in RESERVED_SOURCE_NAMES:
        return f"{value!r} is the name of another source; choose another name"
    return None


@dataclass(frozen=True)
class _Meta:
    doc: str
    checks: tuple[Check, ...]
    key: str | None
    example: Any
    parse: Callable[[str, Path], Any] | None
    unique: str | None


_META = "homeboard.setting"


def setting(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    checks: Sequence[Check] = (),
    factory: Callable[[], Any] | Any = dataclasses.MISSING,
    key: str | None = None,
    example: Any = None,
    parse: Callable[[str, Path], Any] | None = None,
    unique: str | None = None,
) -> Any:
    """Declare one config field: default, description and checks, for loader and schema.

    `key` is the YAML name when it differs from the attribute; `checks` apply to each
    item of a list of plain values; `parse` turns the raw text into the value (it gets
    the config file's directory and raises ValueError); `unique` names the attribute
    that must differ between the items of a list.
    """
    meta = {_META: _Meta(doc, tuple(checks), key, example, parse, unique)}
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


Problems = Iterator[tuple[str, str]]


def invariant(*fields: str) -> Callable[[Callable[[Any], Problems]], Callable[[Any], Problems]]:
    """Mark a method as a rule across `fields`; it yields ``(field, problem)`` pairs.

    The loader runs it only when all of `fields` were read without a problem, so a
    single mistake does not cascade into confusing follow-up messages.
    """

    def mark(method: Callable[[Any], Problems]) -> Callable[[Any], Problems]:
        method.__invariant_fields__ = fields  # type: ignore[attr-defined]
        return method

    return mark


# ------------------------------------------------------------------------ validators


def _http_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        return f"{value!r} is not an {'/'.join(schemes)} URL (e.g. https://example.com/...)"
    return None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, e.g. 'America'
        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "e.g. Europe/Paris"
        return f"unknown time zone {value!r} (use an IANA name; {hint})"
    return None


def _languages() -> Sequence[str]:
    try:
        from homeboard.i18n import LANGUAGES
    except ImportError:  # the translations module may not be installed yet
        return ("en",)
    return tuple(LANGUAGES)


def _icon_names() -> Sequence[str] | None:
    try:
        from homeboard.render.icons import ICON_NAMES
    except ImportError:  # without the icon set, any name goes; the renderer decides
        return None
    return sorted(ICON_NAMES)


def _contact(value: str) -> str | None:
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) or _http_url(value) is None:
        return None
    return f"{value!r} is neither an e-mail address nor an http(s) URL"


def _ics_url(text: str, base_dir: Path) -> str:
    """Accept an http(s)/webcal/file URL, or a file path (made absolute against base_dir)."""
    parts = urlsplit(text)
    if parts.scheme in ("http", "https", "webcal"):
        if not parts.netloc:
            raise ValueError(f"{text!r} has no host name")
        return text
    if parts.scheme == "file":
        return text
    # One letter before ':' is a Windows drive, not a scheme.
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(
            f"unsupported URL scheme '{parts.scheme}' (use http, https, webcal or file,"
            " or a file path)"
        )
    if not text.strip():
        raise ValueError("must not be empty")
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


def _redis_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"{value!r} is not a redis://, rediss:// or unix:// URL"
    if parts.scheme == "unix" and not parts.path:
        return f"{value!r} names no socket path"
    return None


def _is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return True  # redis-py connects to localhost when the URL names no host
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _placeholders(message: str) -> str | None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(message) if name is not None]
    except ValueError as error:
        return f"is not a valid message ({error}; write {{{{ and }}}} for literal braces)"
    for name in names:
        if name not in ("name", "years", "age"):
            shown = "{" + name + "}"
            return f"unknown placeholder {shown} (use {{name}}, {{years}} or {{age}})"
    try:
        message.format(name="Name", years=1, age=1)
    except (KeyError, IndexError, ValueError, TypeError) as error:  # e.g. a bad {age:...} spec
        return f"is not a valid message ({error})"
    return None


def _parses(parser: Callable[[str], Any]) -> Check:
    def test(value: str) -> str | None:
        try:
            parser(value)
        except ValueError as error:
            return str(error)
        return None

    return Check(test)


# ----------------------------------------------------------------------------- model


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
    min_interval: timedelta | None = setting(
        None,
        doc="Least time between two pushes; default 180s for panels, 0 for the mock.",
        checks=[at_least(timedelta(0))],
    )
    busy_timeout: timedelta = setting(
        timedelta(seconds=60),
        doc="Longest wait for the panel's BUSY line.",
        checks=[at_least(timedelta(seconds=1))],
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
        checks=[at_least(timedelta(seconds=1))],
    )
    refresh: timedelta | None = setting(
        None,
        doc="Fetch at most this often; default: at every refresh.",
        checks=[at_least(timedelta(seconds=1))],
    )
    timeout: timedelta = setting(
        timedelta(seconds=10),
        doc="Network timeout of one request.",
        checks=[at_least(timedelta(seconds=1))],
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
        example="Family"
    )
    label: str | None = setting(
        None, doc="Short label drawn next to its events; default: name; empty: none."
    )
    color: Ink = setting("black", doc="Ink of its events.")
    max_age: timedelta = setting(
        timedelta(hours=6),
        doc="Older events are marked stale on the board.",
        checks=[at_least(timedelta(seconds=1))],
    )
    refresh: timedelta | None = setting(
        None,
        doc="Fetch at most this often (e.g. 1h for a big ICS file); default: every refresh.",
        checks=[at_least(timedelta(seconds=1))],
    )
    timeout: timedelta = setting(
        timedelta(seconds=15),
        doc="Network timeout of one request.",
        checks=[at_least(timedelta(seconds=1))],
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
        checks=[at_least(timedelta(seconds=1))],
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


@dataclass(frozen=True)
class Schedule:
    """When the board refreshes."""

    interval: timedelta = setting(
        timedelta(minutes=15),
        doc="Time between refreshes.",
        checks=[at_least(timedelta(seconds=1))],
    )
    quiet_hours: QuietHours | None = setting(None, doc="Slower refreshes at night; default none.")
    lock_timeout: timedelta = setting(
        timedelta(minutes=10),
        doc="Lifetime of the refresh lock: how long a killed refresh can block the next one.",
        checks=[at_least(timedelta(seconds=1))],
    )
    refresh_timeout: timedelta = setting(
        timedelta(minutes=5),
        doc="Longest one refresh may take before it is abandoned.",
        checks=[at_least(timedelta(seconds=1))],
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
        "en", doc="Language of day and month names.", checks=[one_of(_languages)]
    )
    location: Location | None = setting(None, doc="Where the weather is for.")
    units: Units = setting("metric", doc="Units of the weather.")
    clock: Clock = setting("24h", doc="How times of day are written.")
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
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        doc="The local Redis (broker, lock and cache).",
        checks=[check(_redis_url)],
    )
    allow_remote_redis: bool = setting(
        False, doc="Allow a redis_url on another machine (the lock then depends on the network)."
    )
    # Not a YAML key: the file this was loaded from.
    path: Path | None = field(default=None, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        """The household's time zone."""
        return ZoneInfo(self.timezone)

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


# ---------------------------------------------------------------------------- reader


_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map")
}
_FAILED: Any = object()  # a value that could not be read; its problem is already reported


@dataclass(frozen=True)
class _Field:
    name: str  # attribute
    key: str  # YAML key
    type: Any
    meta: _Meta
    default: Any  # dataclasses.MISSING when required

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING


@cache
def _fields(cls: type) -> tuple[_Field, ...]:
    """The YAML-facing fields of a model class (fields made by `setting()`)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        out.append(_Field(f.name, meta.key or f.name, hints[f.name], meta, default))
    return tuple(out)


def _invariants(cls: type) -> list[Callable[[Any], Problems]]:
    return [m for m in vars(cls).values() if hasattr(m, "__invariant_fields__")]


def _is_model(tp: Any) -> TypeGuard[type]:
    """Whether `tp` is a model class (a dataclass type, not an instance)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _optional(tp: Any) -> Any | None:
    """The X of ``X | None``, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_PARENT_RE = re.compile(r"(.*?)(?:\.[^.\[\]]*|\[[0-9]+\])$")


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return repr(node.value)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


_EXPECTED = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    Path: "a file path",
    timedelta: "a duration",
    time: "a time of day (HH:MM)",
}


class _Reader:
    """Turns a composed YAML tree into model objects, collecting every problem."""

    def __init__(self, file: str, base_dir: Path, overrides: Mapping[str, tuple[str, str]]):
        self.file = file
        self.base_dir = base_dir
        self.overrides = overrides  # field path -> (text, where it came from)
        self.sites: dict[str, tuple[str, int]] = {"": (file, 1)}
        self.problems: list[tuple[tuple[int, int], str]] = []
        self.constructor = yaml.constructor.SafeConstructor()
        self.merging: set[int] = set()  # mappings whose `<<` merge is being read

    # -- problems

    def site(self, path: str) -> tuple[str, int]:
        """Where `path` (or its nearest ancestor present in the file) was written."""
        while path not in self.sites:
            match = _PARENT_RE.fullmatch(path)
            path = match[1] if match else ""
        return self.sites[path]

    def report(self, path: str, message: str, *, line: int | None = None) -> None:
        origin, found = self.site(path)
        line = found if line is None else line
        where = f"{origin}:{line}" if origin == self.file else origin
        # File problems sort by line; problems from the environment come after them.
        order = (0, line) if origin == self.file else (1, 0)
        self.problems.append((order, f"{where}: {path or '(top level)'}: {message}"))

    def sorted_problems(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for _, text in sorted(self.problems, key=lambda p: p[0]):
            if text not in seen:  # a node reached twice through a YAML alias
                seen.add(text)
                out.append(text)
        return out

    # -- values

    def value(self, tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        """Read one value of type `tp`, or report why not and return _FAILED."""
        if node.tag not in _PLAIN_TAGS:
            # Tags such as !!python/object would build arbitrary objects; none are needed.
            self.report(path, f"YAML tag {node.tag!r} is not supported here")
            return _FAILED
        inner = _optional(tp)
        if inner is not None:
            return None if self.is_null(node) else self.value(inner, node, path, meta)
        if _is_model(tp):
            return self.record(tp, None if self.is_null(node) else node, path)
        if typing.get_origin(tp) is tuple:
            # An empty `calendars:` (every entry commented out) means none.
            if self.is_null(node):
                return ()
            return self.sequence(typing.get_args(tp)[0], node, path, meta)
        if self.is_null(node):
            self.report(path, "must have a value (remove the line to use the default)")
            return _FAILED
        value = self.scalar(tp, node, path, meta)
        if value is not _FAILED and meta is not None:
            for rule in meta.checks:
                try:
                    problem = rule(value)
                except ValueError as error:  # e.g. urlsplit on "http://[::1"
                    problem = str(error)
                if problem is not None:
                    self.report(path, problem)
                    return _FAILED
        return value

    @staticmethod
    def is_null(node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    def scalar(self, tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        if typing.get_origin(tp) is Literal:
            choices = [str(c) for c in typing.get_args(tp)]
            if not isinstance(node, ScalarNode):
                self.report(path, f"must be one of {', '.join(choices)}, not {_describe(node)}")
                return _FAILED
            problem = _must_be_one_of(node.value, choices)
            if problem is not None:
                self.report(path, problem)
                return _FAILED
            return node.value
        expected = _EXPECTED[tp]
        if not isinstance(node, ScalarNode):
            self.report(path, f"must be {expected}, not {_describe(node)}")
            return _FAILED
        try:
            return self.convert_scalar(tp, node, meta)
        except ValueError as error:
            self.report(path, str(error) or f"must be {expected}, not {_describe(node)}")
            return _FAILED

    def convert_scalar(self, tp: Any, node: ScalarNode, meta: _Meta | None) -> Any:
        # Text-like values use the text as written, not YAML 1.1's reading of it: that
        # keeps `country: NO` (Norway, not false) and `start: 21:00` (not 1260) intact.
        text = node.value
        if meta is not None and meta.parse is not None:
            return meta.parse(text, self.base_dir)
        if tp is str:
            return text
        if tp is Path:
            if not text.strip():
                raise ValueError("must not be empty")
            path = Path(text).expanduser()
            return path if path.is_absolute() else self.base_dir / path
        if tp is timedelta:
            return parse_duration(text)
        if tp is time:
            return parse_time_of_day(text)
        wrong = ValueError(f"must be {_EXPECTED[tp]}, not {_describe(node)}")
        try:
            # An explicit tag (`!!int abc`) can put any text under these tags.
            if tp is bool and node.tag == _BOOL_TAG:
                return self.constructor.construct_yaml_bool(node)
            if tp is int and node.tag == _INT_TAG:
                return self.constructor.construct_yaml_int(node)
            if tp is float and node.tag in (_INT_TAG, _FLOAT_TAG):
                return float(self.constructor.construct_object(node))
        except (KeyError, ValueError):
            raise wrong from None
        raise wrong

    def sequence(self, item_tp: Any, node: Node, path: str, meta: _Meta | None) -> Any:
        if not isinstance(node, SequenceNode):
            self.report(path, f"must be a list, not {_describe(node)}")
            return _FAILED
        items = []
        first_by_key: dict[Any, str] = {}
        for index, item_node in enumerate(node.value):
            item_path = f"{path}[{index}]"
            self.sites[item_path] = (self.file, _line(item_node))
            item = self.value(item_tp, item_node, item_path, meta)
            if item is _FAILED:
                continue  # keep the good items, so later checks still see them
            if meta is not None and meta.unique is not None:
                key = getattr(item, meta.unique)
                if key in first_by_key:
                    self.report(
                        _join(item_path, meta.unique),
                        f"duplicate {meta.unique} {key!r} (already used by {first_by_key[key]})",
                    )
                    continue
                first_by_key[key] = item_path
            items.append(item)
        return tuple(items)

    def pairs(self, node: MappingNode, path: str) -> dict[str, tuple[Node, Node]]:
        """The key/value nodes of a mapping, with `<<` merges applied and duplicates reported."""
        own: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if id(source) in self.merging:
                        continue  # `&a {<<: *a}` merges itself: nothing new to add
                    if not isinstance(source, MappingNode):
                        self.report(
                            path,
                            "<< must merge a mapping or a list of mappings",
                            line=_line(source),
                        )
                        continue
                    self.merging.add(id(node))
                    try:
                        for key, pair in self.pairs(source, path).items():
                            merged.setdefault(key, pair)  # the first merged mapping wins
                    finally:
                        self.merging.discard(id(node))
                continue
            if not isinstance(key_node, ScalarNode):
                self.report(
                    path, f"keys must be names, not {_describe(key_node)}", line=_line(key_node)
                )
                continue
            key = key_node.value
            if key in own:
                first = _line(own[key][0])
                self.report(
                    _join(path, key),
                    f"duplicate key '{key}' (first given on line {first})",
                    line=_line(key_node),
                )
                continue
            own[key] = (key_node, value_node)
        return {**merged, **own}

    def record(self, cls: type, node: Node | None, path: str) -> Any:
        """Read a model object from a mapping (None: nothing written, all defaults)."""
        if node is not None and not isinstance(node, MappingNode):
            self.report(path, f"must be a mapping (key: value lines), not {_describe(node)}")
            return _FAILED
        pairs = self.pairs(node, path) if node is not None else {}
        fields = _fields(cls)
        keys = [f.key for f in fields]
        for key, (key_node, _) in pairs.items():
            self.sites[_join(path, key)] = (self.file, _line(key_node))
            if key not in keys:
                self.report(_join(path, key), self.unknown_key(cls, key, keys))

        complete = True
        for group in getattr(cls, "_exactly_one", ()):
            given = [k for k in group if k in pairs and not self.is_null(pairs[k][1])]
            if not given:
                self.report(path, f"needs one of {', '.join(group)}")
                complete = False
            for extra in given[1:]:
                self.report(
                    _join(path, extra),
                    f"cannot be combined with {given[0]} (give exactly one of {', '.join(group)})",
                )
                complete = False

        values: dict[str, Any] = {}
        failed: set[str] = set()
        for f in fields:
            field_path = _join(path, f.key)
            if field_path in self.overrides:
                text, origin = self.overrides[field_path]
                self.sites[field_path] = (origin, 0)
                value = self.value(
                    f.type, ScalarNode("tag:yaml.org,2002:str", text), field_path, f.meta
                )
            elif f.key in pairs:
                value = self.value(f.type, pairs[f.key][1], field_path, f.meta)
            elif f.required:
                self.report(field_path, "is required")
                complete = False
                continue
            elif dataclasses.is_dataclass(f.default):
                # Read defaulted sections too: their own rules and overrides still apply.
                value = self.record(type(f.default), None, field_path)
            else:
                continue
            if value is _FAILED:
                failed.add(f.name)
                complete = complete and not f.required
                continue
            values[f.name] = value
        if not complete:
            return _FAILED

        obj = cls(**values)
        key_of = {f.name: f.key for f in fields}
        for rule in _invariants(cls):
            if failed.isdisjoint(rule.__invariant_fields__):  # type: ignore[attr-defined]
                for name, message in rule(obj):
                    self.report(_join(path, key_of.get(name, name)), message)
        return obj

    @staticmethod
    def unknown_key(cls: type, key: str, keys: list[str]) -> str:
        secrets: Mapping[str, str] = getattr(cls, "_secret_keys", {})
        if key in secrets:
            return (
                f"secrets are not written in the config file: put the {key} in a file only"
                f" the service can read, and give its path as {secrets[key]}"
            )
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
        if close:
            return f"unknown key '{key}' (did you mean '{close[0]}'?)"
        return f"unknown key '{key}' (valid keys: {', '.join(keys)})"


def _yaml_problem(file: str, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None:
        problem = f"{context} on line {context_mark.line + 1}: {problem}"
    elif context:
        problem = f"{context}: {problem}"
    if "<block" in problem or "could not find expected ':'" in problem:
        # PyYAML's words for the usual mistake, a key indented one space too far or too short.
        problem += " (check the indentation)"
    return f"{file}:{line}: yaml: {problem}"


def _env_overrides(env: Mapping[str, str], root: Node | None) -> dict[str, tuple[str, str]]:
    driver = env.get(DISPLAY_ENV, "").strip()
    if not driver:
        return {}
    overrides = {"display.driver": (driver, f"${DISPLAY_ENV}")}
    # HOMEBOARD_DISPLAY=mock on a board whose file names a real panel emulates that
    # panel, unless the file says which panel to emulate.
    written = _written(root, "display")
    if driver == "mock" and isinstance(written, MappingNode):
        keys = {k.value: v for k, v in written.value if isinstance(k, ScalarNode)}
        file_driver = keys.get("driver")
        if "panel" not in keys and isinstance(file_driver, ScalarNode):
            if file_driver.value in PANELS:
                overrides["display.panel"] = (file_driver.value, f"${DISPLAY_ENV}")
    return overrides


def _written(root: Node | None, key: str) -> Node | None:
    if not isinstance(root, MappingNode):
        return None
    for key_node, value_node in root.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; every problem is raised as one ConfigError."""
    env = os.environ if env is None else env
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [
                f"{file}: cannot read: not UTF-8 text (byte {error.object[error.start]:#04x}"
                f" at offset {error.start})"
            ]
        ) from None
    except OSError as error:
        raise ConfigError([f"{file}: cannot read: {error.strerror or error}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_problem(file, error)]) from None

    reader = _Reader(file, Path(path).absolute().parent, _env_overrides(env, root))
    if root is not None and not isinstance(root, MappingNode):
        raise ConfigError(
            [
                f"{file}:{_line(root)}: (top level): must be a mapping of settings"
                f" (key: value lines), not {_describe(root)}"
            ]
        )
    config = reader.record(Config, root, "")
    problems = reader.sorted_problems()
    if problems or config is _FAILED:
        raise ConfigError(problems or [f"{file}:1: (top level): is not a valid configuration"])
    return dataclasses.replace(config, path=Path(path))


def find_config_path(explicit: str | Path | None, *, env: Mapping[str, str] | None = None) -> Path:
    """The config file to use: --config, then $HOMEBOARD_CONFIG, then the default places."""
    env = os.environ if env is None else env
    # A file the user named is used or reported, never silently replaced by another one.
    if explicit is not None and str(explicit) != "":
        return Path(explicit)
    named = env.get(CONFIG_ENV, "")
    if named:
        return Path(named)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(p) for p in DEFAULT_CONFIG_PATHS)
    raise ConfigError(
        [
            f"no config file found: --config not given, ${CONFIG_ENV} not set, and none of"
            f" {looked} exists (start from config.example.yaml)"
        ]
    )


# ---------------------------------------------------------------------------- schema


SCHEMA_ID = "urn:homeboard:config:1"


def _json_default(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    return value


def _type_schema(tp: Any, meta: _Meta | None, defs: dict[str, Any]) -> dict[str, Any]:
    inner = _optional(tp)
    if inner is not None:
        return _nullable(_type_schema(inner, meta, defs))
    extra: dict[str, Any] = {}
    for rule in meta.checks if meta is not None else ():
        extra.update(rule.schema())
    if _is_model(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder first, in case a model refers back to itself
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(tp)
    if origin is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(tp)[0], meta, defs)}
    if origin is Literal:
        return {"type": "string", "enum": list(typing.get_args(tp)), **extra}
    if tp is timedelta:
        # A bare number is seconds; `at_least` can bound it, but not the "15m" form.
        return {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "integer", "minimum": extra.get("minimum", 0)},
            ]
        }
    if tp is time:
        return {"type": "string", "pattern": TIME_PATTERN}
    simple = {str: "string", Path: "string", int: "integer", float: "number", bool: "boolean"}
    return {"type": simple[tp], **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null. A plain `type` list keeps validation messages precise."""
    if "type" in schema and "$ref" not in schema:
        out = {**schema, "type": [schema["type"], "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for f in _fields(cls):
        schema = _type_schema(f.type, f.meta, defs)
        # The reader takes null for "all defaults" of a section and "none" for a list.
        if (
            _optional(f.type) is None
            and not f.required
            and (_is_model(f.type) or typing.get_origin(f.type) is tuple)
        ):
            schema = _nullable(schema)
        schema["description"] = f.meta.doc
        if f.required:
            required.append(f.key)
        elif not dataclasses.is_dataclass(f.default):
            schema["default"] = _json_default(f.default)
        if f.meta.example is not None:
            schema["examples"] = [f.meta.example]
        properties[f.key] = schema
    out: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip(),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    groups = getattr(cls, "_exactly_one", ())
    if groups:
        # Exactly one key of each group is given with a non-null value.
        out["allOf"] = [
            {
                "oneOf": [
                    {"required": [k], "properties": {k: {"not": {"type": "null"}}}} for k in group
                ]
            }
            for group in groups
        ]
    return out


def config_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the config file, made from the same definitions."""
    defs: dict[str, Any] = {}
    root = _object_schema(Config, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Home Board configuration",
        **root,
        "$defs": defs,
    }
