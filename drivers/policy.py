"""When to push a frame to the panel: skip unchanged frames, space refreshes, refresh daily."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

PushOutcome = Literal["push", "unchanged", "defer"]

# Waveshare: at least 180 s between refreshes and at least one refresh every 24 h.
PANEL_MIN_INTERVAL = timedelta(seconds=180)
MAX_UNCHANGED = timedelta(hours=24)


@dataclass(frozen=True)
class PushDecision:
    """The outcome of ``decide_push``: push now, skip an unchanged frame, or wait."""

    outcome: PushOutcome
    reason: str
    not_before: datetime | None = None  # for "defer": the first moment the push is allowed

    @property
    def should_push(self) -> bool:
        """True when the frame should be sent to the panel now."""
        return self.outcome == "push"


def _as_timedelta(value: timedelta | float) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def decide_push(
    *,
    sha256: str,
    now: datetime,
    last_sha256: str | None,
    last_push_at: datetime | None,
    min_interval: timedelta | float,
    max_unchanged: timedelta | float = MAX_UNCHANGED,
    force: bool = False,
) -> PushDecision:
    """Decide whether a frame with packed-bytes hash ``sha256`` should be pushed at ``now``.

    - ``force`` always pushes; so does the first push (no record of a previous one).
    - A frame identical to the last push is skipped, unless ``max_unchanged`` has passed since
      that push: the panel then gets its periodic full refresh.
    - A changed frame less than ``min_interval`` after the last push is deferred to
      ``last_push_at + min_interval`` (never dropped: the caller tries again then).
    - If the clock reads earlier than the last push (a Pi has no battery clock and may boot with
      a stale time), the stored time is not trusted: a changed frame is pushed, rather than
      waiting on a moment that may be hours away.
    """
    min_gap = _as_timedelta(min_interval)
    if force:
        return PushDecision("push", "forced")
    if last_sha256 is None or last_push_at is None:
        return PushDecision("push", "no previous push recorded")
    elapsed = now - last_push_at
    clock_went_back = elapsed < timedelta(0)
    if sha256 == last_sha256:
        if not clock_went_back and elapsed >= _as_timedelta(max_unchanged):
            return PushDecision("push", "periodic full refresh of an unchanged frame")
        return PushDecision("unchanged", "frame identical to the last push")
    if clock_went_back:
        return PushDecision("push", "frame changed; clock is earlier than the last push")
    if elapsed < min_gap:
        return PushDecision(
            "defer",
            f"frame changed less than {min_gap.total_seconds():g} s after the last push",
            not_before=last_push_at + min_gap,
        )
    return PushDecision("push", "frame changed")
