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
#: The outcomes a refresh records (anything else is shown as a failure).
OUTCOMES = ("pushed", "unchanged", "deferred", "skipped-locked", "failed")


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
    value: str  # in the locale's digits


@dataclass(frozen=True)
class PageView:
    """Everything the page shows apart from the frame itself."""

    on_panel: str | None
    data_changed: str
    sources: tuple[SourceLine, ...]
    refreshes: tuple[RefreshLine, ...]
    next_run: str
    counters: tuple[Counter, ...]


def outcome_text(outcome: str, words: PageWords) -> str:
    """A refresh's outcome in the page's language (an unknown one as it is)."""
    pgettext = words.pgettext
    names = {
        "pushed": pgettext("outcome", "new frame"),
        "unchanged": pgettext("outcome", "unchanged"),
        "deferred": pgettext("outcome", "deferred"),
        "skipped-locked": pgettext("outcome", "skipped (another was running)"),
        "failed": pgettext("outcome", "failed"),
    }
    return names.get(outcome, outcome)


def _counter_name(name: str, words: PageWords) -> str:
    pgettext = words.pgettext
    names = {
        "started": pgettext("counter", "started"),
        "completed": pgettext("counter", "completed"),
        "skipped_locked": pgettext("counter", "skipped"),
        "expired": pgettext("counter", "expired"),
        "pushes": pgettext("counter", "pushes"),
        "unchanged": pgettext("counter", "unchanged"),
    }
    return names.get(name, name)


def _trigger(trigger: str, words: PageWords) -> str:
    """What started a refresh (``schedule``, ``web`` ...) in plain words."""
    pgettext = words.pgettext
    names = {
        "schedule": pgettext("trigger", "scheduled"),
        "start": pgettext("trigger", "at start-up"),
        "deferred": pgettext("trigger", "deferred frame"),
        "fallback": pgettext("trigger", "fallback timer"),
        "manual": pgettext("trigger", "command line"),
        "web": pgettext("trigger", "this page"),
        "display-test": pgettext("trigger", "test pattern"),
        "display-clear": pgettext("trigger", "clear panel"),
    }
    return names.get(trigger, trigger)


def _http_reason(reason: str, words: PageWords) -> str:
    """The words the sources give an HTTP status (``not authorised``), translated."""
    pgettext = words.pgettext
    names = {
        "bad request": pgettext("HTTP status", "bad request"),
        "not authorised": pgettext("HTTP status", "not authorised"),
        "access denied": pgettext("HTTP status", "access denied"),
        "not found": pgettext("HTTP status", "not found"),
        "gone": pgettext("HTTP status", "gone"),
        "rate limited": pgettext("HTTP status", "rate limited"),
        "server error": pgettext("HTTP status", "server error"),
        "bad gateway": pgettext("HTTP status", "bad gateway"),
        "service unavailable": pgettext("HTTP status", "service unavailable"),
        "gateway timeout": pgettext("HTTP status", "gateway timeout"),
        "error": pgettext("HTTP status", "error"),
    }
    return names.get(reason, reason)


_HTTP = re.compile(r"HTTP (\d{3})(?: ([^:]+))?(?:: (.*))?")


def plain_error(name: str, error: str | None, words: PageWords) -> str | None:
    """A source's last error in plain words, with what to do about it.

    ``Family: HTTP 401 not authorised`` becomes ``the server said 401 (not authorised):
    check the password file``.
    """
    if not error:
        return None
    _ = words._
    reason = error.removeprefix(f"{name}: ")
    match = _HTTP.search(reason)
    if match:
        code = int(match.group(1))
        said = _("the server said {code}", code=code)
        if match.group(2):
            said = _(
                "{said} ({reason})", said=said, reason=_http_reason(match.group(2).strip(), words)
            )
        if code in (401, 403):
            hint = _("check the password file")
        elif code in (404, 410):
            hint = _("check the address")
        elif code >= 500 or code == 429:
            hint = _("the server has trouble; it is tried again at every refresh")
        else:
            return said
        return _("{problem}: {hint}", problem=said, hint=hint)
    low = reason.lower()
    if "host not found" in low or "invalid url" in low:
        hint = _("check the address")
    elif any(
        w in low
        for w in ("refused", "timed out", "network", "unreachable", "tls error", "connection")
    ):
        hint = _("check the network")
    elif "cannot read" in low or "is empty" in low or "not utf-8" in low:
        hint = _("check the file")
    else:
        return reason
    return _("{problem}: {hint}", problem=reason, hint=hint)


def _source_name(name: str, words: PageWords) -> str:
    if name == "weather":
        return words._("Weather")
    if name == "special":
        return words._("Special days")
    if name == "holidays":
        return words._("Holidays")
    return name


def _seconds(value: Any, words: PageWords) -> str:
    try:
        return words.seconds(float(value))
    except (TypeError, ValueError):
        return "?"


def page_view(
    doc: dict[str, Any],
    frame_meta: dict[str, Any] | None,
    *,
    tz: tzinfo,
    words: PageWords,
) -> PageView:
    """The page's content from the status document and the kept frame's meta data."""
    _ = words._
    pgettext = words.pgettext
    now = parse_time(doc.get("now")) or datetime.now(tz)

    def when(text: Any) -> str | None:
        moment = parse_time(text)
        return None if moment is None else words.moment(moment, now, tz)

    on_panel = None
    if frame_meta is not None:
        on_panel = _("On the panel since {when}", when=when(frame_meta.get("pushed_at")) or "?")
        what = frame_meta.get("what")
        if what == "test":
            on_panel = _("{text} (test pattern)", text=on_panel)
        elif what == "clear":
            on_panel = _("{text} (cleared panel)", text=on_panel)
    changed = when(doc.get("updated_at"))
    data_changed = _("Data last changed {when}", when=changed) if changed else _("No data yet")

    statuses = {
        "fresh": pgettext("source", "up to date"),
        "stale": pgettext("source", "out of date"),
        "unavailable": pgettext("source", "no data"),
    }
    sources = []
    for name, src in (doc.get("sources") or {}).items():
        status = src.get("status") if src.get("status") in ("fresh", "stale") else "unavailable"
        age = src.get("age_seconds")
        sources.append(
            SourceLine(
                name=_source_name(name, words),
                status=status,
                status_text=statuses[status],
                age_text=(
                    _("fetched {age}", age=words.relative(float(age)))
                    if age is not None
                    else _("never fetched")
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
                trigger=_trigger(str(rec.get("trigger") or ""), words),
                outcome=outcome if outcome in OUTCOMES else "failed",
                outcome_text=outcome_text(outcome, words),
                seconds=_seconds(total, words),
                durations=_(
                    "fetch {fetch}, render {render}, push {push}",
                    fetch=_seconds(rec.get("fetch_s"), words),
                    render=_seconds(rec.get("render_s"), words),
                    push=_seconds(rec.get("push_s"), words),
                ),
                error=rec.get("error"),
            )
        )

    next_at = when(doc.get("next_run"))
    next_run = (
        _("Next scheduled refresh: {when}", when=next_at)
        if next_at
        else _("Next scheduled refresh: unknown (is the service running?)")
    )
    counters = tuple(
        Counter(_counter_name(k, words), words.number(int(v)))
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
    "OUTCOMES",
    "outcome_text",
    "page_view",
    "parse_time",
    "plain_error",
]
