"""How a setting is declared (`setting`, `invariant`) and the checks and validators it may carry."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import stat
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from homeboard.config.values import format_duration, redact_url


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


def within(minimum: timedelta, maximum: timedelta) -> Check:
    """A duration in [minimum, maximum]: a bound keeps date arithmetic and Redis expiries sane."""
    low, high = format_duration(minimum), format_duration(maximum)

    def test(value: timedelta) -> str | None:
        if value < minimum:
            return f"must be at least {low}, not {format_duration(value)}"
        if value > maximum:
            return f"must be at most {high}, not {format_duration(value)}"
        return None

    return Check(
        test,
        lambda: {"minimum": int(minimum.total_seconds()), "maximum": int(maximum.total_seconds())},
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


RESERVED_SOURCE_NAMES = ("weather", "special", "holidays")


def _not_reserved(value: str) -> str | None:
    """Calendar names share the status's ``sources`` map with weather, special days, holidays."""
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


def _language(text: str, base_dir: Path) -> str:
    """A CLDR locale identifier, as CLDR spells it (``pt-br`` -> ``pt_BR``)."""
    from homeboard.i18n import canonical_language  # Babel's data: only when a file says so

    return canonical_language(text)


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
        _regular_or_missing(Path(unquote(parts.path)), text)  # url2pathname, on POSIX
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
    path = path if path.is_absolute() else base_dir / path
    _regular_or_missing(path, text)
    return str(path)


def _regular_or_missing(path: Path, text: str) -> None:
    """Refuse a device, directory or pipe (/dev/zero never ends); a missing file may come later.

    /dev/null is the one device allowed: it reads as an empty calendar (the demo uses it).
    """
    if path == Path(os.devnull):
        return
    try:
        mode = path.stat().st_mode
    except OSError:  # missing or unreadable: the source reports it at fetch time
        return
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        raise ValueError(f"{text!r} is {kind}, not a regular file")


# The query options that redis-py (the lock and cache) and kombu (Celery's broker) both
# read the same way from the one URL; anything else breaks one of them at start-up (a
# TypeError in a restart loop) or is silently ignored by one. The board sets its own
# timeouts, so socket options are not among them.
_REDIS_CERT_REQS = ("required", "optional", "none")
_REDIS_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "ssl_cert_reqs": ("rediss",),
    "ssl_ca_certs": ("rediss",),
    "ssl_certfile": ("rediss",),
    "ssl_keyfile": ("rediss",),
    "ssl_check_hostname": ("rediss",),
    # redis-py's only way to pick a database over a socket; the broker URL is translated.
    "db": ("unix",),
}
# redis-server's default `databases 16` (systemd/redis-homeboard.conf keeps it).
REDIS_DATABASES = 16


def _redis_db(text: str) -> str | None:
    if not text.isdigit() or int(text) >= REDIS_DATABASES:
        return (
            f"database {text!r} is not a number from 0 to {REDIS_DATABASES - 1}"
            " (redis-server's databases)"
        )
    return None


def _redis_option(name: str, value: str, scheme: str) -> str | None:
    if name not in _REDIS_OPTIONS:
        if name in ("password", "username"):
            return (
                f"option '{name}' is not supported; write the credentials before the host:"
                " redis://USER:PASSWORD@127.0.0.1:6379/0"
            )
        return f"option '{name}' is not supported (the board sets Redis's timeouts itself)"
    if scheme not in _REDIS_OPTIONS[name]:
        return f"option '{name}' only applies to {' and '.join(_REDIS_OPTIONS[name])}:// URLs"
    if not value:
        return f"option '{name}' has no value"
    if name == "db":
        return _redis_db(value)
    if name == "ssl_cert_reqs" and value not in _REDIS_CERT_REQS:
        return f"ssl_cert_reqs must be one of {', '.join(_REDIS_CERT_REQS)}, not {value!r}"
    if name == "ssl_check_hostname" and value.lower() not in ("true", "false"):
        return f"ssl_check_hostname must be true or false, not {value!r}"
    if name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile") and not value.startswith("/"):
        return f"{name} must be an absolute file path, not {value!r}"
    return None


def _redis_url(value: str) -> str | None:
    """Accept only a URL that redis-py and Celery's broker both open the same way."""
    shown = redact_url(value)
    if any(c.isspace() for c in value):
        return f"{shown!r} contains a space"
    try:
        parts = urlsplit(value)
    except ValueError as error:  # e.g. "redis://[::1"
        return f"{shown!r} is not a valid URL ({error})"
    try:
        port = parts.port
    except ValueError:
        # Not echoed: "redis://:PASSWORD/0" (the host forgotten) puts the password here.
        netloc = parts.netloc.rpartition(":")[0] + ":***"
        masked = redact_url(parts._replace(netloc=netloc).geturl())
        return f"{masked!r}: the port is not a number from 1 to 65535"
    if parts.scheme not in ("redis", "rediss", "unix") or not value.startswith(
        f"{parts.scheme}://"
    ):
        return (
            f"{shown!r} is not a redis://, rediss:// or unix:// URL (e.g. redis://127.0.0.1:6379/0)"
        )
    if parts.username is not None and parts.password is None:
        # Most likely a password without its ':', which Celery would log as a user name.
        return (
            f"{shown!r} gives a user name but no password (a password alone is written"
            " redis://:PASSWORD@host, a user and password redis://USER:PASSWORD@host)"
        )
    if parts.fragment or value.endswith("#"):
        return f"{shown!r} has a '#' part, which Redis URLs do not have"
    if parts.scheme == "unix":
        if parts.hostname or port is not None:
            return f"{shown!r} names a host; a socket URL is unix:///path/to/redis.sock"
        if not parts.path.startswith("/") or parts.path == "/":
            return f"{shown!r} names no socket path (e.g. unix:///run/redis/redis.sock)"
    else:
        if not parts.hostname:
            return f"{shown!r} names no host (e.g. redis://127.0.0.1:6379/0)"
        if port == 0:
            return f"{shown!r}: the port is not a number from 1 to 65535"
        db = unquote(parts.path).strip("/")
        if db:
            problem = _redis_db(db)
            if problem is not None:
                return f"{shown!r}: {problem}"
    options = parse_qsl(parts.query, keep_blank_values=True)
    seen: set[str] = set()
    for name, option in options:
        if name in seen:
            return f"{shown!r}: option '{name}' is given twice"
        seen.add(name)
        problem = _redis_option(name, option, parts.scheme)
        if problem is not None:
            return f"{shown!r}: {problem}"
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
