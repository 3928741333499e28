"""What the page says, in plain words, from the ``homeboard status`` document (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from homeboard.store import parse_iso as parse_time
from homeboard.web.words import PageWords

#: Refreshes listed on the page.
RECENT_SHOWN = 8


@dataclass(frozen=True)
class SourceLine:
    """One source: its name, status word and CSS class, age, and what went wrong."""

    name: str
    status: str  # fresh, stale or unavailable (the CSS class)
    status_text: str
    age_text: str
    error: str | None


@dataclass(frozen=True)
class RefreshLine:
    """One past refresh."""

    when: str
    trigger: str
    outcome: str  # the CSS class
    outcome_text: str
    seconds: str
    durations: str
    error: str | None


@dataclass(frozen=True)
class Counter:
    """One counter with its name in the page's language."""

    name: str
    value: int


@dataclass(frozen=True)
class PageView:
    """Everything the page shows apart from the frame itself."""

    on_panel: str | None
    data_changed: str
    sources: tuple[SourceLine, ...]
    refreshes: tuple[RefreshLine, ...]
    next_run: str
    counters: tuple[Counter, ...]


def clock_time(moment: datetime, clock: str) -> str:
    """``14:05`` or ``2:05 pm``, as the board writes times."""
    if clock == "12h":
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"
    return f"{moment:%H:%M}"


def age_text(seconds: float, words: PageWords) -> str:
    """``3 min ago`` in the largest whole unit."""
    whole = int(max(0.0, seconds))
    if whole < 10:
        return words.now
    for text, size in ((words.days_ago, 86400), (words.hours_ago, 3600), (words.minutes_ago, 60)):
        if whole >= size:
            return text.format(n=whole // size)
    return words.seconds_ago.format(n=whole)


def when_text(
    moment: datetime,
    now: datetime,
    tz: tzinfo,
    clock: str,
    words: PageWords,
    *,
    days: tuple[str, ...],
    months: tuple[str, ...],
    relative: bool = True,
) -> str:
    """A moment in the household's time: ``10:15`` today, else ``Mon 24 Nov 10:15``; with
    how long ago it was."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    shown = clock_time(local, clock)
    if local.date() != today:
        shown = f"{days[local.weekday()]} {local.day} {months[local.month - 1]} {shown}"
    if relative:
        delta = now.timestamp() - moment.timestamp()
        if delta >= 0:
            shown += f" ({age_text(delta, words)})"
        else:
            minutes = max(1, round(-delta / 60))
            shown += f" ({words.in_minutes.format(n=minutes)})"
    return shown


_HTTP = re.compile(r"HTTP (\d{3})(?: ([^:]+))?(?:: (.*))?")


def plain_error(name: str, error: str | None, words: PageWords) -> str | None:
    """A source's last error in plain words, with what to do about it.

    ``Family: HTTP 401 unauthorized`` becomes ``the server said 401 (unauthorized):
    check the password file``.
    """
    if not error:
        return None
    reason = error
    for prefix in (f"{name}: ",):
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
    match = _HTTP.search(reason)
    if match:
        code = int(match.group(1))
        said = words.server_said.format(code=code)
        if match.group(2):
            said += f" ({match.group(2).strip()})"
        hint = (
            words.hint_password
            if code in (401, 403)
            else words.hint_address
            if code in (404, 410)
            else words.hint_server
            if code >= 500 or code == 429
            else None
        )
        return f"{said}: {hint}" if hint else said
    low = reason.lower()
    if "host not found" in low or "invalid url" in low:
        return f"{reason}: {words.hint_address}"
    if any(
        w in low
        for w in ("refused", "timed out", "network", "unreachable", "tls error", "connection")
    ):
        return f"{reason}: {words.hint_network}"
    if "cannot read" in low or "is empty" in low or "not utf-8" in low:
        return f"{reason}: {words.hint_file}"
    return reason


def _source_name(name: str, words: PageWords) -> str:
    if name == "weather":
        return words.weather
    if name == "special":
        return words.special_days
    return name


def _seconds(value: Any) -> str:
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return "?"


def page_view(
    doc: dict[str, Any],
    frame_meta: dict[str, Any] | None,
    *,
    tz: tzinfo,
    clock: str,
    words: PageWords,
    days: tuple[str, ...],
    months: tuple[str, ...],
) -> PageView:
    """The page's content from the status document and the kept frame's meta data."""
    now = parse_time(doc.get("now")) or datetime.now(tz)

    def when(text: Any, *, relative: bool = True) -> str | None:
        moment = parse_time(text)
        if moment is None:
            return None
        return when_text(moment, now, tz, clock, words, days=days, months=months, relative=relative)

    on_panel = None
    if frame_meta is not None:
        on_panel = words.on_panel.format(when=when(frame_meta.get("pushed_at")) or "?")
        what = frame_meta.get("what")
        if what == "test":
            on_panel += f" ({words.test_pattern})"
        elif what == "clear":
            on_panel += f" ({words.cleared})"
    changed = when(doc.get("updated_at"))
    data_changed = words.data_changed.format(when=changed) if changed else words.data_never

    sources = []
    for name, src in (doc.get("sources") or {}).items():
        status = src.get("status") if src.get("status") in ("fresh", "stale") else "unavailable"
        age = src.get("age_seconds")
        sources.append(
            SourceLine(
                name=_source_name(name, words),
                status=status,
                status_text=getattr(words, status),
                age_text=(
                    words.fetched.format(age=age_text(age, words))
                    if age is not None
                    else words.never_fetched
                ),
                error=plain_error(name, src.get("last_error"), words),
            )
        )

    refreshes = []
    for rec in (doc.get("recent") or [])[:RECENT_SHOWN]:
        outcome = str(rec.get("outcome"))
        started = parse_time(rec.get("started_at"))
        ended = parse_time(rec.get("ended_at"))
        total = (ended.timestamp() - started.timestamp()) if started and ended else None
        refreshes.append(
            RefreshLine(
                when=when(rec.get("started_at")) or "?",
                trigger=str(rec.get("trigger") or ""),
                outcome=outcome if outcome in words.outcomes else "failed",
                outcome_text=words.outcomes.get(outcome, outcome),
                seconds=_seconds(total),
                durations=words.durations.format(
                    fetch=_seconds(rec.get("fetch_s")),
                    render=_seconds(rec.get("render_s")),
                    push=_seconds(rec.get("push_s")),
                ),
                error=rec.get("error"),
            )
        )

    next_at = when(doc.get("next_run"))
    next_run = words.next_run.format(when=next_at) if next_at else words.next_unknown
    counters = tuple(
        Counter(words.counter_names.get(k, k), int(v))
        for k, v in (doc.get("counters") or {}).items()
    )
    return PageView(
        on_panel=on_panel,
        data_changed=data_changed,
        sources=tuple(sources),
        refreshes=tuple(refreshes),
        next_run=next_run,
        counters=counters,
    )


__all__ = [
    "RECENT_SHOWN",
    "Counter",
    "PageView",
    "RefreshLine",
    "SourceLine",
    "age_text",
    "clock_time",
    "page_view",
    "parse_time",
    "plain_error",
    "when_text",
]
