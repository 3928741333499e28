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
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from homeboard.config.values import format_duration


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
        _regular_or_missing(Path(unquote(parts.path)))
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
    _regular_or_missing(path)
    return str(path)


def _regular_or_missing(path: Path) -> None:
    """Refuse a device, folder or pipe as a calendar file (``/dev/zero`` never ends).

    A missing file is fine here: it may be put in place after the config; so is
    ``/dev/null`` (an empty file, as the demo's calendars are).
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode) and str(path) != os.devnull:
        raise ValueError(f"{str(path)!r} is not a regular file (a device, folder or pipe)")


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
